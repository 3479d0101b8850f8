// Blob uploads (distribution-spec "Pushing blobs", "Mounting a blob from another repository"): monolithic,
// chunked, or streamed with the digest computed on the way; every step through the client's auth and retries.
import { Transform, type Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { Digester, type Digest } from '../digest/index.ts';
import type { Repository } from './client.ts';
import { drain, failFor, headerOf, type Response } from './transport.ts';

export interface UploadOptions {
  /** Try a cross-repository mount from this repository of the same registry first. */
  mountFrom?: string;
  /** Upload in PATCH chunks of this many bytes (Content-Range); default: one monolithic PUT. */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Called with the bytes sent so far. */
  onProgress?: (sent: number) => void;
}

export type UploadResult = 'pushed' | 'mounted' | 'exists';

/**
 * Uploads a blob unless the registry has it (HEAD first), trying a cross-repository mount when `mountFrom`
 * is given (spec "Mounting a blob from another repository": 201 = mounted, 202 = start an upload instead).
 * `open` gives a fresh stream of the blob's bytes for every attempt. Monolithic by default (POST, then one
 * PUT ?digest= with the body), or chunked PATCHes with Content-Range and a closing PUT.
 */
export async function uploadBlob(repo: Repository, digest: Digest, size: number, open: () => Readable | Promise<Readable>, opts: UploadOptions = {}): Promise<UploadResult> {
  const scopes = repo.pushScopes(opts.mountFrom);
  if (await repo.statBlob(digest, opts.signal, scopes) !== undefined) return 'exists';
  return repo.client.transport.retry(async () => {
    const q = opts.mountFrom && opts.mountFrom !== repo.name ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(opts.mountFrom)}` : '';
    const start = await repo.client.call(repo.host, scopes, (base) => ({ method: 'POST', url: repo.urlFor(base, `blobs/uploads/${q}`) }), opts.signal);
    drain(start);
    if (start.status === 201 && q) return 'mounted';
    if (start.status !== 202) await failFor(start);
    let location = uploadLocation(start);
    if (opts.chunkSize && opts.chunkSize > 0 && size > opts.chunkSize) {
      location = await patchChunks(repo, location, open, opts, scopes);
      const fin = await repo.client.transport.request({
        method: 'PUT', url: withDigest(location, digest), signal: opts.signal,
        headers: await authHeaders(repo, scopes, opts.signal),
      });
      if (fin.status !== 201) await uploadFailed(repo, fin, scopes);
      drain(fin);
      return 'pushed';
    }
    const body = await open();
    let sent = 0;
    if (opts.onProgress) body.on('data', (c: Buffer) => { sent += c.length; opts.onProgress!(sent); });
    const put = await repo.client.transport.send({
      method: 'PUT', url: withDigest(location, digest), body, signal: opts.signal,
      headers: { ...await authHeaders(repo, scopes, opts.signal), 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
    });
    if (put.status !== 201) await uploadFailed(repo, put, scopes);
    drain(put);
    return 'pushed';
  }, opts.signal);
}

/**
 * Uploads bytes whose digest is not known in advance (a layer compressed on the fly): POST, one streaming
 * PATCH (chunked transfer encoding, as docker's push does), then PUT ?digest= with the digest computed
 * while sending. Returns what was uploaded; `open` is called again for every attempt.
 */
export async function uploadStream(repo: Repository, open: () => Readable | Promise<Readable>, opts: UploadOptions = {}): Promise<{ digest: Digest; size: number }> {
  const scopes = repo.pushScopes();
  return repo.client.transport.retry(async () => {
    const start = await repo.client.call(repo.host, scopes, (base) => ({ method: 'POST', url: repo.urlFor(base, 'blobs/uploads/') }), opts.signal);
    drain(start);
    if (start.status !== 202) await failFor(start);
    const src = await open();
    const dg = new Digester();
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) { dg.update(chunk); opts.onProgress?.(dg.size); cb(null, chunk); },
    });
    src.on('error', (e) => tap.destroy(e));
    src.pipe(tap);
    const patch = await repo.client.transport.send({
      method: 'PATCH', url: uploadLocation(start), body: tap, signal: opts.signal,
      headers: { ...await authHeaders(repo, scopes, opts.signal), 'Content-Type': 'application/octet-stream' },
    });
    if (patch.status !== 202) await uploadFailed(repo, patch, scopes);
    drain(patch);
    const digest = dg.digest();
    const fin = await repo.client.transport.send({
      method: 'PUT', url: withDigest(uploadLocation(patch, uploadLocation(start)), digest), signal: opts.signal,
      headers: await authHeaders(repo, scopes, opts.signal),
    });
    if (fin.status !== 201) await uploadFailed(repo, fin, scopes);
    drain(fin);
    return { digest, size: dg.size };
  }, opts.signal);
}

async function patchChunks(repo: Repository, location: string, open: () => Readable | Promise<Readable>, opts: UploadOptions, scopes: string[]): Promise<string> {
  const src = await open();
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const flush = async () => {
    const chunk = Buffer.concat(pending, pendingLen);
    pending = [];
    pendingLen = 0;
    const res = await repo.client.transport.send({
      method: 'PATCH', url: location, body: chunk, signal: opts.signal,
      headers: {
        ...await authHeaders(repo, scopes, opts.signal), 'Content-Type': 'application/octet-stream',
        'Content-Range': `${offset}-${offset + chunk.length - 1}`,
      },
    });
    if (res.status !== 202) await uploadFailed(repo, res, scopes);
    drain(res);
    location = uploadLocation(res, location);
    offset += chunk.length;
    opts.onProgress?.(offset);
  };
  for await (const c of src as AsyncIterable<Buffer>) {
    let buf = c;
    while (buf.length) {
      const take = Math.min(buf.length, opts.chunkSize! - pendingLen);
      pending.push(buf.subarray(0, take));
      pendingLen += take;
      buf = buf.subarray(take);
      if (pendingLen === opts.chunkSize) await flush();
    }
  }
  if (pendingLen) await flush();
  return location;
}

/**
 * A failed upload step. A 401 mid-upload means the token expired during a long transfer: forget it and fail
 * as Unavailable so the upload's retry starts a fresh session with a fresh token.
 */
async function uploadFailed(repo: Repository, res: Response, scopes: string[]): Promise<never> {
  if (res.status === 401) {
    drain(res);
    repo.client.auth.invalidate(repo.host, scopes);
    throw new BerthError('Unavailable', 'registry refused the upload token (expired?); retrying', { code: 'AUTH_EXPIRED' });
  }
  return failFor(res);
}

async function authHeaders(repo: Repository, scopes: string[], signal?: AbortSignal): Promise<Record<string, string>> {
  const a = await repo.client.auth.header(repo.host, scopes, signal);
  return a ? { Authorization: a } : {};
}

/** The upload URL from Location (may be relative, spec "Pushing blobs"). */
function uploadLocation(res: Response, prev?: string): string {
  const loc = headerOf(res, 'location');
  if (!loc) {
    if (prev) return prev;
    throw new BerthError('Unavailable', 'registry started an upload without a Location', { code: 'BLOB_UPLOAD_INVALID' });
  }
  return new URL(loc, res.url).toString();
}

function withDigest(location: string, digest: Digest): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}
