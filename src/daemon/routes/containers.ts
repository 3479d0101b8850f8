// Container routes (swagger tag "Container", moby api/server/router/container): create, start, wait, lifecycle,
// list, inspect, delete, rename, resize, top, changes, prune. Streams (attach, logs) are in container-io.ts.
// The runtime (src/runtime) runs them; container-store.ts keeps docker's record (name, Config, HostConfig).
import { randomBytes } from 'node:crypto';
import { invalidArgument, conflict, isKind, notFound } from '../../errors/index.ts';
import { constants as osConstants } from 'node:os';
import {
  DEFAULT_PATH, runtimeStatus, top as topOf, type ContainerState, type MountSpec,
  restartDelay, validateRestartPolicy, type RestartPolicy, steps,
} from '../../runtime/index.ts';
import type { Router, Context } from '../router.ts';
import type { Services } from '../services.ts';
import { containerStore, runningCache, onLoad, stateOf, type ContainerRecord, type CreateBody, type HostConfig } from './container-store.ts';
import { attachRoute, attachPlain, logsRoute } from './container-io.ts';
import { volumesOf, removeAnonymousVolumes } from './volumes.ts';
import { statsRoute } from './stats.ts';
import { list, inspect } from './container-views.ts';
import { dirBytes } from '../../fsutil/index.ts';
import { beforeStart, afterDie, volumeCreated, dieLogged } from './container-events.ts';
import { joinNetwork, leaveNetwork } from './networks.ts';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** docker's events name signals by number ("15", "9"); names and numbers both accepted. */
function signalNumber(sig: string): string {
  if (/^\d+$/.test(sig)) return sig;
  const name = (sig.startsWith('SIG') ? sig : `SIG${sig}`).toUpperCase() as keyof typeof osConstants.signals;
  return String(osConstants.signals[name] ?? sig);
}

function publish(s: Services, r: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  if (action === 'start') beforeStart(s, r);
  s.events.publish({ Type: 'container', Action: action, id: r.Id, attributes: { ...(r.Config.Labels ?? {}), image: r.ImageName, name: r.Name.slice(1), ...extra } });
  if (action === 'die') afterDie(s, r);
}

/** Docker's generated names are adjective_surname; a short random one of that shape is enough here. */
function generatedName(): string {
  const a = ['brave', 'calm', 'eager', 'fond', 'keen', 'quirky', 'vivid', 'wise', 'zen', 'jolly'];
  const b = ['turing', 'hopper', 'lovelace', 'curie', 'noether', 'ritchie', 'thompson', 'knuth', 'dijkstra', 'hamilton'];
  const pick = (l: string[]) => l[randomBytes(1)[0]! % l.length]!;
  return `/${pick(a)}_${pick(b)}${randomBytes(2).readUInt16BE() % 100}`;
}

interface ResolvedMount { spec: MountSpec; volume?: string }

/** -v / --mount: host paths bind as is; a name is a local volume (created on first use, filled from the image). */
async function resolveMounts(s: Services, hc: HostConfig, imageVolumes: string[]): Promise<ResolvedMount[]> {
  const out: ResolvedMount[] = [];
  const vol = async (name: string | undefined, target: string, readOnly: boolean): Promise<void> => {
    const v = await volumesOf(s).create(name ? { name } : {});
    volumeCreated(s, v.Name);
    out.push({ spec: { type: 'volume', source: v.Mountpoint, target, readOnly }, volume: v.Name });
  };
  for (const b of hc.Binds ?? []) {
    const [src, dst, mode] = b.split(':');
    if (!src || !dst) throw invalidArgument(`invalid volume specification: '${b}'`);
    const ro = (mode ?? '').split(',').includes('ro');
    if (src.startsWith('/')) out.push({ spec: { type: 'bind', source: src, target: dst, readOnly: ro } });
    else await vol(src, dst, ro);
  }
  for (const m of hc.Mounts ?? []) {
    if (m.Type === 'bind' && m.Source && m.Target) out.push({ spec: { type: 'bind', source: m.Source, target: m.Target, readOnly: !!m.ReadOnly } });
    else if (m.Type === 'volume' && m.Target) await vol(m.Source || undefined, m.Target, !!m.ReadOnly);
    else if (m.Type === 'tmpfs' && m.Target) out.push({ spec: { type: 'tmpfs', target: m.Target } });
  }
  // the image's VOLUMEs not covered by a mount get anonymous volumes, as docker
  for (const t of imageVolumes) if (!out.some((m) => m.spec.target === t)) await vol(undefined, t, false);
  return out;
}

