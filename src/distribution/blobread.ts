// A blob's bytes (spec "Pulling blobs", with `Range` to resume) as ~1 MiB pieces, for fetch.ts: straight off
// the socket when the registry (or the storage it redirects to) answers with a length (rawget.ts), else through
// the ordinary client (401 re-auth, error bodies, chunked bodies, retries), its chunks gathered into pieces.
import type { Readable } from 'node:stream';
import type { Digest } from '../digest/index.ts';
import type { Repository } from './client.ts';
import { rawGet, type RawResponse } from './rawget.ts';
import { takeSlab } from './slabs.ts';
import { Gatherer } from '../archive/index.ts';

export interface BlobPieces {
  pieces: AsyncIterable<Buffer>;
  /** Where the body starts: the Range honoured, or 0 when the registry sent the whole blob. */
  start: number;
  total?: number;
  /** True when every piece is a view of a whole slab from slabs.ts, which its last holder may give back. */
  owned: boolean;
  /** Ends the transfer (safe after the body ended). */
  close(): void;
}

/** Pieces handed on once they hold at least this many bytes (the ordinary path's gathering). */
const PIECE = 1 << 20;
/** Smaller blobs (configs) take the ordinary path and its keep-alive connection. */
const DIRECT_MIN = 1 << 20;

/** GET `digest` from `start` as pieces; `size` (when known) picks the direct path for large blobs. */
export async function openBlobPieces(repo: Repository, digest: Digest, opts: { start?: number; size?: number; signal?: AbortSignal } = {}): Promise<BlobPieces> {
  const start = opts.start ?? 0;
  if ((opts.size ?? 0) - start >= DIRECT_MIN) {
    const direct = await tryDirect(repo, digest, start, opts.signal);
    if (direct) return direct;
  }
  const b = await repo.openBlob(digest, { start, signal: opts.signal });
  return { pieces: gather(b.stream), start: b.start, owned: false, ...(b.total !== undefined ? { total: b.total } : {}), close: () => b.stream.destroy() };
}

async function tryDirect(repo: Repository, digest: Digest, start: number, signal?: AbortSignal): Promise<BlobPieces | undefined> {
  const client = repo.client;
  const base = await client.ping(repo.host, signal);
  const auth = await client.auth.header(repo.host, repo.pullScopes(), signal);
  let url = new URL(repo.urlFor(base, `blobs/${digest}`));
  const origin = url.host;
  let res: RawResponse | undefined;
  // Redirects to blob storage (a CDN, S3) are followed here too, as transport.request() does: Authorization
  // never goes to another host.
  for (let hop = 0; hop <= 10; hop++) {
    const headers: Record<string, string> = { 'User-Agent': client.transport.userAgent };
    if (auth && url.host === origin) headers.Authorization = auth;
    if (start > 0) headers.Range = `bytes=${start}-`;
    try {
      res = await rawGet(url, { headers, signal, take: takeSlab, ...(url.protocol === 'https:' ? { tls: await client.transport.tlsOptions(url.host) } : {}) });
    } catch (e) {
      if (signal?.aborted) throw e;
      return undefined; // the ordinary path retries, and words the error as every other request's
    }
    const loc = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || !loc) break;
    res.destroy();
    url = new URL(loc, url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  }
  if (!res) return undefined;
  const total = Number(res.headers['content-length']);
  if (res.pieces && res.status === 200) return { pieces: res.pieces, start: 0, total, owned: true, close: res.destroy };
  const m = /bytes (\d+)-\d+\/(\d+|\*)/.exec(res.headers['content-range'] ?? '');
  if (res.pieces && res.status === 206 && m && Number(m[1]) === start) {
    return { pieces: res.pieces, start, ...(m[2] !== '*' ? { total: Number(m[2]) } : {}), owned: true, close: res.destroy };
  }
  res.destroy();
  return undefined;
}

/** A Readable's chunks gathered into pieces of at least PIECE bytes (the last may be shorter). */
async function* gather(stream: Readable): AsyncGenerator<Buffer> {
  const pieces = new Gatherer(PIECE);
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      const piece = pieces.push(c);
      if (piece) yield piece;
    }
  } catch (e) {
    const rest = pieces.take(); // what arrived before the break still counts: a resumed download continues after it
    if (rest) yield rest;
    throw e;
  } finally {
    stream.destroy();
  }
  const rest = pieces.take();
  if (rest) yield rest;
}
