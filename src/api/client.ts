// EngineClient: the Engine API over a unix socket, for the berth CLI and the tests. Four shapes of call, as
// the docker CLI's client package has them: JSON in/out, newline-delimited JSON progress streams, raw bodies
// (save/export/logs), and hijacked connections (attach/exec: `Connection: Upgrade`, `Upgrade: tcp`, 101).
// Bodies are streamed in both directions: nothing here buffers a layer, a context or an archive.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { BerthError, unavailable, internal, isKind } from '../errors/index.ts';
import { kindOfStatus, ERROR_KIND_HEADER, ERROR_CODE_HEADER } from './status.ts';
import { API_VERSION, type JSONMessage } from './types.ts';

export interface EngineClientOptions {
  /** Path of the daemon's unix socket (a `unix://` prefix is accepted). */
  socketPath: string;
  /**
   * Version prefix for every call (`/v1.51/…`). Absent: calls go unversioned (the daemon then serves its
   * newest) until negotiate() picks one; that saves the ping round trip a one-shot CLI command would pay.
   */
  apiVersion?: string;
  userAgent?: string;
  /**
   * Called once when the daemon cannot be reached (nothing listens on the socket), to start it; the request
   * that found it down is then sent again. This replaces a `_ping` before the first request: the first request
   * itself proves the daemon is up. Only requests that never reached a daemon are retried (connection refused
   * or no socket), and a streamed body is never consumed before the daemon is known to answer.
   */
  onUnreachable?: () => Promise<void>;
}

export type QueryValue = string | number | boolean | undefined | null | string[] | Record<string, unknown>;

export interface RequestOptions {
  /**
   * Query parameters. Booleans go as 1/0 (as the docker client sends them), arrays repeat the key, plain
   * objects are JSON-encoded (the `filters` parameter: `{dangling: ['true']}`), undefined/null are left out.
   */
  query?: Record<string, QueryValue>;
  /** A Readable or async iterable is streamed as-is; anything else is sent as JSON. */
  body?: unknown;
  headers?: OutgoingHttpHeaders;
  signal?: AbortSignal;
}

export interface PingResult {
  apiVersion: string;
  osType: string;
  experimental: boolean;
  builderVersion: string;
  /** Swarm status header, when the daemon sends one. */
  swarm?: string;
}

export interface StreamOptions extends RequestOptions {
  /** 'throw' (default): a message carrying `error`/`errorDetail` ends the iteration with a BerthError. */
  errors?: 'throw' | 'yield';
}

export interface Hijacked {
  /** The raw connection: with a tty the container's bytes, otherwise 8-byte-header multiplexed frames. */
  socket: Duplex;
  /** Bytes that arrived with the 101 response, to be processed before reading `socket`. */
  head: Buffer;
  headers: IncomingMessage['headers'];
}

function isStreamBody(b: unknown): b is Readable | AsyncIterable<Uint8Array> {
  return typeof b === 'object' && b !== null && (typeof (b as Readable).pipe === 'function' || Symbol.asyncIterator in b);
}