/**
 * A missing command in docker's words: the docker CLI maps "executable file not found" to exit 127 (and "no such
 * file or directory" to 127, "permission denied" to 126) by reading this text.
 */
function execError(e: unknown, cmd: string): unknown {
  if (isKind(e, 'InvalidArgument', 'EXEC_NOT_FOUND')) {
    // a path is stat'ed, a bare name searched in $PATH (runc's wording, as dockerd reports it)
    const why = cmd.includes('/') ? `stat ${cmd}: no such file or directory` : 'executable file not found in $PATH';
    return invalidArgument(`failed to create task for container: OCI runtime create failed: exec: "${cmd}": ${why}: unknown`, { code: 'EXEC_NOT_FOUND' });
  }
  if (isKind(e, 'InvalidArgument', 'EXEC_PERMISSION')) {
    return invalidArgument(`failed to create task for container: OCI runtime create failed: exec: "${cmd}": permission denied: unknown`, { code: 'EXEC_PERMISSION' });
  }
  return e;
}

/** moby's create merges the client's -e first, then the image's variables it did not set. */
function mergeEnv(user: string[], image: string[]): string[] {
  const key = (e: string) => e.split('=', 1)[0];
  const set = new Set(user.map(key));
  return [...user, ...image.filter((e) => !set.has(key(e)))];
}

/**
 * Image configs by ID, for create: an ID is the digest of the config, so an entry never goes stale; reading
 * and validating the blob again was a few ms of every `run` under load. Bounded: the oldest entry goes first.
 */
const configs = new WeakMap<Services, Map<string, ReturnType<Services['images']['configOf']>>>();
function imageConfig(s: Services, id: string): ReturnType<Services['images']['configOf']> {
  let m = configs.get(s);
  if (!m) { m = new Map(); configs.set(s, m); }
  let p = m.get(id);
  if (!p) {
    p = s.images.configOf(id as never);
    p.catch(() => m.delete(id));
    m.set(id, p);
    if (m.size > 64) m.delete(m.keys().next().value!);
  }
  return p;
}

