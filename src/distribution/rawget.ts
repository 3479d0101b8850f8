// A blob body straight off the socket (RFC 9112 HTTP/1.1 message syntax, the subset a blob GET needs): one
// connection per blob, `Connection: close`, a response with Content-Length. Why not node:http for this one
// request: its parser hands over a fresh 16–64 KiB Buffer per socket read, and receiving 256 MB that way cost
// ~500 ms of CPU here against ~100 ms with `onread` — and those buffers, plus the 1 MiB pieces gathered from
// them, were most of the daemon's garbage collection during a pull. With `onread` the kernel copies into
// 1 MiB slabs we allocate; a full slab is handed on as is (no copy), a fresh one takes its place.
// Anything else (a redirect, 401, an error status, chunked encoding) is returned without a body: the caller
// closes it and goes the ordinary way (client.ts), which knows redirects, re-auth and error bodies.
import net from 'node:net';
import tls from 'node:tls';
import { BerthError } from '../errors/index.ts';

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body in pieces of about `slab` bytes (the last may be shorter), when status is 200/206 with a length. */
  pieces?: AsyncIterable<Buffer>;
  /** Closes the connection (safe to call more than once, also after the body ended). */
  destroy(): void;
}

export interface RawGetOptions {
  headers: Record<string, string>;
  /** TLS options for https: URLs (ca, cert, key, rejectUnauthorized). */
  tls?: tls.ConnectionOptions;
  signal?: AbortSignal;
  /** Where slabs come from (default: a fresh 1 MiB Buffer each). */
  take?: () => Buffer;
}

const MAX_HEADER = 64 << 10;
/** A slab with less room than this is handed on: a read never gets a tiny buffer. */
const MIN_ROOM = 64 << 10;
/** Pieces waiting for the consumer before the socket stops reading. */
const QUEUE = 2;

/** GET `url`; resolves once the response headers are in. Network failures reject with node's error code. */
export function rawGet(url: URL, opts: RawGetOptions): Promise<RawResponse> {
  const take = opts.take ?? (() => Buffer.allocUnsafeSlow(1 << 20));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const isTls = url.protocol === 'https:';
  const port = Number(url.port) || (isTls ? 443 : 80);
  return new Promise<RawResponse>((resolve, reject) => {
    let slab = take();
    let fill = 0;
    let start = 0; // where the current piece's body bytes begin in the slab
    let head: RawResponse | undefined;
    let remaining = 0;
    const queue: Buffer[] = [];
    let ended = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    let paused = false;
    const notify = () => { const w = wake; wake = undefined; w?.(); };
    const fail = (e: unknown) => {
      if (failure || ended) return;
      // what arrived before the break is handed on first: a resumed download continues after it
      if (head?.pieces && fill > start) emit(fill - start);
      failure = e;
      if (!head) reject(e);
      notify();
      sock.destroy();
    };
    const emit = (n: number) => {
      if (n > 0) queue.push(slab.subarray(start, start + n));
      slab = take();
      fill = 0;
      start = 0;
      notify();
    };
    const onHead = (): boolean => {
      const end = slab.subarray(0, fill).indexOf('\r\n\r\n');
      if (end < 0) {
        if (fill >= MAX_HEADER) fail(new BerthError('Unavailable', `response headers from ${url.host} too large`, { code: 'EPROTO' }));
        return false;
      }
      const lines = slab.toString('latin1', 0, end).split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
      if (!m) { fail(new BerthError('Unavailable', `malformed response from ${url.host}`, { code: 'EPROTO' })); return false; }
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i <= 0) continue;
        const k = l.slice(0, i).trim().toLowerCase();
        const v = l.slice(i + 1).trim();
        headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
      }
      const status = Number(m[1]);
      const len = headers['content-length'];
      const withBody = (status === 200 || status === 206) && len !== undefined && /^\d+$/.test(len) && !headers['transfer-encoding'];
      head = { status, headers, destroy: () => { ended = true; sock.destroy(); }, ...(withBody ? { pieces: pieces() } : {}) };
      if (!withBody) { sock.destroy(); resolve(head); return false; }
      remaining = Number(len);
      // the body bytes that came with the headers start the first piece
      start = end + 4;
      const got = Math.min(fill - start, remaining);
      remaining -= got;
      fill = start + got;
      resolve(head);
      return true;
    };
    const onRead = (n: number): boolean => {
      if (failure || ended) return false;
      if (!head) {
        fill += n;
        if (!onHead()) return !failure && !head;
      } else {
        const got = Math.min(n, remaining);
        remaining -= got;
        fill += got;
      }
      if (remaining === 0) { emit(fill - start); ended = true; sock.destroy(); return false; }
      if (slab.length - fill < MIN_ROOM) emit(fill - start);
      if (queue.length >= QUEUE) { paused = true; return false; }
      return true;
    };
    async function* pieces(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          if (queue.length) {
            yield queue.shift()!;
            if (paused && queue.length < QUEUE && !ended && !failure) { paused = false; sock.resume(); }
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((r) => { wake = r; });
        }
      } finally {
        ended = true;
        sock.destroy();
      }
    }
    const onread = { buffer: () => (head ? slab.subarray(fill) : slab.subarray(fill, MAX_HEADER + MIN_ROOM)), callback: onRead };
    const sock: net.Socket = isTls
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...opts.tls, onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    sock.setNoDelay(true);
    const cut = () => {
      if (ended) return;
      const e = Object.assign(new Error(`connection to ${url.host} closed with ${remaining} bytes of the body missing`), { code: 'ECONNRESET' });
      fail(e);
    };
    sock.on('error', fail);
    sock.on('end', cut);
    sock.on('close', cut);
    const abort = () => fail(opts.signal!.reason ?? Object.assign(new Error('aborted'), { name: 'AbortError' }));
    if (opts.signal?.aborted) { abort(); return; }
    opts.signal?.addEventListener('abort', abort, { once: true });
    sock.once('close', () => opts.signal?.removeEventListener('abort', abort));
    let req = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
    for (const [k, v] of Object.entries(opts.headers)) req += `${k}: ${v}\r\n`;
    sock.write(`${req}Connection: close\r\n\r\n`);
  });
}