export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) sp.append(k, x);
    else if (typeof v === 'boolean') sp.append(k, v ? '1' : '0');
    else if (typeof v === 'object') sp.append(k, JSON.stringify(v));
    else sp.append(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/** Compares dotted API versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

export class EngineClient {
  readonly socketPath: string;
  apiVersion?: string;
  private readonly agent: http.Agent;
  private readonly userAgent: string;
  private onUnreachable?: () => Promise<void>;
  private started?: Promise<void>;

  constructor(opts: EngineClientOptions) {
    this.socketPath = opts.socketPath.startsWith('unix://') ? opts.socketPath.slice(7) : opts.socketPath;
    this.apiVersion = opts.apiVersion;
    this.userAgent = opts.userAgent ?? 'berth-client';
    this.onUnreachable = opts.onUnreachable;
    // Idle keep-alive sockets are unref'd by node, so a CLI process still exits when it is done.
    // servername '' skips node's TLS server-name guess, whose first use compiles the IPv6 regex (~10 ms of every
    // CLI command's start-up); a unix socket has no server name.
    this.agent = new http.Agent({ keepAlive: true, servername: '' } as http.AgentOptions);
  }

  /** `/v1.NN` + path when a version is set. */
  url(path: string, query?: Record<string, QueryValue>): string {
    return `${this.apiVersion ? `/v${this.apiVersion}` : ''}${path}${encodeQuery(query)}`;
  }

  /**
   * Sends a request and resolves with the response once its headers arrive. Statuses ≥ 400 are turned into a
   * BerthError (kind from the status, message the daemon's `message`); connection failures into Unavailable
   * with code DAEMON_UNREACHABLE.
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.send(method, this.url(path, opts.query), opts);
    if (res.statusCode! >= 400) throw await errorFromResponse(res);
    return res;
  }

  /** A JSON call; resolves with the parsed body (undefined for an empty body, e.g. 204). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = await readText(res);
    if (!text.trim()) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw internal(`invalid JSON from the daemon for ${method} ${path}: ${text.slice(0, 200)}`, { cause: e });
    }
  }

  /** A progress stream: yields each newline-delimited JSON message as it arrives (pull, push, load, build). */
  async *stream<T extends object = JSONMessage>(method: string, path: string, opts: StreamOptions = {}): AsyncGenerator<T> {
    const res = await this.request(method, path, opts);
    for await (const msg of parseNDJSON<T>(res)) {
      if (opts.errors !== 'yield') {
        const m = msg as JSONMessage;
        if (m.errorDetail || m.error) {
          res.destroy();
          const status = m.errorDetail?.code;
          throw new BerthError(kindOfStatus(status ?? 500), m.errorDetail?.message ?? m.error ?? 'unknown error');
        }
      }
      yield msg;
    }
  }

  /** The response itself, for raw bodies (`images/get`, container export, logs). Status already checked. */
  raw(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    return this.request(method, path, opts);
  }

  /** Streams `body` as the request body (tar by default: load, import, build) and returns the response. */
  upload(method: string, path: string, body: Readable | AsyncIterable<Uint8Array>, opts: RequestOptions = {}): Promise<IncomingMessage> {
    return this.request(method, path, {
      ...opts, body, headers: { 'content-type': 'application/x-tar', ...opts.headers },
    });
  }

  /** `GET /_ping` (unversioned, as docker's client does) reading the negotiation headers. */
  async ping(signal?: AbortSignal): Promise<PingResult> {
    const res = await this.send('GET', '/_ping', { signal });
    const h = res.headers;
    await readText(res);
    if (res.statusCode! >= 400 && !h['api-version']) throw new BerthError(kindOfStatus(res.statusCode!), `ping failed: ${res.statusCode}`);
    return {
      apiVersion: String(h['api-version'] ?? ''),
      osType: String(h['ostype'] ?? ''),
      experimental: h['docker-experimental'] === 'true',
      builderVersion: String(h['builder-version'] ?? ''),
      swarm: h['swarm'] as string | undefined,
    };
  }

  /** Pings and sets apiVersion to the lower of the daemon's and ours (docker's NegotiateAPIVersion). */
  async negotiate(signal?: AbortSignal): Promise<string> {
    const p = await this.ping(signal);
    const v = p.apiVersion && compareVersions(p.apiVersion, API_VERSION) < 0 ? p.apiVersion : API_VERSION;
    this.apiVersion = v;
    return v;
  }

  /**
   * Opens a hijacked connection (attach, exec start): sends `Connection: Upgrade` + `Upgrade: tcp` and resolves
   * on the daemon's 101 with the raw socket. A JSON `body` (exec start's {Detach, Tty}) is sent first.
   */
  hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Hijacked> {
    return this.reaching(() => this.hijackOnce(method, path, opts));
  }

  private hijackOnce(method: string, path: string, opts: RequestOptions): Promise<Hijacked> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath, method, path: this.url(path, opts.query), agent: false, signal: opts.signal,
        // as the agent's servername '' above: no TLS server-name guess (its IPv6 regex: ~7 ms of `berth run`)
        servername: '',
        headers: {
          'user-agent': this.userAgent, connection: 'Upgrade', upgrade: 'tcp',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...opts.headers,
        },
      } as http.RequestOptions);
      req.on('upgrade', (res, socket, head) => resolve({ socket, head, headers: res.headers }));
      req.on('response', (res) => {
        if (res.statusCode! >= 400) errorFromResponse(res).then(reject, reject);
        else { res.resume(); reject(internal(`${method} ${path}: the daemon answered ${res.statusCode} instead of upgrading the connection`)); }
      });
      req.on('error', (e) => reject(connectError(e, this.socketPath)));
      req.end(payload);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /**
   * Runs `attempt`; when it could not reach the daemon and an onUnreachable hook is set, runs the hook (once
   * per client) and `attempt` again. After any answer from the daemon the hook is dropped.
   */
  private async reaching<T>(attempt: () => Promise<T>): Promise<T> {
    if (!this.onUnreachable) return attempt();
    try {
      const r = await attempt();
      this.onUnreachable = undefined;
      return r;
    } catch (e) {
      const hook = this.onUnreachable;
      if (!hook || !isKind(e, 'Unavailable', 'DAEMON_UNREACHABLE')) throw e;
      // dropped before it runs: the hook's own requests (polling _ping) must not call it again
      this.onUnreachable = undefined;
      this.started ??= hook();
      await this.started;
      return attempt();
    }
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    // a streamed body cannot be sent twice: make sure the daemon answers before reading it
    if (this.onUnreachable && isStreamBody(opts.body)) await this.reaching(() => this.sendOnce('GET', '/_ping', {}).then(readText));
    return this.reaching(() => this.sendOnce(method, path, opts));
  }

  private sendOnce(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { 'user-agent': this.userAgent, ...opts.headers };
      let json: Buffer | undefined;
      const streamed = isStreamBody(opts.body);
      if (opts.body !== undefined && !streamed) {
        json = Buffer.from(JSON.stringify(opts.body));
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = json.length;
      }
      const req = http.request({ socketPath: this.socketPath, method, path, headers, agent: this.agent, signal: opts.signal });
      req.on('response', resolve);
      req.on('error', (e) => reject(connectError(e, this.socketPath)));
      if (streamed) {
        const body = opts.body as Readable | AsyncIterable<Uint8Array>;
        (async () => {
          for await (const chunk of body) {
            if (!req.write(chunk)) {
              await new Promise<void>((r) => {
                const done = (): void => { req.off('drain', done); req.off('close', done); r(); };
                req.on('drain', done);
                req.on('close', done);
              });
            }
            if (req.destroyed) return;
          }
          req.end();
        })().catch((e) => req.destroy(e as Error));
      } else {
        req.end(json);
      }
    });
  }
}