async function create(ctx: Context): Promise<void> {
  const s = ctx.services;
  const t = steps(s.runtime.timings, 'route create', '');
  const store = await containerStore(s);
  const body = (await ctx.readJSON<CreateBody>()) ?? {};
  const rawName = ctx.query.get('name') ?? '';
  if (rawName && !NAME_RE.test(rawName)) throw invalidArgument(`Invalid container name (${rawName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const name = rawName ? (rawName.startsWith('/') ? rawName : `/${rawName}`) : generatedName();
  store.checkName(name);
  if (!body.Image) throw invalidArgument('config cannot be empty in order to create a container');
  const { record: img } = s.images.resolve(body.Image);
  const cfg = (await imageConfig(s, img.id)).config ?? {};
  const hc: HostConfig = body.HostConfig ?? {};
  const policy = (hc.RestartPolicy ?? { Name: '' }) as RestartPolicy;
  validateRestartPolicy({ Name: policy.Name ?? '', MaximumRetryCount: policy.MaximumRetryCount });
  if (hc.AutoRemove && policy.Name && policy.Name !== 'no') throw invalidArgument(`can't create 'AutoRemove' container with restart policy`);
  t.mark('image');
  const chain = await s.snapshots.unpackImage(s.content, img.layers.map((l) => ({ digest: l.digest, diffId: l.diffId })));
  const id = randomBytes(32).toString('hex');
  // --rm: no syncfs of the host filesystem when the overlay is unmounted at exit (tens to hundreds of ms while the
  // machine writes back); its writable layer is thrown away anyway (podman mounts --rm containers so)
  const rootfsMounts = await s.snapshots.mounts(chain, s.runtime.upperDir(id), s.runtime.workDir(id), { volatile: !!hc.AutoRemove });
  t.mark('snapshots');
  const imageCfg = cfg as { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string; StopSignal?: string };
  const entrypoint = body.Entrypoint ?? undefined;
  const cmd = body.Cmd?.length ? body.Cmd : undefined;
  const argv = [...(entrypoint ?? imageCfg.Entrypoint ?? []), ...(cmd ?? (entrypoint ? [] : imageCfg.Cmd ?? []))];
  if (argv.length === 0) throw invalidArgument('no command specified', { code: 'NO_COMMAND' });
  // the default bridge unless --network says otherwise, -p/-P ports (routes/networks.ts)
  const joined = await joinNetwork(s, id, name.slice(1), hc, { ...(cfg as { ExposedPorts?: object }).ExposedPorts, ...(body.ExposedPorts as object | undefined) });
  // anonymous volumes: the image's VOLUMEs and the client's Config.Volumes (`docker run -v /data`)
  const anonymous = [...new Set([...Object.keys((cfg as { Volumes?: Record<string, unknown> }).Volumes ?? {}), ...Object.keys((body as { Volumes?: Record<string, unknown> | null }).Volumes ?? {})])];
  const resolved = await resolveMounts(s, hc, anonymous);
  const mounts = resolved.map((m) => m.spec);
  t.mark('network+volumes');
  try {
    await s.runtime.create({
      id, chain, rootfsMounts, image: imageCfg, cmd, entrypoint, env: body.Env ?? undefined, user: body.User || undefined,
      workdir: body.WorkingDir || undefined, hostname: body.Hostname || undefined, domainname: body.Domainname || undefined,
      tty: !!body.Tty, openStdin: !!body.OpenStdin, stdinOnce: !!body.StdinOnce, privileged: !!hc.Privileged,
      capAdd: hc.CapAdd ?? undefined, capDrop: hc.CapDrop ?? undefined, readOnly: !!hc.ReadonlyRootfs,
      tmpfs: hc.Tmpfs ?? undefined, mounts, memory: hc.Memory || undefined, memorySwap: hc.MemorySwap || undefined,
      nanoCpus: hc.NanoCpus || undefined, cpuShares: hc.CpuShares || undefined, pidsLimit: hc.PidsLimit || undefined,
      ulimits: hc.Ulimits?.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      init: hc.Init ? runtimeStatus().init : undefined, network: joined.network, resolvConf: joined.resolvConf, labels: body.Labels ?? undefined,
      extraHosts: hc.ExtraHosts?.map((h) => { const i = h.indexOf(':'); return `${h.slice(i + 1)}\t${h.slice(0, i)}`; }),
      consoleSize: hc.ConsoleSize && hc.ConsoleSize[0] ? { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] } : undefined,
    });
  } catch (e) {
    await joined.undo();
    throw execError(e, argv[0]!);
  }
  t.mark('runtime');
  // docker's copy-up: an empty volume first mounted over an image path gets the image's files there
  for (const m of resolved) if (m.volume) await volumesOf(s).populate(m.volume, s.runtime.rootfs(id), m.spec.target).catch(() => false);
  const env = body.Env ?? [];
  const rec: ContainerRecord = {
    Id: id, Name: name, Created: new Date().toISOString(), Image: img.id, ImageName: body.Image,
    Path: argv[0]!, Args: argv.slice(1),
    Config: {
      ...body, Hostname: body.Hostname || id.slice(0, 12), Env: imageCfg.Env?.length || env.length ? mergeEnv(env, imageCfg.Env ?? []) : null,
      Cmd: cmd ?? (entrypoint ? null : imageCfg.Cmd ?? null), Entrypoint: entrypoint ?? imageCfg.Entrypoint ?? null,
      WorkingDir: body.WorkingDir || imageCfg.WorkingDir || '', Labels: { ...((cfg as { Labels?: Record<string, string> | null }).Labels ?? {}), ...(body.Labels ?? {}) }, HostConfig: undefined,
    },
    HostConfig: { NetworkMode: 'default', ...hc },
    Mounts: resolved.filter((m) => m.spec.type !== 'tmpfs').map(({ spec: m, volume }) => ({
      Type: m.type, ...(volume ? { Name: volume, Driver: 'local' } : {}), Source: m.source!, Destination: m.target,
      Mode: m.readOnly ? 'ro' : volume ? 'z' : '', RW: !m.readOnly, Propagation: volume ? '' : 'rprivate',
    })),
    RestartCount: 0,
    ...joined.record,
  };
  await store.put(rec);
  t.mark('record');
  t.done();
  publish(s, rec, 'create');
  ctx.json({ Id: id, Warnings: [] }, 201);
}

