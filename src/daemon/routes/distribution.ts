// Registry routes (swagger tags "Image" and "Distribution"; moby api/server/router/image + distribution):
//   POST /images/create?fromImage=&tag=&platform=   pull (import with fromSrc is images.ts: PASS here)
//   POST /images/{name}/push?tag=                   push (no tag: every tag of the repository, `push -a`)
//   POST /auth                                      check credentials (`docker login`)
//   GET  /distribution/{name}/json                  the registry's descriptor and platforms of a reference
// Credentials come per request in X-Registry-Auth (base64url JSON AuthConfig), as docker sends them; the
// client side state (keep-alive agents, learned endpoints, blob sources for mounts) lives for the daemon.
import { invalidArgument, notFound, isKind } from '../../errors/index.ts';
import { isDigest, type Digest } from '../../digest/index.ts';
import {
  parseNormalizedNamed, withTag, withDigest, withDefaultTag, familiarName, familiar, toString, type Reference,
} from '../../reference/index.ts';
import { parsePlatform, parseManifest, parseImageConfig, type Platform } from '../../image/index.ts';
import { createLease, addLeaseResources, deleteLease } from '../../metadata/index.ts';
import {
  RegistryClient, Transport, BlobSources, pull, push, type Credentials, type ProgressEvent, type PullResult,
} from '../../distribution/index.ts';
import type { RegistryServiceConfig } from '../../api/index.ts';
import { PASS, type Router, type Context } from '../router.ts';
import type { Services } from '../services.ts';
import type { DaemonConfig } from '../config.ts';

/** swagger AuthConfig (what X-Registry-Auth and POST /auth carry). */
interface AuthConfig { username?: string; password?: string; serveraddress?: string; identitytoken?: string; registrytoken?: string; email?: string }

interface State { transport: Transport; sources: BlobSources }
export const CERTS_DIR = process.env.BERTH_CERTS_DIR ?? '/etc/berth/certs.d';
const states = new WeakMap<Services, State>();

function state(s: Services): State {
  let st = states.get(s);
  if (!st) {
    // per-registry CAs and client certificates as docker's /etc/docker/certs.d/<host:port>/
    st = { transport: new Transport({ insecureRegistries: s.config['insecure-registries'], certsDir: CERTS_DIR }), sources: new BlobSources() };
    states.set(s, st);
    const t = st.transport;
    // keep-alive sockets must not hold the daemon open when it stops
    process.once('beforeExit', () => t.close());
  }
  return st;
}

/** The registry host of a reference's domain ("host:port"). */
function hostOf(ref: Reference): string {
  return ref.domain;
}

/** Mirrors for a registry: `registry-mirrors` for docker.io (as dockerd), `registry-mirrors-for` for any host. */
export function mirrorsFor(cfg: DaemonConfig, domain: string): string[] {
  const per = (cfg['registry-mirrors-for'] ?? {})[domain] ?? [];
  return domain === 'docker.io' ? [...per, ...cfg['registry-mirrors']] : per;
}

/** RegistryConfig for /info: insecure registries and per-registry mirrors as docker's IndexConfigs. */
export function registryInfo(cfg: DaemonConfig): RegistryServiceConfig {
  const index: RegistryServiceConfig['IndexConfigs'] = {
    'docker.io': { Name: 'docker.io', Mirrors: cfg['registry-mirrors'], Secure: true, Official: true },
  };
  // as docker's registry config: CIDR entries are InsecureRegistryCIDRs (matched by resolved address), the
  // others index names
  const isCidr = (h: string) => /^[0-9a-f.:]+\/\d{1,3}$/i.test(h);
  const cidrs = cfg['insecure-registries'].filter(isCidr);
  for (const h of cfg['insecure-registries']) if (!isCidr(h)) index[h] = { Name: h, Mirrors: mirrorsFor(cfg, h), Secure: false, Official: false };
  for (const [h, m] of Object.entries(cfg['registry-mirrors-for'] ?? {})) {
    index[h] = { Name: h, Mirrors: h === 'docker.io' ? mirrorsFor(cfg, h) : m, Secure: !cfg['insecure-registries'].includes(h), Official: h === 'docker.io' };
  }
  const defaults = ['127.0.0.0/8', '::1/128'].filter((c) => !cidrs.includes(c));
  return { InsecureRegistryCIDRs: [...cidrs, ...defaults], IndexConfigs: index, Mirrors: cfg['registry-mirrors'] };
}

/** Decodes X-Registry-Auth (base64url or base64 JSON; empty or "{}" is anonymous). */
export function decodeAuthHeader(v: string | string[] | undefined): AuthConfig | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  try {
    const j = JSON.parse(Buffer.from(s, 'base64').toString('utf8')) as AuthConfig;
    return j && typeof j === 'object' ? j : undefined;
  } catch {
    return undefined; // docker ignores an undecodable header and goes anonymous
  }
}

