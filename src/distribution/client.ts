// The OCI distribution-spec client (spec.md "Pull", "Push", "Content Discovery"): one RegistryClient per
// daemon (it holds the keep-alive agents, learned endpoints, challenges and tokens), a Repository per name.
// Every call goes through `call()`: endpoint discovery by ping, auth header, redirects, one re-auth on 401,
// retries with backoff on transient failures (streams are re-opened by the caller's factory).
import { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { digestOf, isDigest, digestMismatch, type Digest } from '../digest/index.ts';
import { Authorizer, repoScope, type CredentialSource } from './auth.ts';
import { Transport, drain, failFor, readBody, headerOf, type Request, type Response, type TransportOptions } from './transport.ts';
import { uploadBlob, uploadStream, type UploadOptions, type UploadResult } from './upload.ts';

export type { UploadOptions, UploadResult };

/** The manifest media types docker asks for, most preferred first (distribution/registry/client). */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface ClientOptions extends TransportOptions {
  credentials?: CredentialSource;
  /** Share one transport (agents, learned endpoints) between clients with different credentials. */
  transport?: Transport;
}

export interface Manifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export interface ManifestHead {
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface BlobStream {
  stream: Readable;
  /** Where the stream starts (the Range honoured), 0 when the registry sent the whole blob. */
  start: number;
  /** Total blob size when the registry said so. */
  total?: number;
}

export class RegistryClient {
  readonly transport: Transport;
  readonly auth: Authorizer;
  private readonly pinging = new Map<string, Promise<string>>();
  private readonly ownTransport: boolean;

  constructor(opts: ClientOptions = {}) {
    this.ownTransport = !opts.transport;
    this.transport = opts.transport ?? new Transport(opts);
    this.auth = new Authorizer(this.transport, opts.credentials);
  }

  repository(host: string, name: string): Repository {
    return new Repository(this, host, name);
  }

  /**
   * GET /v2/ (spec "Determining support"): finds the base URL that answers (https, then http for insecure
   * and loopback hosts) and learns the auth challenge. 200 and 401 both mean "a registry is here".
   */
  ping(host: string, signal?: AbortSignal): Promise<string> {
    let p = this.pinging.get(host);
    if (!p) {
      p = this.transport.retry(() => this.pingOnce(host, signal), signal);
      this.pinging.set(host, p);
      p.catch(() => this.pinging.delete(host));
    }
    return p;
  }

  private async pingOnce(host: string, signal?: AbortSignal): Promise<string> {
    let lastErr: unknown;
    for (const base of await this.transport.candidates(host)) {
      let res: Response;
      try {
        res = await this.transport.request({ method: 'GET', url: `${base}/v2/`, signal });
      } catch (e) {
        lastErr = e;
        continue;
      }
      if (res.status === 401) this.auth.learn(host, header(res, 'www-authenticate'));
      if (res.status === 200 || res.status === 401 || res.status === 403) {
        drain(res);
        this.transport.remember(host, base);
        return base;
      }
      await failFor(res);
    }
    throw lastErr;
  }

  /**
   * Checks credentials the way `docker login` does: ping, then (for Bearer) ask the token server for a token
   * with no scope; for Basic, GET /v2/ with the credentials. Throws Unauthorized on a wrong password.
   */
  async login(host: string, signal?: AbortSignal): Promise<void> {
    const base = await this.ping(host, signal);
    if (!this.auth.hasChallenge(host)) return;
    const res = await this.call(host, [], () => ({ method: 'GET', url: `${base}/v2/` }), signal);
    if (res.status !== 200) await failFor(res);
    drain(res);
  }

  /**
   * One registry call: `build` makes the request (called again for every attempt, so it may open a fresh body
   * stream). Adds auth, follows redirects, re-authenticates once on 401, retries transient failures (network,
   * 5xx, 429). Returns any non-retryable response (including 4xx) for the caller to interpret.
   */
  async call(host: string, scopes: string[], build: (base: string) => Request | Promise<Request>, signal?: AbortSignal): Promise<Response> {
    const base = await this.ping(host, signal);
    return this.transport.retry(async () => {
      for (let authTry = 0; ; authTry++) {
        const req = await build(base);
        const auth = await this.auth.header(host, scopes, signal);
        const headers = { ...req.headers };
        if (auth) headers.Authorization = auth;
        const res = await this.transport.request({ ...req, headers, signal });
        if (res.status === 401 && authTry === 0 && header(res, 'www-authenticate')) {
          // A token can be revoked or lack a scope; the challenge may name a new realm or scope. Try once more.
          drain(res);
          if (req.body instanceof Readable) req.body.destroy();
          this.auth.invalidate(host, scopes);
          this.auth.learn(host, header(res, 'www-authenticate'));
          continue;
        }
        if (res.status >= 500 || res.status === 429 || res.status === 408) {
          if (req.body instanceof Readable) req.body.destroy();
          await failFor(res);
        }
        return res;
      }
    }, signal);
  }

  close(): void {
    if (this.ownTransport) this.transport.close();
  }
}

const header = headerOf;

export class Repository {
  constructor(readonly client: RegistryClient, readonly host: string, readonly name: string) {}

  /** `<base>/v2/<name>/<path>` */
  urlFor(base: string, path: string): string {
    return `${base}/v2/${this.name}/${path}`;
  }

  pullScopes(): string[] { return [repoScope(this.name, ['pull'])]; }
  pushScopes(mountFrom?: string): string[] {
    const s = [repoScope(this.name, ['pull', 'push'])];
    if (mountFrom && mountFrom !== this.name) s.push(repoScope(mountFrom, ['pull']));
    return s;
  }

  /**
   * GET a manifest by tag or digest. By digest, the bytes must hash to it (DIGEST_MISMATCH otherwise);
   * by tag, the digest is computed from the bytes (the canonical form is what was served).
   */
  async getManifest(reference: string, signal?: AbortSignal, accept = MANIFEST_ACCEPT): Promise<Manifest> {
    const res = await this.client.call(this.host, this.pullScopes(), (base) => ({
      method: 'GET', url: this.urlFor(base, `manifests/${reference}`), headers: { Accept: accept.join(', ') },
    }), signal);
    if (res.status !== 200) await failFor(res, res.status === 404 ? `manifest for ${this.host}/${this.name}:${reference} not found` : undefined);
    const bytes = await readBody(res, 4 << 20);
    const digest = isDigest(reference) ? reference : digestOf(bytes);
    if (isDigest(reference)) {
      const actual = digestOf(bytes, reference.startsWith('sha512:') ? 'sha512' : 'sha256');
      if (actual !== reference) throw digestMismatch(reference, actual);
    }
    return { bytes, digest, mediaType: mediaTypeOf(header(res, 'content-type'), bytes) };
  }

  /** GET /v2/<name>/tags/list (spec "Listing Tags"), following `Link: <…>; rel="next"` pages. */
  async tags(signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    let path = 'tags/list?n=1000';
    for (let page = 0; page < 100 && path; page++) {
      const cur = path;
      const res = await this.client.call(this.host, this.pullScopes(), (base) => ({ method: 'GET', url: cur.startsWith('/') ? base + cur : this.urlFor(base, cur) }), signal);
      if (res.status !== 200) await failFor(res, res.status === 404 ? `repository ${this.host}/${this.name} not found` : undefined);
      const body = JSON.parse((await readBody(res, 8 << 20)).toString('utf8')) as { tags?: string[] | null };
      out.push(...(body.tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      path = link ? link[1]! : '';
    }
    return out;
  }

  /** HEAD a manifest: its digest, type and size, or undefined when unknown (404). */
  async headManifest(reference: string, signal?: AbortSignal): Promise<ManifestHead | undefined> {
    const res = await this.client.call(this.host, this.pullScopes(), (base) => ({
      method: 'HEAD', url: this.urlFor(base, `manifests/${reference}`), headers: { Accept: MANIFEST_ACCEPT.join(', ') },
    }), signal);
    drain(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) await failFor(res);
    const d = header(res, 'docker-content-digest');
    if (!d || !isDigest(d)) return undefined; // a registry that does not say: callers fall back to GET
    return { digest: d, mediaType: header(res, 'content-type') ?? '', size: Number(header(res, 'content-length') ?? 0) };
  }

  /** PUT a manifest under a tag or its digest; returns the digest of the bytes. */
  async putManifest(reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<Digest> {
    const res = await this.client.call(this.host, this.pushScopes(), (base) => ({
      method: 'PUT', url: this.urlFor(base, `manifests/${reference}`), headers: { 'Content-Type': mediaType }, body: bytes,
    }), signal);
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) await failFor(res);
    drain(res);
    return digestOf(bytes);
  }

  /** HEAD a blob: its size, or undefined when the registry does not have it in this repository. */
  async statBlob(digest: Digest, signal?: AbortSignal, scopes = this.pullScopes()): Promise<number | undefined> {
    const res = await this.client.call(this.host, scopes, (base) => ({ method: 'HEAD', url: this.urlFor(base, `blobs/${digest}`) }), signal);
    drain(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) await failFor(res);
    return Number(header(res, 'content-length') ?? 0);
  }

  /**
   * GET a blob from `start` (Range: bytes=start-). The registry may ignore the range (200): then `start` is 0
   * and the caller must truncate what it had. Redirects to storage are followed without our Authorization.
   */
  async openBlob(digest: Digest, opts: { start?: number; signal?: AbortSignal } = {}): Promise<BlobStream> {
    const start = opts.start ?? 0;
    const res = await this.client.call(this.host, this.pullScopes(), (base) => ({
      method: 'GET', url: this.urlFor(base, `blobs/${digest}`), headers: (start > 0 ? { Range: `bytes=${start}-` } : {}) as Record<string, string>,
    }), opts.signal);
    if (res.status === 206) {
      const m = /bytes (\d+)-\d+\/(\d+|\*)/.exec(header(res, 'content-range') ?? '');
      const s = m ? Number(m[1]) : start;
      if (s !== start) { res.body.destroy(); throw new BerthError('Unavailable', `registry answered range ${s}- for ${start}-`, { code: 'RANGE_INVALID' }); }
      return { stream: res.body, start, total: m && m[2] !== '*' ? Number(m[2]) : undefined };
    }
    if (res.status === 416 && start > 0) { drain(res); return this.openBlob(digest, { signal: opts.signal }); }
    if (res.status !== 200) await failFor(res, res.status === 404 ? `blob ${digest}` : undefined);
    const len = header(res, 'content-length');
    return { stream: res.body, start: 0, total: len ? Number(len) : undefined };
  }

  /** Uploads a blob unless the registry has it (upload.ts). */
  uploadBlob(digest: Digest, size: number, open: () => Readable | Promise<Readable>, opts: UploadOptions = {}): Promise<UploadResult> {
    return uploadBlob(this, digest, size, open, opts);
  }

  /** Uploads bytes whose digest is not known in advance (upload.ts). */
  uploadStream(open: () => Readable | Promise<Readable>, opts: UploadOptions = {}): Promise<{ digest: Digest; size: number }> {
    return uploadStream(this, open, opts);
  }
}

/** Content-Type unless it is generic, else the manifest's own mediaType field, else Docker v2s2. */
function mediaTypeOf(contentType: string | undefined, bytes: Buffer): string {
  const ct = contentType?.split(';')[0]!.trim();
  if (ct && ct !== 'application/json' && ct !== 'text/plain' && ct !== 'application/octet-stream') return ct;
  try {
    const m = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (m.mediaType) return m.mediaType;
    return m.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return ct ?? 'application/octet-stream';
  }
}