const monitored = new WeakMap<Services, Map<string, { delay: number }>>();
/** Containers a restart request is stopping: their exit is not an end (--rm does not remove them: moby's HasBeenManuallyRestarted). */
const restarting = new Set<string>();

/**
 * Waits for the container to end, then publishes die and honours AutoRemove (--rm) and the restart policy
 * (runtime/restart.ts decides the delay). One monitor per container.
 */
function monitor(s: Services, r: ContainerRecord): void {
  let m = monitored.get(s);
  if (!m) { m = new Map(); monitored.set(s, m); }
  const mon = m;
  if (mon.has(r.Id) && mon.get(r.Id)!.delay < 0) return;
  const prev = mon.get(r.Id)?.delay ?? 0;
  mon.set(r.Id, { delay: -1 });
  void s.runtime.wait(r.Id).then(async (st) => {
    runningCache.set(r.Id, st);
    publish(s, r, 'die', { exitCode: String(st.exitCode) });
    if (restarting.has(r.Id)) { mon.delete(r.Id); return; }
    if (r.HostConfig.AutoRemove) {
      mon.delete(r.Id);
      const t = steps(s.runtime.timings, 'auto-remove', r.Id);
      await removeContainer(s, r, true);
      t.mark('removed');
      t.done();
      await removeAnonymousVolumes(s, r.Mounts); // --rm takes the anonymous volumes too
      return;
    }
    const policy = (r.HostConfig.RestartPolicy ?? { Name: '' }) as RestartPolicy;
    const delay = restartDelay({
      policy, exitCode: st.exitCode, restartCount: r.RestartCount, stoppedByUser: !!r.ManuallyStopped,
      ranMs: Date.parse(st.finishedAt) - Date.parse(st.startedAt), previousDelayMs: prev,
    });
    if (delay === undefined) { mon.delete(r.Id); return; }
    mon.set(r.Id, { delay });
    setTimeout(() => {
      void (async () => {
        const store = await containerStore(s);
        if (!store.all().includes(r) || r.ManuallyStopped) return;
        r.RestartCount++;
        await store.put(r);
        await s.runtime.start(r.Id);
        publish(s, r, 'start');
        monitor(s, r);
      })().catch((e) => s.log.error(`restart ${r.Id}: ${String(e)}`));
    }, delay).unref();
  }, () => { mon.delete(r.Id); });
}

/** Daemon start: watch running containers again, remove --rm ones that ended meanwhile, restart by policy. */
onLoad.push(async (s, store) => {
  for (const r of store.all()) {
    const st = await stateOf(s, r.Id).catch(() => undefined);
    if (!st) continue;
    if (st.status === 'running' || st.status === 'paused') { monitor(s, r); continue; }
    if (st.status === 'created') continue;
    if (r.HostConfig.AutoRemove) { await removeContainer(s, r, true); await removeAnonymousVolumes(s, r.Mounts); continue; }
    const policy = (r.HostConfig.RestartPolicy ?? { Name: '' }) as RestartPolicy;
    const delay = restartDelay({ policy, exitCode: st.exitCode, restartCount: r.RestartCount, stoppedByUser: !!r.ManuallyStopped, ranMs: 0, previousDelayMs: 0, daemonStart: true });
    if (delay !== undefined) {
      // an `always` container stopped by the user comes back here (docker), and is then restartable again
      if (r.ManuallyStopped) { r.ManuallyStopped = false; await store.put(r); }
      await s.runtime.start(r.Id);
      publish(s, r, 'start');
      monitor(s, r);
    }
  }
});