function clientFor(ctx: Context, auth: AuthConfig | undefined): RegistryClient {
  const creds: Credentials | undefined = auth && (auth.username || auth.identitytoken || auth.registrytoken)
    ? { username: auth.username, password: auth.password, identitytoken: auth.identitytoken || undefined, registrytoken: auth.registrytoken || undefined }
    : undefined;
  return new RegistryClient({ transport: state(ctx.services).transport, credentials: () => creds });
}

/** Aborts when the client goes away before the work is done (docker cancels a pull whose client left). */
function abortOnClose(ctx: Context): { signal: AbortSignal; done(): void } {
  const ac = new AbortController();
  const onClose = () => { if (!ctx.res.writableEnded) ac.abort(new Error('client disconnected')); };
  ctx.res.on('close', onClose);
  return { signal: ac.signal, done: () => ctx.res.off('close', onClose) };
}

/** Runs a progress-streaming operation: an error before the first message is a plain HTTP error, as docker's. */
async function streamed(ctx: Context, fn: (emit: (e: ProgressEvent) => void, signal: AbortSignal) => Promise<void>): Promise<void> {
  const w = ctx.progress();
  let wrote = false;
  const emit = (e: ProgressEvent) => { wrote = true; void w.write(e); };
  const ab = abortOnClose(ctx);
  try {
    await fn(emit, ab.signal);
    w.end();
  } catch (e) {
    if (!wrote) throw e;
    w.fail(e);
  } finally {
    ab.done();
  }
}

async function pullOne(ctx: Context, client: RegistryClient, ref: Reference, platform: Platform | undefined, emit: (e: ProgressEvent) => void, signal: AbortSignal): Promise<PullResult> {
  const s = ctx.services;
  const images = s.images;
  const before = (() => { try { return images.resolve(toString(ref)).record.id; } catch { return undefined; } })();
  const lease = await createLease(s.metadata, { ttlMs: 24 * 3600_000 });
  // the snapshot GC's counterpart of the blob lease: layers unpacked (or found) before the image is recorded
  const held = s.snapshots.lease();
  try {
    return await pull(ref, {
      client, content: s.content, host: hostOf(ref), mirrors: mirrorsFor(s.config, ref.domain), platform,
      concurrency: s.config['max-concurrent-downloads'], signal, onProgress: emit, sources: state(s).sources,
      displayName: familiar(ref),
      beforeBlobs: (ds) => addLeaseResources(s.metadata, lease.id, ds),
      knownDiff: (d) => knownDiff(s, d),
      // as docker, a pull leaves the layers unpacked (snapshots), each teed off its download; with
      // "unpack-on-pull": false only blobs are stored (digest and diffID still verified as they stream in) and
      // the first container or build using the image unpacks them
      unpack: !s.config['unpack-on-pull'] ? undefined : async (u) => {
        held.add([u.chainId]);
        const info = await s.snapshots.unpack({
          chainId: u.chainId, ...(u.parent ? { parent: u.parent } : {}), diffId: u.diffId, source: u.source, signal, beforeCommit: u.verified,
        });
        return info.usage !== undefined ? { diffId: info.diffId, uncompressedSize: info.usage } : undefined;
      },
      register: async (r) => {
        // the tag (when pulled by tag) and, as docker records it, the repo digest
        const byDigest = withDigest({ domain: ref.domain, path: ref.path }, r.digest);
        const uncompressedSizes: Record<string, number> = {};
        r.layers.forEach((l, i) => { uncompressedSizes[l.digest] = r.layerInfo[i]!.uncompressedSize; });
        const target = r.index ?? r.manifest;
        const rec = await images.addImageFromManifest({
          target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
          names: ref.tag ? [{ domain: ref.domain, path: ref.path, tag: ref.tag }, byDigest] : [byDigest], uncompressedSizes, event: 'pull',
        });
        return rec.id !== before;
      },
    });
  } finally {
    held.release();
    await deleteLease(s.metadata, lease.id).catch(() => {});
  }
}

/**
 * Pulls `name` (default tag latest) anonymously with no progress output — the builder's hook for a FROM image
 * that is not present (wired in services.ts).
 */
export async function pullQuietly(s: Services, name: string, signal?: AbortSignal): Promise<void> {
  const ref = withDefaultTag(parseNormalizedNamed(name));
  const client = new RegistryClient({ transport: state(s).transport, credentials: () => undefined });
  try {
    await pullOne({ services: s } as Context, client, ref, undefined, () => {}, signal ?? new AbortController().signal);
  } finally {
    client.close();
  }
}

/** DiffID and size of a layer some image record already knows (skips re-reading it on pulls). */
function knownDiff(s: Services, digest: Digest): { diffId: Digest; uncompressedSize: number } | undefined {
  for (const r of s.images.records()) {
    const l = r.layers.find((x) => x.digest === digest);
    if (l) return { diffId: l.diffId, uncompressedSize: l.uncompressedSize };
  }
  return undefined;
}

