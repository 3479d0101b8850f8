// `GET /containers/{id}/stats` (docker's StatsJSON from the container's cgroup; stream=false answers once with
// precpu from a sample taken a moment before, as docker's one-shot does not but the CLI's percentage needs).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { cgroupStats, type CgroupStats } from '../../runtime/index.ts';
import type { Context } from '../router.ts';
import type { Services } from '../services.ts';
import { containerStore } from './container-store.ts';

/** Host CPU time in ns (docker's system_cpu_usage: the /proc/stat cpu line in USER_HZ ticks × 1e9/100). */
async function systemCpu(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  return line.split(/\s+/).slice(1, 8).reduce((a, v) => a + Number(v || 0), 0) * 1e7;
}

interface Sample { at: string; cg: CgroupStats; sys: number }

async function sample(id: string): Promise<Sample> {
  return { at: new Date().toISOString(), cg: await cgroupStats(id).catch(() => ({ memoryUsage: 0, memoryLimit: 0, cpuUsageNs: 0, pids: 0 })), sys: await systemCpu() };
}

function cpu(s: Sample | undefined): Record<string, unknown> {
  return {
    cpu_usage: { total_usage: s?.cg.cpuUsageNs ?? 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: s?.sys ?? 0, online_cpus: os.cpus().length, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

function statsJSON(name: string, id: string, cur: Sample, pre: Sample | undefined): Record<string, unknown> {
  // no limit reads as cgroup v1's 2^63-4096 (v2: "max"): moby then reports the machine's memory
  const machine = os.totalmem();
  const limit = Number.isFinite(cur.cg.memoryLimit) && cur.cg.memoryLimit > 0 ? Math.min(cur.cg.memoryLimit, machine) : machine;
  return {
    name, id, read: cur.at, preread: pre?.at ?? '0001-01-01T00:00:00Z',
    pids_stats: { current: cur.cg.pids }, blkio_stats: { io_service_bytes_recursive: null },
    num_procs: 0, storage_stats: {}, cpu_stats: cpu(cur), precpu_stats: cpu(pre),
    memory_stats: { usage: cur.cg.memoryUsage, limit, stats: {} },
  };
}

export async function statsRoute(ctx: Context): Promise<void> {
  const s: Services = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const st = await s.runtime.inspect(r.Id);
  const running = st.status === 'running' || st.status === 'paused';
  const stream = ctx.query.has('stream') ? ctx.bool('stream') : true;
  const oneShot = ctx.bool('one-shot');
  if (!running) {
    // docker answers a stopped container with zeroed stats
    const zero: Sample = { at: new Date().toISOString(), cg: { memoryUsage: 0, memoryLimit: 0, cpuUsageNs: 0, pids: 0 }, sys: 0 };
    ctx.json(statsJSON(r.Name, r.Id, zero, undefined));
    return;
  }
  if (!stream) {
    let pre: Sample | undefined;
    if (!oneShot) {
      pre = await sample(r.Id);
      await new Promise((res) => setTimeout(res, 100));
    }
    ctx.json(statsJSON(r.Name, r.Id, await sample(r.Id), pre));
    return;
  }
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  let pre: Sample | undefined;
  let stopped = false;
  const stop = ctx.onStop(() => { stopped = true; ctx.res.end(); });
  ctx.res.on('close', () => { stopped = true; });
  try {
    while (!stopped) {
      const cur = await sample(r.Id);
      ctx.res.write(JSON.stringify(statsJSON(r.Name, r.Id, cur, pre)) + '\n');
      pre = cur;
      const now = await s.runtime.inspect(r.Id).catch(() => undefined);
      if (!now || (now.status !== 'running' && now.status !== 'paused')) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
  } finally {
    stop();
    if (!ctx.res.writableEnded) ctx.res.end();
  }
}
