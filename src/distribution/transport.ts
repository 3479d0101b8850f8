// HTTP for the registry client: one request at a time, no magic. Why node:http(s) and not global fetch:
// Node 20's fetch cannot be given TLS options (an insecure registry needs rejectUnauthorized: false, a
// private CA needs `ca`) without undici's Agent from npm, and its web streams cost throughput on large
// blobs. node:http hands us Readables that pipe straight into the content store.
//
// Endpoint choice follows docker (registry/endpoints.go): https first; plain http only for loopback
// hosts (localhost, 127.0.0.0/8, ::1) and hosts listed as insecure, whose TLS is also not verified. An
// insecure-registries entry that is a CIDR ("10.0.0.0/8") matches a host by its resolved addresses, any of
// them, as docker's isCIDRMatch (registry/config.go).
// Redirects are followed by hand so Authorization never reaches another host (blob storage redirects).
import http from 'node:http';
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import https from 'node:https';
import { Readable } from 'node:stream';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { BerthError } from '../errors/index.ts';
import { isRetryableStatus, isTransientNetworkError, networkError, registryError } from './errors.ts';

export interface TransportOptions {
  /** Hosts ("host:port" or "host") or CIDRs ("10.0.0.0/8") allowed plain HTTP and unverified TLS. */
  insecureRegistries?: string[];
  /** Extra CA certificates (PEM) trusted for every registry. */
  ca?: string | Buffer;
  /** Attempts per request on transient failures (default 4: the first try + 3 retries). */
  attempts?: number;
  /** First backoff delay in ms (default 200), doubled each retry with jitter, capped at 5 s. */
  backoffMs?: number;
  userAgent?: string;
  /**
   * Per-registry TLS material as docker's /etc/docker/certs.d: `<certsDir>/<host:port>/*.crt` are extra CAs,
   * `client.cert` + `client.key` a client certificate for that registry.
   */
  certsDir?: string;
  /** Treat loopback hosts as insecure, as docker's default 127.0.0.0/8 entry does (default true). */
  loopbackInsecure?: boolean;
}

export interface Request {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** A buffer, or a stream (then give Content-Length in headers, or it goes chunked). */
  body?: Uint8Array | Readable;
  signal?: AbortSignal;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The final URL (after redirects). */
  url: string;
  body: http.IncomingMessage;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)(?::\d+)?$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** Reads a whole response body (for manifests, tokens and error JSON); fails past `max` bytes. */
export async function readBody(res: Response | http.IncomingMessage, max = 16 << 20): Promise<Buffer> {
  const body = 'body' in res ? res.body : res;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) { body.destroy(); throw new BerthError('InvalidArgument', `response body larger than ${max} bytes`, { code: 'TOO_LARGE' }); }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** A response header as one string (repeated ones joined). */
export function headerOf(res: Response, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Discards a body we do not need, so the keep-alive socket is reused. */
export function drain(res: Response): void {
  res.body.resume();
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal?.aborted) { reject(signal.reason); return; }
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
  signal?.addEventListener('abort', onAbort, { once: true });
});

