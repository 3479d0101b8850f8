// POST /containers/{id}/update (swagger ContainerUpdate; moby daemon/update.go): new cgroup limits, applied to a
// running container at once by the runtime (runtime/update.ts) and recorded in its HostConfig for inspect and
// the next start; a new RestartPolicy is recorded (the exit monitor reads it). Answers docker's
// {"Warnings": …} and publishes the `update` event.
import { existsSync } from 'node:fs';
import { invalidArgument } from '../../errors/index.ts';
import { updateResources, validateRestartPolicy, cgroupMode, type ResourceUpdate, type RestartPolicy } from '../../runtime/index.ts';
import type { Router, Context } from '../router.ts';
import { containerStore, stateOf } from './container-store.ts';

interface UpdateBody extends ResourceUpdate { RestartPolicy?: { Name?: string; MaximumRetryCount?: number } }

/** Whether the memory cgroup can limit swap (cgroup v1 memsw, or v2's memory.swap.max). */
function swapLimitSupported(): boolean {
  return cgroupMode() === 'v2' || existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
}

async function update(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const r = store.get(ctx.params.id!);
  const b = (await ctx.readJSON<UpdateBody>()) ?? {};
  const warnings: string[] = [];
  if (b.RestartPolicy && (b.RestartPolicy.Name ?? '') !== '') {
    const p = { Name: b.RestartPolicy.Name ?? '', MaximumRetryCount: b.RestartPolicy.MaximumRetryCount ?? 0 } as RestartPolicy;
    validateRestartPolicy(p);
    if (r.HostConfig.AutoRemove && p.Name !== 'no') {
      throw invalidArgument('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
  }
  const resources: ResourceUpdate = {
    Memory: b.Memory, MemorySwap: b.MemorySwap, MemoryReservation: b.MemoryReservation, NanoCpus: b.NanoCpus,
    CpuShares: b.CpuShares, CpuPeriod: b.CpuPeriod, CpuQuota: b.CpuQuota, CpusetCpus: b.CpusetCpus, CpusetMems: b.CpusetMems,
    PidsLimit: b.PidsLimit, BlkioWeight: b.BlkioWeight,
  };
  if (b.MemorySwap && b.MemorySwap > 0 && !swapLimitSupported()) {
    warnings.push('Your kernel does not support memory swap capabilities or the cgroup is not mounted. Memory swap limit discarded.');
    resources.MemorySwap = undefined;
  }
  if (Object.values(resources).some((v) => v !== undefined && v !== 0 && v !== '' && v !== null)) {
    const st = await stateOf(s, r.Id);
    await updateResources(s.runtime, r.Id, st.runtime, st.status === 'running' || st.status === 'paused', resources);
    for (const [k, v] of Object.entries(resources)) if (v !== undefined && v !== 0 && v !== '' && v !== null) r.HostConfig[k] = v;
  }
  if (b.RestartPolicy && (b.RestartPolicy.Name ?? '') !== '') r.HostConfig.RestartPolicy = b.RestartPolicy as RestartPolicy;
  await store.put(r);
  s.events.publish({ Type: 'container', Action: 'update', id: r.Id, attributes: { ...(r.Config.Labels ?? {}), image: r.ImageName, name: r.Name.slice(1) } });
  ctx.json({ Warnings: warnings.length ? warnings : null });
}

export default function register(r: Router): void {
  r.post('/containers/{id}/update', update);
}
