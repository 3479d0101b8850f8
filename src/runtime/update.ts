// `docker update` (moby daemon/update.go + update_linux.go): new cgroup limits for a container. A running one
// gets them at once through `<runtime> update --resources` (the OCI LinuxResources JSON); running or not, they
// are written into the bundle's config.json too, so the next start keeps them. Docker's checks and texts.
import { writeFile, rename, mkdtemp, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { conflict, invalidArgument } from '../errors/index.ts';
import type { Runtime } from './containers.ts';
import { bundleFiles, runtimeCli } from './conmon.ts';

/** swagger ContainerUpdate's resource fields (0 / undefined = leave as is). */
export interface ResourceUpdate {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
}

interface OciResources {
  memory?: { limit?: number; swap?: number; reservation?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
  [k: string]: unknown;
}

/**
 * Docker's checks (verifyContainerResources, UpdateContainer) against the limits the container has now
 * (`current`, its spec's resources). InvalidArgument / Conflict with docker's messages.
 */
export function checkUpdate(u: ResourceUpdate, current: OciResources): void {
  if (u.Memory && u.Memory < 6 * 1024 * 1024) throw invalidArgument('Minimum memory limit allowed is 6MB');
  if (u.MemoryReservation && u.MemoryReservation < 6 * 1024 * 1024) throw invalidArgument('Minimum memory reservation allowed is 6MB');
  const memory = u.Memory || current.memory?.limit || 0;
  if (u.MemorySwap && u.MemorySwap > 0 && memory && u.MemorySwap < memory) {
    throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (u.MemorySwap && u.MemorySwap > 0 && !memory) throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  const swapNow = current.memory?.swap ?? 0;
  if (u.Memory && !u.MemorySwap && swapNow > 0 && u.Memory > swapNow) {
    throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  if (u.NanoCpus && (u.CpuQuota || u.CpuPeriod)) throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  const n = cpus().length;
  if (u.NanoCpus && (u.NanoCpus < 0 || u.NanoCpus > n * 1e9)) {
    throw invalidArgument(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  }
  if (u.CpuPeriod && (u.CpuPeriod < 1000 || u.CpuPeriod > 1_000_000)) throw invalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (u.CpuQuota && u.CpuQuota > 0 && u.CpuQuota < 1000) throw invalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (u.BlkioWeight && (u.BlkioWeight < 10 || u.BlkioWeight > 1000)) throw invalidArgument('Range of blkio weight is from 10 to 1000');
}

/** The container's resources with the update applied (the OCI spec's shapes; swap -1 = unlimited). */
export function applyUpdate(u: ResourceUpdate, current: OciResources): OciResources {
  const r: OciResources = { ...current };
  if (u.Memory || u.MemorySwap || u.MemoryReservation) {
    const m = { ...(current.memory ?? {}) };
    if (u.Memory) m.limit = u.Memory;
    if (u.MemorySwap) m.swap = u.MemorySwap;
    if (u.MemoryReservation) m.reservation = u.MemoryReservation;
    r.memory = m;
  }
  if (u.NanoCpus || u.CpuShares || u.CpuPeriod || u.CpuQuota || u.CpusetCpus || u.CpusetMems) {
    const c = { ...(current.cpu ?? {}) };
    if (u.CpuShares) c.shares = u.CpuShares;
    if (u.NanoCpus) { c.period = 100_000; c.quota = Math.round((u.NanoCpus / 1e9) * 100_000); }
    if (u.CpuPeriod) c.period = u.CpuPeriod;
    if (u.CpuQuota) c.quota = u.CpuQuota;
    if (u.CpusetCpus) c.cpus = u.CpusetCpus;
    if (u.CpusetMems) c.mems = u.CpusetMems;
    r.cpu = c;
  }
  // docker: 0 or null leaves it, -1 (or any negative) means unlimited
  if (u.PidsLimit) r.pids = { limit: u.PidsLimit < 0 ? -1 : u.PidsLimit };
  if (u.BlkioWeight) r.blockIO = { ...(current.blockIO ?? {}), weight: u.BlkioWeight };
  return r;
}

/**
 * Applies `u` to container `id`: checked, written into its config.json (atomically), and — when `running` —
 * given to the runtime, which changes the cgroup. Resolves with the new resources.
 */
export async function updateResources(rt: Runtime, id: string, runtime: 'crun' | 'runc', running: boolean, u: ResourceUpdate): Promise<OciResources> {
  const spec = await rt.spec(id) as { linux?: { resources?: OciResources } };
  const current = spec.linux?.resources ?? {};
  checkUpdate(u, current);
  const next = applyUpdate(u, current);
  if (running) {
    const dir = await mkdtemp(join(rt.dir(id), 'update-'));
    try {
      const f = join(dir, 'resources.json');
      // only the parts that change: devices rules stay as the runtime set them
      const { devices: _devices, ...changed } = next;
      await writeFile(f, JSON.stringify(changed));
      await runtimeCli(rt.runtimePath(runtime), rt.runtimeRoot(runtime), ['update', '--resources', f, id]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  spec.linux = { ...(spec.linux ?? {}), resources: next };
  const path = bundleFiles(rt.dir(id)).config;
  await writeFile(`${path}.tmp`, JSON.stringify(spec));
  await rename(`${path}.tmp`, path);
  return next;
}