async function removeContainer(s: Services, r: ContainerRecord, force: boolean): Promise<void> {
  const store = await containerStore(s);
  await s.runtime.delete(r.Id, { force }).catch((e) => { if (!isKind(e, 'NotFound')) throw e; });
  if (r.NetworkIP) await leaveNetwork(s, r.Id);
  runningCache.delete(r.Id);
  store.removed(r.Id);
  publish(s, r, 'destroy');
}

async function start(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const before = await stateOf(s, r.Id);
  if (before.status === 'running' || before.status === 'paused') { ctx.empty(304); return; }
  if (r.ManuallyStopped) { r.ManuallyStopped = false; await (await containerStore(s)).put(r); }
  const st = await s.runtime.start(r.Id);
  runningCache.set(r.Id, st);
  publish(s, r, 'start');
  monitor(s, r);
  ctx.empty();
}

async function wait(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const r = store.get(ctx.params.id!);
  const condition = ctx.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalidArgument(`invalid condition: "${condition}"`);
  let st = await stateOf(s, r.Id);
  // headers first: docker's client returns from ContainerWait once they arrive, then starts the container
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  const ac = new AbortController();
  ctx.res.on('close', () => ac.abort());
  try {
    if (condition !== 'not-running' || st.status === 'running' || st.status === 'paused') st = await s.runtime.wait(r.Id, ac.signal);
    if (condition === 'removed') await store.whenRemoved(r.Id);
  } catch {
    if (ac.signal.aborted) return;
  }
  ctx.res.end(JSON.stringify({ StatusCode: st.exitCode, Error: null }) + '\n');
}

async function lifecycle(ctx: Context, op: 'kill' | 'stop' | 'restart' | 'pause' | 'unpause'): Promise<void> {
  const s = ctx.services;
  let r: ContainerRecord;
  try {
    r = (await containerStore(s)).get(ctx.params.id!);
  } catch (e) {
    // moby's kill route wraps every error: "Cannot kill container: NAME: No such container: NAME"
    if (op === 'kill' && isKind(e, 'NotFound')) throw notFound(`Cannot kill container: ${ctx.params.id}: ${(e as Error).message}`);
    throw e;
  }
  const rt = s.runtime;
  const st = await stateOf(s, r.Id);
  const running = st.status === 'running' || st.status === 'paused';
  const t = ctx.query.has('t') ? ctx.int('t', 10) : (r.Config.StopTimeout ?? 10);
  const sig = ctx.query.get('signal') || undefined;
  switch (op) {
    case 'kill':
      r.ManuallyStopped = true;
      await (await containerStore(s)).put(r);
      if (!running) throw conflict(`Cannot kill container: ${ctx.params.id}: Container ${r.Id} is not running`, { code: 'NOT_RUNNING' });
      await rt.kill(r.Id, sig ?? 'KILL');
      publish(s, r, 'kill', { signal: signalNumber(sig ?? 'KILL') });
      break;
    case 'stop':
      if (!running) { ctx.empty(304); return; }
      r.ManuallyStopped = true;
      await (await containerStore(s)).put(r);
      // dockerd logs the stop signal as a kill event first (the escalation to SIGKILL is the runtime's)
      publish(s, r, 'kill', { signal: signalNumber(sig ?? r.Config.StopSignal ?? 'TERM') });
      const died = dieLogged(r.Id); // dockerd logs "die" before "stop"; the monitor logs the die
      await rt.stop(r.Id, t, sig);
      await died;
      publish(s, r, 'stop');
      break;
    case 'restart':
      r.ManuallyStopped = true;
      restarting.add(r.Id);
      try {
        if (running) await rt.stop(r.Id, t, sig);
        r.ManuallyStopped = false;
        await (await containerStore(s)).put(r);
        await rt.start(r.Id);
      } finally {
        restarting.delete(r.Id);
      }
      r.RestartCount = 0;
      publish(s, r, 'restart');
      monitor(s, r);
      break;
    case 'pause':
      if (st.status === 'paused') throw conflict(`Container ${r.Id} is already paused`);
      await rt.pause(r.Id);
      publish(s, r, 'pause');
      break;
    case 'unpause':
      await rt.resume(r.Id);
      publish(s, r, 'unpause');
      break;
  }
  await stateOf(s, r.Id).catch(() => {});
  ctx.empty();
}

