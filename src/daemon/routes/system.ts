// System routes (swagger tag "System"): /_ping, /version, /info, /system/df, /events.
// The ping headers are what the docker CLI negotiates with (client/ping.go): Api-Version, Ostype,
// Builder-Version ("1": classic builder, so `docker build` uses /build without BuildKit), Docker-Experimental.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { versionBefore } from '../version.ts';
import { invalidArgument } from '../../errors/index.ts';
import { API_VERSION, MIN_API_VERSION, type SystemVersion, type SystemInfo, type SystemDf } from '../../api/index.ts';
import type { Router, Context } from '../router.ts';
import { EVENT_FILTERS, matchEvent, parseTimestamp } from '../events.ts';
import { systemDf, imageCount } from './images.ts';
import { volumesDf } from './volumes.ts';
import { registryInfo } from './distribution.ts';

export const BERTH_VERSION = '0.1.0';
const GIT_COMMIT = 'unknown';

function goArch(): string {
  const a = process.arch;
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

let osName: string | undefined;
function operatingSystem(): string {
  if (osName === undefined) {
    try {
      osName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
    } catch {
      osName = 'Linux';
    }
  }
  return osName;
}

function osVersion(): string {
  try {
    return /^VERSION_ID="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

function ping(ctx: Context): void {
  const body = ctx.req.method === 'HEAD' ? '' : 'OK';
  ctx.res.writeHead(200, {
    'Api-Version': API_VERSION,
    'Builder-Version': '1',
    'Docker-Experimental': String(ctx.services.config.experimental),
    'Ostype': 'linux',
    'Swarm': 'inactive',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    'Pragma': 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  ctx.res.end(body);
}

/** When this code was built: the bundle's (or, under tsx, this file's) modification time. */
let builtAt: string | undefined;
function buildTime(): string {
  if (builtAt === undefined) {
    try { builtAt = statSync(fileURLToPath(import.meta.url)).mtime.toISOString(); } catch { builtAt = new Date(0).toISOString(); }
  }
  return builtAt;
}

export function systemVersion(experimental: boolean): SystemVersion {
  const built = buildTime();
  const details = {
    ApiVersion: API_VERSION, Arch: goArch(), BuildTime: built, Experimental: String(experimental),
    GitCommit: GIT_COMMIT, GoVersion: process.version, KernelVersion: os.release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux',
  };
  return {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: details }],
    Version: BERTH_VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: GIT_COMMIT,
    GoVersion: process.version, Os: 'linux', Arch: goArch(), KernelVersion: os.release(), BuildTime: built,
    ...(experimental ? { Experimental: true } : {}),
  };
}

async function info(ctx: Context): Promise<void> {
  const s = ctx.services;
  const cfg = s.config;
  const cgroup2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const runtimes: SystemInfo['Runtimes'] = { crun: { path: 'crun' }, runc: { path: 'runc' } };
  for (const [name, r] of Object.entries(cfg.runtimes)) runtimes[name] = { path: r.path, runtimeArgs: r.runtimeArgs };
  const out: SystemInfo = {
    ID: s.engineId,
    Containers: 0, ContainersRunning: 0, ContainersPaused: 0, ContainersStopped: 0,
    Images: imageCount(s),
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
    DockerRootDir: s.layout.root,
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true, SwapLimit: false, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true,
    PidsLimit: true, OomKillDisable: !cgroup2, IPv4Forwarding: true, Debug: cfg.debug,
    NFd: 0, NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs', CgroupVersion: cgroup2 ? '2' : '1', NEventsListener: s.events.listenerCount,
    KernelVersion: os.release(), OperatingSystem: operatingSystem(), OSVersion: osVersion(), OSType: 'linux',
    Architecture: os.machine(), NCPU: os.cpus().length, MemTotal: os.totalmem(),
    IndexServerAddress: '',
    RegistryConfig: registryInfo(cfg),
    GenericResources: null, HttpProxy: process.env.HTTP_PROXY ?? '', HttpsProxy: process.env.HTTPS_PROXY ?? '',
    NoProxy: process.env.NO_PROXY ?? '', Name: os.hostname(), Labels: cfg.labels, ExperimentalBuild: cfg.experimental,
    ServerVersion: BERTH_VERSION, Runtimes: runtimes, DefaultRuntime: cfg['default-runtime'],
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: cfg['live-restore'], Isolation: '', InitBinary: 'catatonit',
    ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=builtin', ...(cgroup2 ? ['name=cgroupns'] : [])],
    Warnings: [],
  };
  for (const hook of s.hooks.info) await hook(out);
  // a nil slice in dockerd's Info: no warnings is null, not []
  if (!out.Warnings?.length) out.Warnings = null;
  ctx.json(out);
}

async function df(ctx: Context): Promise<void> {
  const types = new Set(ctx.query.getAll('type'));
  for (const t of types) {
    if (!['container', 'image', 'volume', 'build-cache'].includes(t)) throw invalidArgument(`unknown object type: ${t}`);
  }
  const out: SystemDf = { LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] };
  if (!types.size || types.has('image')) await systemDf(ctx, out);
  if (!types.size || types.has('volume')) out.Volumes = await volumesDf(ctx.services) as SystemDf['Volumes'];
  for (const hook of ctx.services.hooks.df) await hook(out, types);
  // dockerd 20.10 (API < 1.42) still sent the deprecated BuilderSize
  if (versionBefore(ctx.version, '1.42')) (out as SystemDf & { BuilderSize?: number }).BuilderSize = 0;
  ctx.json(out);
}

/** `GET /events`: replays recorded events after `since`, then streams live ones until `until` or disconnect. */
async function events(ctx: Context): Promise<void> {
  const f = ctx.filters(EVENT_FILTERS);
  const sinceQ = ctx.query.get('since');
  const untilQ = ctx.query.get('until');
  const since = sinceQ ? parseTimestamp(sinceQ) : undefined;
  const until = untilQ ? parseTimestamp(untilQ) : undefined;
  const { res } = ctx;
  const bus = ctx.services.events;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  const send = (e: object): void => { if (!res.writableEnded) res.write(JSON.stringify(e) + '\n'); };
  if (since !== undefined) for (const e of bus.recent(since, until)) if (matchEvent(e, f)) send(e);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  if (until !== undefined && until <= nowNs) { res.end(); return; }
  await new Promise<void>((resolve) => {
    const unsubscribe = bus.subscribe((e) => {
      if (until !== undefined && BigInt(e.timeNano) > until) return;
      if (matchEvent(e, f)) send(e);
    });
    const timer = until === undefined ? undefined : setTimeout(() => res.end(), Number((until - nowNs) / 1_000_000n));
    const offStop = ctx.onStop(() => res.end());
    const done = (): void => { unsubscribe(); offStop(); if (timer) clearTimeout(timer); resolve(); };
    res.once('close', done);
    res.once('finish', done);
  });
}

/**
 * `POST /system/fsck` (berth's own, for `berth system fsck`): re-hashes every blob and checks every image's
 * blobs are present. `remove=1` deletes corrupt blobs so a later pull or load can restore them.
 */
async function fsck(ctx: Context): Promise<void> {
  const r = await ctx.services.images.fsck({ remove: ctx.bool('remove') });
  ctx.json({
    Checked: r.checked,
    Bytes: r.bytes,
    Corrupt: [
      ...r.corrupt.map((c) => ({ Digest: c.digest, Reason: 'digest mismatch', Expected: c.digest, Actual: c.actual, Size: c.size })),
      ...r.missing.map((m) => ({ Digest: m.digest, Reason: `missing (needed by image ${m.image})` })),
    ],
    Stray: r.stray,
  });
}

export default function register(r: Router): void {
  r.post('/system/fsck', fsck);
  r.get('/_ping', ping);
  r.head('/_ping', ping);
  r.get('/version', (ctx) => ctx.json(systemVersion(ctx.services.config.experimental)));
  r.get('/info', info);
  r.get('/system/df', df);
  r.get('/events', events);
}
