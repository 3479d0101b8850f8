// POST /containers/create (moby api/server/router/container, daemon/create.go): resolves the image, unpacks its
// layers into snapshots, joins the network, resolves volumes, and has the runtime prepare the container; the
// record (container-store.ts) keeps docker's view of it.
import { randomBytes } from 'node:crypto';
import { invalidArgument, isKind } from '../../errors/index.ts';
import { runtimeStatus, validateRestartPolicy, type MountSpec, type RestartPolicy, steps } from '../../runtime/index.ts';
import type { Context } from '../router.ts';
import type { Services } from '../services.ts';
import { containerStore, type ContainerRecord, type CreateBody, type HostConfig } from './container-store.ts';
import { volumesOf } from './volumes.ts';
import { publish, volumeCreated } from './container-events.ts';
import { joinNetwork, leaveNetwork, takePrepared, type Joined } from './networks.ts';

export const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

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

export async function create(ctx: Context): Promise<void> {
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
  const imageCfg = cfg as { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string; StopSignal?: string };
  const entrypoint = body.Entrypoint ?? undefined;
  const cmd = body.Cmd?.length ? body.Cmd : undefined;
  const argv = [...(entrypoint ?? imageCfg.Entrypoint ?? []), ...(cmd ?? (entrypoint ? [] : imageCfg.Cmd ?? []))];
  if (argv.length === 0) throw invalidArgument('no command specified', { code: 'NO_COMMAND' });
  const exposed = { ...(cfg as { ExposedPorts?: object }).ExposedPorts, ...(body.ExposedPorts as object | undefined) };
  // a default-bridge endpoint made ahead gives the container its id (routes/networks.ts takePrepared)
  const prepared = await takePrepared(s, body, hc, exposed);
  const id = prepared?.id ?? randomBytes(32).toString('hex');
  let joined: Joined | undefined;
  let rootfsMounts: Awaited<ReturnType<typeof s.snapshots.mounts>>;
  let resolved: ResolvedMount[];
  try {
    // --rm: no syncfs of the host filesystem when the overlay is unmounted at exit (tens to hundreds of ms while the
    // machine writes back); its writable layer is thrown away anyway (podman mounts --rm containers so)
    rootfsMounts = await s.snapshots.mounts(chain, s.runtime.upperDir(id), s.runtime.workDir(id), { volatile: !!hc.AutoRemove });
    t.mark('snapshots');
    // the default bridge unless --network says otherwise, -p/-P ports (routes/networks.ts)
    joined = await joinNetwork(s, id, name.slice(1), body, hc, exposed, prepared);
    // anonymous volumes: the image's VOLUMEs and the client's Config.Volumes (`docker run -v /data`)
    const anonymous = [...new Set([...Object.keys((cfg as { Volumes?: Record<string, unknown> }).Volumes ?? {}), ...Object.keys((body as { Volumes?: Record<string, unknown> | null }).Volumes ?? {})])];
    resolved = await resolveMounts(s, hc, anonymous);
  } catch (e) {
    if (joined) await joined.undo();
    else if (prepared) await leaveNetwork(s, id);
    throw e;
  }
  const mounts = resolved.map((m) => m.spec);
  t.mark('network+volumes');
  try {
    await s.runtime.create({
      id, chain, rootfsMounts, image: imageCfg, cmd, entrypoint, env: body.Env ?? undefined, user: body.User || undefined,
      workdir: body.WorkingDir || undefined, hostname: joined.hostname || body.Hostname || undefined, domainname: body.Domainname || undefined,
      tty: !!body.Tty, openStdin: !!body.OpenStdin, stdinOnce: !!body.StdinOnce, privileged: !!hc.Privileged,
      capAdd: hc.CapAdd ?? undefined, capDrop: hc.CapDrop ?? undefined, readOnly: !!hc.ReadonlyRootfs,
      tmpfs: hc.Tmpfs ?? undefined, mounts, memory: hc.Memory || undefined, memorySwap: hc.MemorySwap || undefined,
      nanoCpus: hc.NanoCpus || undefined, cpuShares: hc.CpuShares || undefined, pidsLimit: hc.PidsLimit || undefined,
      ulimits: hc.Ulimits?.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      init: hc.Init ? runtimeStatus().init : undefined, network: joined.network, deferLaunch: joined.deferLaunch, resolvConf: joined.resolvConf, labels: body.Labels ?? undefined,
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
      ...body, Hostname: joined.hostname || body.Hostname || id.slice(0, 12), Env: imageCfg.Env?.length || env.length ? mergeEnv(env, imageCfg.Env ?? []) : null,
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