/** The CIDR entries of insecure-registries as a BlockList (undefined when there are none). */
function cidrList(entries: string[]): BlockList | undefined {
  let list: BlockList | undefined;
  for (const e of entries) {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(e);
    const family = m ? isIP(m[1]!) : 0;
    if (!m || !family) continue;
    list ??= new BlockList();
    list.addSubnet(m[1]!, Number(m[2]), family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** "host:port", "[v6]:port" or a bare host → the host name or address alone. */
function hostOnly(hostPort: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(hostPort);
  if (v6) return v6[1]!;
  return (hostPort.match(/:/g) ?? []).length > 1 ? hostPort : hostPort.replace(/:\d+$/, '');
}

export class Transport {
  private readonly insecure: Set<string>;
  private readonly insecureCidrs: BlockList | undefined;
  /** host → whether one of its addresses is in an insecure CIDR (resolved once). */
  private readonly cidrMatches = new Map<string, Promise<boolean>>();
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsAgent: https.Agent;
  private readonly insecureAgent = new https.Agent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: false });
  /** host → base URL ("https://host" or "http://host") once a ping found one that answers. */
  private readonly bases = new Map<string, string>();
  readonly attempts: number;
  readonly backoffMs: number;
  readonly userAgent: string;
  private readonly loopbackInsecure: boolean;
  private readonly certsDir?: string;
  private readonly ca?: string | Buffer;
  /** host → an agent with that host's certs.d material (undefined: none there, use the shared agent). */
  private readonly hostAgents = new Map<string, https.Agent | undefined>();

  constructor(opts: TransportOptions = {}) {
    this.insecure = new Set((opts.insecureRegistries ?? []).map((h) => h.replace(/^https?:\/\//, '').replace(/\/$/, '')));
    this.insecureCidrs = cidrList(opts.insecureRegistries ?? []);
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32, ...(opts.ca ? { ca: opts.ca } : {}) });
    this.attempts = opts.attempts ?? 4;
    this.backoffMs = opts.backoffMs ?? 200;
    this.userAgent = opts.userAgent ?? 'berth/0.1 (docker-compatible)';
    this.loopbackInsecure = opts.loopbackInsecure ?? true;
    this.certsDir = opts.certsDir;
    this.ca = opts.ca;
  }

  /** Whether `host` ("host:port") may use plain HTTP and unverified TLS: loopback, listed, or in a listed CIDR. */
  async isInsecure(host: string): Promise<boolean> {
    if ((this.loopbackInsecure && isLoopback(host)) || this.insecure.has(host) || this.insecure.has(host.replace(/:\d+$/, ''))) return true;
    return this.insecureCidrs ? this.inCidr(host) : false;
  }

  private inCidr(host: string): Promise<boolean> {
    let p = this.cidrMatches.get(host);
    if (!p) {
      const list = this.insecureCidrs!;
      const name = hostOnly(host);
      p = (isIP(name) ? Promise.resolve([{ address: name, family: isIP(name) }]) : lookup(name, { all: true }))
        .then((addrs) => addrs.some((a) => list.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4')), () => false);
      this.cidrMatches.set(host, p);
    }
    return p;
  }

  /** Candidate base URLs for a host, in the order docker tries them. */
  async candidates(host: string): Promise<string[]> {
    const known = this.bases.get(host);
    if (known) return [known];
    if (/^https?:\/\//.test(host)) return [host.replace(/\/$/, '')];
    return (await this.isInsecure(host)) ? [`https://${host}`, `http://${host}`] : [`https://${host}`];
  }

  remember(host: string, base: string): void {
    this.bases.set(host, base);
  }

  /** The agent carrying `<certsDir>/<host>/` CAs and client certificate, read once per host. */
  private hostAgent(host: string): https.Agent | undefined {
    if (!this.certsDir) return undefined;
    if (this.hostAgents.has(host)) return this.hostAgents.get(host);
    let agent: https.Agent | undefined;
    const dir = join(this.certsDir, host);
    try {
      const names = readdirSync(dir);
      const cas = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n)));
      const cert = names.includes('client.cert') ? readFileSync(join(dir, 'client.cert')) : undefined;
      const key = names.includes('client.key') ? readFileSync(join(dir, 'client.key')) : undefined;
      if (cas.length || cert) {
        agent = new https.Agent({
          keepAlive: true, maxSockets: 32,
          ...(cas.length ? { ca: [...rootCertificates, ...(this.ca ? [this.ca] : []), ...cas] } : {}),
          ...(cert && key ? { cert, key } : {}),
        });
      }
    } catch { /* no directory for this host */ }
    this.hostAgents.set(host, agent);
    return agent;
  }

  /** The TLS options send() uses for `hostPort`, for connections made without the agents (rawget.ts). */
  async tlsOptions(hostPort: string): Promise<https.AgentOptions> {
    if (await this.isInsecure(hostPort)) return { rejectUnauthorized: false };
    const { ca, cert, key } = (this.hostAgent(hostPort) ?? this.httpsAgent).options;
    return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }

  /** One HTTP exchange, no redirects, no retries. Network failures become BerthErrors (Unavailable). */
  async send(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    const hostPort = url.host;
    const agent = isHttps ? ((await this.isInsecure(hostPort)) ? this.insecureAgent : (this.hostAgent(hostPort) ?? this.httpsAgent)) : this.httpAgent;
    const mod = isHttps ? https : http;
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...req.headers };
    if (req.body instanceof Uint8Array) headers['Content-Length'] = String(req.body.length);
    else if (!req.body && req.method !== 'GET' && req.method !== 'HEAD' && headers['Content-Length'] === undefined) headers['Content-Length'] = '0';
    return new Promise((resolve, reject) => {
      const r = mod.request(url, { method: req.method, headers, agent, signal: req.signal }, (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url: url.toString(), body: res });
      });
      r.on('error', (e) => reject(req.signal?.aborted ? req.signal.reason ?? e : networkError(req.method, url.toString(), e)));
      const body = req.body;
      if (body instanceof Readable) {
        body.on('error', (e) => r.destroy(e));
        body.pipe(r);
      } else {
        r.end(body);
      }
    });
  }

  /**
   * send() plus redirects (301/302/303/307/308, at most 10), followed by hand: Authorization is dropped as soon
   * as the target host differs from the original one. Only buffer or empty bodies are replayed on 307/308.
   */
  async request(req: Request): Promise<Response> {
    let cur = req;
    const origin = new URL(req.url).host;
    for (let hop = 0; hop <= 10; hop++) {
      const res = await this.send(cur);
      const loc = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(res.status) || !loc) return res;
      drain(res);
      const next = new URL(loc, cur.url);
      const headers = { ...cur.headers };
      if (next.host !== origin) { delete headers.Authorization; delete headers.authorization; }
      const keepBody = res.status === 307 || res.status === 308;
      if (keepBody && cur.body instanceof Readable) return res; // cannot replay a stream; caller sees the 3xx
      cur = {
        ...cur, url: next.toString(), headers,
        method: keepBody ? cur.method : (cur.method === 'HEAD' ? 'HEAD' : 'GET'),
        body: keepBody ? cur.body : undefined,
      };
    }
    throw new BerthError('Unavailable', `stopped after 10 redirects: ${req.url}`, { code: 'TOO_MANY_REDIRECTS' });
  }

  /**
   * Runs `fn` with retries and exponential backoff on transient failures: network errors, and responses
   * for which `fn` throws a retryable-status error (5xx, 429, 408). `Retry-After` (seconds) is honoured up
   * to 5 s. Other errors go straight through.
   */
  async retry<T>(fn: (attempt: number) => Promise<T>, signal?: AbortSignal, onRetry?: (e: unknown, attempt: number) => void): Promise<T> {
    let delay = this.backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (e) {
        if (signal?.aborted || attempt >= this.attempts || !isRetryable(e)) throw e;
        onRetry?.(e, attempt);
        const after = retryAfterMs(e);
        await sleep(Math.min(5000, after ?? delay * (0.75 + Math.random() / 2)), signal);
        delay *= 2;
      }
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.insecureAgent.destroy();
    for (const a of this.hostAgents.values()) a?.destroy();
  }
}

function isRetryable(e: unknown): boolean {
  if (isTransientNetworkError(e)) return true;
  const status = ((e as BerthError)?.detail as { status?: number } | undefined)?.status;
  return typeof status === 'number' && isRetryableStatus(status);
}

function retryAfterMs(e: unknown): number | undefined {
  const ra = ((e as BerthError)?.detail as { retryAfter?: string } | undefined)?.retryAfter;
  if (!ra) return undefined;
  const s = Number(ra);
  return Number.isFinite(s) ? s * 1000 : undefined;
}

/** Throws the registry error for a non-2xx response (reading its body), keeping Retry-After for retry(). */
export async function failFor(res: Response, what?: string): Promise<never> {
  const text = res.body.readableEnded ? '' : (await readBody(res, 1 << 20).catch(() => Buffer.alloc(0))).toString('utf8');
  const err = registryError(res.status, text, what);
  const ra = res.headers['retry-after'];
  if (ra && err.detail && typeof err.detail === 'object') (err.detail as Record<string, unknown>).retryAfter = String(ra);
  throw err;
}
