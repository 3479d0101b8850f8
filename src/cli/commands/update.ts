// `berth update` / `berth container update` (docker/cli cli/command/container/update.go): new resource limits
// and restart policy for one or more containers — each name printed on success, the daemon's Warnings after
// them, every error together at the end (exit 1); no flag at all is docker's "you must provide one or more flags".
import { defineCommand, type Opts } from '../spec.ts';
import { StatusError, UsageError, describeError } from '../errors.ts';
import { ramInBytes } from '../runopts.ts';

const USE = '[OPTIONS] CONTAINER [CONTAINER...]';

function invalid(flag: string, value: string, why: string): UsageError {
  return new UsageError(`invalid argument "${value}" for "${flag}" flag: ${why}\n\nUsage:  berth update ${USE}\n\nRun 'berth update --help' for more information`, 125);
}

/** A bytes flag: go-units RAMInBytes; --memory-swap also takes -1 (unlimited). */
function bytes(o: Opts, name: string, flag: string, allowUnlimited = false): number | undefined {
  if (!o.changed(name)) return undefined;
  const v = o.str(name);
  if (allowUnlimited && v === '-1') return -1;
  const n = ramInBytes(v);
  if (typeof n === 'string') throw invalid(flag, v, n);
  return n;
}

/** The ContainerUpdate body from the flags (only the flags given). */
export function updateBody(o: Opts): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const set = (k: string, v: unknown) => { if (v !== undefined) body[k] = v; };
  set('Memory', bytes(o, 'memory', '-m, --memory'));
  set('MemoryReservation', bytes(o, 'memory-reservation', '--memory-reservation'));
  set('MemorySwap', bytes(o, 'memory-swap', '--memory-swap', true));
  if (o.changed('cpus')) {
    const c = Number(o.str('cpus'));
    if (!Number.isFinite(c) || c < 0 || o.str('cpus').trim() === '') throw invalid('--cpus', o.str('cpus'), 'failed to parse as a rational number');
    body.NanoCpus = Math.round(c * 1e9);
  }
  for (const [flag, key] of [['cpu-shares', 'CpuShares'], ['cpu-period', 'CpuPeriod'], ['cpu-quota', 'CpuQuota'], ['cpu-rt-period', 'CpuRealtimePeriod'],
    ['cpu-rt-runtime', 'CpuRealtimeRuntime'], ['blkio-weight', 'BlkioWeight'], ['pids-limit', 'PidsLimit']] as const) {
    if (o.changed(flag)) body[key] = o.int(flag);
  }
  if (o.changed('cpuset-cpus')) body.CpusetCpus = o.str('cpuset-cpus');
  if (o.changed('cpuset-mems')) body.CpusetMems = o.str('cpuset-mems');
  if (o.changed('restart')) {
    const [name = '', count] = o.str('restart').split(':');
    body.RestartPolicy = { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
  }
  return body;
}

export const update = defineCommand({
  path: ['container', 'update'], aliases: [['update']], use: USE,
  short: 'Update configuration of one or more containers', args: { min: 1 },
  flags: [
    { name: 'blkio-weight', type: 'int', valueName: 'uint16', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable' },
    { name: 'cpu-period', type: 'int', valueName: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', valueName: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', valueName: 'int', help: 'Limit the CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', valueName: 'int', help: 'Limit the CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', valueName: 'int', help: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', valueName: 'decimal', help: 'Number of CPUs' },
    { name: 'cpuset-cpus', type: 'string', valueName: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', valueName: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', help: 'Memory limit' },
    { name: 'memory-reservation', type: 'string', valueName: 'bytes', help: 'Memory soft limit' },
    { name: 'memory-swap', type: 'string', valueName: 'bytes', help: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
    { name: 'pids-limit', type: 'int', valueName: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'restart', type: 'string', valueName: 'string', help: 'Restart policy to apply when a container exits' },
  ],
  async run(ctx, o, args) {
    const body = updateBody(o);
    if (Object.keys(body).length === 0) throw new StatusError('you must provide one or more flags when using this command', 1);
    const client = await ctx.client();
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const name of args) {
      try {
        const r = await client.json<{ Warnings?: string[] | null }>('POST', `/containers/${encodeURIComponent(name)}/update`, { body });
        warnings.push(...(r?.Warnings ?? []));
        await ctx.out(`${name}\n`);
      } catch (e) {
        errors.push(describeError(e).text);
      }
    }
    if (warnings.length) await ctx.out(`${warnings.join('\n')}\n`);
    if (errors.length) throw new StatusError(errors.join('\n'), 1);
  },
});