function connectError(e: unknown, socketPath: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
    const what = code === 'EACCES' ? 'permission denied while trying to connect to' : 'Cannot connect to';
    return unavailable(`${what} the berth daemon at unix://${socketPath}. Is the berth daemon running?`, {
      code: 'DAEMON_UNREACHABLE', cause: e,
    });
  }
  return e;
}

async function readText(res: IncomingMessage, limit = Infinity): Promise<string> {
  res.setEncoding('utf8');
  let s = '';
  for await (const chunk of res) {
    s += chunk;
    if (s.length > limit) { res.destroy(); break; }
  }
  return s;
}

/** Reads a failed response's `{"message": …}` (or its text) into a BerthError. */
export async function errorFromResponse(res: IncomingMessage): Promise<BerthError> {
  const status = res.statusCode ?? 500;
  const text = await readText(res, 1 << 20).catch(() => '');
  let message = text.trim();
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === 'string') message = j.message;
  } catch { /* plain text body */ }
  if (!message) message = `${status} ${res.statusMessage ?? ''}`.trim();
  const code = res.headers[ERROR_CODE_HEADER];
  return new BerthError(kindOfStatus(status, res.headers[ERROR_KIND_HEADER] as string | undefined), message, {
    code: typeof code === 'string' ? code : undefined, detail: { status },
  });
}

/** Splits a byte stream into newline-delimited JSON values (blank lines skipped). */
export async function* parseNDJSON<T>(src: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  const dec = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of src) {
    buf += typeof chunk === 'string' ? chunk : dec.write(chunk);
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  buf += dec.end();
  if (buf.trim()) yield JSON.parse(buf) as T;
}