async function remove(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const st = await stateOf(s, r.Id);
  const force = ctx.bool('force');
  if ((st.status === 'running' || st.status === 'paused') && !force) {
    throw conflict(`cannot remove container "${r.Name}": container is ${st.status}: stop the container before removing or force remove`, { code: 'CONTAINER_RUNNING' });
  }
  await removeContainer(s, r, force);
  // rm -v: the container's anonymous volumes go with it (named ones stay), unless another container uses them
  if (ctx.bool('v')) await removeAnonymousVolumes(s, r.Mounts);
  ctx.empty();
}

async function rename(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const r = store.get(ctx.params.id!);
  const raw = ctx.query.get('name') ?? '';
  if (!NAME_RE.test(raw)) throw invalidArgument(`Invalid container name (${raw}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const name = raw.startsWith('/') ? raw : `/${raw}`;
  if (name === r.Name) throw invalidArgument(`Renaming a container with the same name as its current name`);
  store.checkName(name, r.Id);
  const old = r.Name;
  r.Name = name;
  await store.put(r);
  publish(s, r, 'rename', { oldName: old });
  ctx.empty();
}

async function resize(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  await s.runtime.resize(r.Id, ctx.int('h', 0), ctx.int('w', 0));
  ctx.empty(200);
}

async function top(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const st = await stateOf(s, r.Id);
  if (st.status !== 'running' && st.status !== 'paused') throw conflict(`Container ${r.Id} is not running`, { code: 'NOT_RUNNING' });
  ctx.json(await topOf(r.Id, ctx.query.get('ps_args') || '-ef'));
}

async function changesRoute(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  ctx.json(await s.runtime.changes(r.Id));
}

async function prune(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const r of store.all()) {
    const st = await stateOf(s, r.Id).catch(() => undefined);
    if (!st || st.status === 'running' || st.status === 'paused') continue;
    // docker's SpaceReclaimed: the removed containers' writable layers (SizeRw)
    reclaimed += await dirBytes(s.runtime.upperDir(r.Id));
    await removeContainer(s, r, false);
    deleted.push(r.Id);
  }
  ctx.json({ ContainersDeleted: deleted, SpaceReclaimed: reclaimed });
}

export default function register(r: Router): void {
  r.post('/containers/create', create);
  r.get('/containers/json', list);
  r.post('/containers/prune', prune);
  r.get('/containers/{id}/json', inspect);
  r.post('/containers/{id}/start', start);
  r.post('/containers/{id}/wait', wait);
  for (const op of ['kill', 'stop', 'restart', 'pause', 'unpause'] as const) r.post(`/containers/{id}/${op}`, (ctx) => lifecycle(ctx, op));
  r.post('/containers/{id}/rename', rename);
  r.post('/containers/{id}/resize', resize);
  r.get('/containers/{id}/top', top);
  r.get('/containers/{id}/changes', changesRoute);
  r.get('/containers/{id}/stats', statsRoute);
  r.get('/containers/{id}/logs', logsRoute);
  r.hijack('POST', '/containers/{id}/attach', attachRoute);
  r.post('/containers/{id}/attach', attachPlain);
  r.delete('/containers/{id}', remove);
}