async function create(ctx: Context): Promise<void | typeof PASS> {
  const from = ctx.query.get('fromImage');
  if (from === null) return PASS;
  const tag = ctx.query.get('tag') ?? '';
  let ref = parseNormalizedNamed(from);
  if (tag) ref = isDigest(tag) ? withDigest(ref, tag) : withTag(ref, tag);
  const plat = ctx.query.get('platform');
  const platform = plat ? parsePlatform(plat) : undefined;
  const client = clientFor(ctx, decodeAuthHeader(ctx.req.headers['x-registry-auth']));
  try {
    await streamed(ctx, async (emit, signal) => {
      if (ref.tag !== undefined || ref.digest !== undefined) { await pullOne(ctx, client, ref, platform, emit, signal); return; }
      // `docker pull -a`: every tag of the repository
      const tags = await client.repository(hostOf(ref), ref.path).tags(signal);
      for (const t of tags) await pullOne(ctx, client, withTag(ref, t), platform, emit, signal);
    });
  } finally {
    client.close();
  }
}

async function pushRoute(ctx: Context): Promise<void> {
  const s = ctx.services;
  const name = parseNormalizedNamed(ctx.params.name!);
  const tag = ctx.query.get('tag') ?? '';
  let refs: Reference[];
  if (tag || name.tag || name.digest) {
    const ref = tag ? withTag(name, tag) : withDefaultTag(name);
    refs = [ref];
  } else {
    // every local tag of this repository (`docker push -a`)
    refs = [];
    for (const r of s.images.records()) {
      for (const n of s.images.referencesOf(r.id)) if (n.tag && n.domain === name.domain && n.path === name.path) refs.push(n);
    }
    refs.sort((a, b) => a.tag!.localeCompare(b.tag!));
  }
  const found = refs.map((ref) => {
    try { return { ref, record: s.images.resolve(toString(ref)).record }; } catch (e) {
      if (isKind(e, 'NotFound')) return undefined;
      throw e;
    }
  });
  if (refs.length === 0 || found.some((f) => !f)) {
    throw notFound(`An image does not exist locally with the tag: ${familiarName(name)}`, { code: 'IMAGE_UNKNOWN' });
  }
  const client = clientFor(ctx, decodeAuthHeader(ctx.req.headers['x-registry-auth']));
  try {
    await streamed(ctx, async (emit, signal) => {
      for (const f of found) {
        const { ref, record } = f!;
        const r = await push(ref, { ...record.target }, {
          client, content: s.content, host: hostOf(ref), concurrency: s.config['max-concurrent-uploads'],
          signal, onProgress: emit, sources: state(s).sources,
        });
        // the image now has a repo digest in that repository (docker records it the same way)
        await s.images.addImage({
          config: record.id, target: record.target, manifest: record.manifest, layers: record.layers,
          names: [withDigest({ domain: ref.domain, path: ref.path }, r.digest)], created: record.created, labels: record.labels,
          ...(record.parent ? { parent: record.parent } : {}),
        });
        s.images.events.log('push', familiar(ref), familiar(ref), record.labels);
      }
    });
  } finally {
    client.close();
  }
}

/** The registry host a `docker login` server address names: scheme and path dropped. */
export function hostOfServerAddress(addr: string): string {
  return addr.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

async function auth(ctx: Context): Promise<void> {
  const body = await ctx.readJSON<AuthConfig>() ?? {};
  if (!body.serveraddress) throw invalidArgument('serveraddress is required', { code: 'INVALID_AUTH' });
  const host = hostOfServerAddress(body.serveraddress);
  const client = clientFor(ctx, body);
  try {
    await client.login(host);
  } finally {
    client.close();
  }
  ctx.json({ Status: 'Login Succeeded', IdentityToken: '' });
}

async function distributionInspect(ctx: Context): Promise<void> {
  const ref = withDefaultTag(parseNormalizedNamed(ctx.params.name!));
  const client = clientFor(ctx, decodeAuthHeader(ctx.req.headers['x-registry-auth']));
  try {
    const repo = client.repository(hostOf(ref), ref.path);
    const m = await repo.getManifest(ref.digest ?? ref.tag!);
    const parsed = parseManifest(m.bytes, m.mediaType);
    let platforms: Platform[];
    if (parsed.kind === 'index') {
      platforms = parsed.index.manifests.map((d) => d.platform).filter((p): p is Platform => !!p);
    } else {
      const cfg = parseImageConfig(await readSmallBlob(repo, parsed.manifest.config.digest));
      platforms = [{ architecture: cfg.architecture ?? '', os: cfg.os ?? '', ...(cfg.variant ? { variant: cfg.variant } : {}) } as Platform];
    }
    ctx.json({ Descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }, Platforms: platforms });
  } finally {
    client.close();
  }
}

async function readSmallBlob(repo: ReturnType<RegistryClient['repository']>, d: Digest): Promise<Buffer> {
  const b = await repo.openBlob(d);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of b.stream as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > 4 << 20) { b.stream.destroy(); throw invalidArgument(`config ${d} is too large`); }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export default function register(r: Router): void {
  r.post('/images/create', create);
  r.post('/images/{name:.*}/push', pushRoute);
  r.post('/auth', auth);
  r.get('/distribution/{name:.*}/json', distributionInspect);
}
