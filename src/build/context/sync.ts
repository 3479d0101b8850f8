// Context sync: a rebuild sends only the context files that changed (berth's CLI; the docker CLI never asks,
// so it keeps sending the whole tar). BuildKit does the same over its session (fsutil's diff sync against the
// copy the daemon kept under the client's "shared key"); the classic protocol has no session, so it takes two
// requests:
//
//   POST /build/context?key=K&dockerfile=D   {"now": ms, "files": [[name, size, mode, mtime, stat], …]}
//        → {"session": S, "want": [indices of the files to send]}
//   POST /build?…&contextsession=S           the context tar without the files not wanted
//
// The daemon keeps, per key, the index of the last context it received (digests, tarsums, where the bytes lie
// in the tars it received). A file is reused only when its name, size, mode, whole-second mtime and the
// client's stat key (mtime and ctime to the µs, inode, device) all match, and it had not changed within 2 s
// of the earlier send (git's rule against "racy" entries: a same-size rewrite in the same clock tick). The
// Dockerfile and ignore files are always sent. Kept tars are refcounted (a build reading one pins it), live
// under <data-root>/tmp/contexts (emptied on start; the index is in memory only), and are bounded: four keys,
// eight tars a key (then only the largest tar's files are reused and the rest sent again, which leaves two),
// all dropped by builder prune.
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument, notFound } from '../../errors/index.ts';
import type { HeldFile, LazyContext, ReusedFiles } from './lazy.ts';
import { clean } from './dockerignore.ts';

/** One file as the client describes it: [name, size, mode, mtime (s, as in its tar header), stat key]. */
export type ManifestFile = [string, number, number, number, string];

export interface SyncManifest { now: number; files: ManifestFile[] }

const MAX_KEYS = 4;
const MAX_BACKINGS = 8;
const SESSION_TTL = 120_000;
/** A relative path without empty, `.` or `..` components. */
const CLEAN = /^(?!\.\.?(\/|$))(?!.*\/\.\.?(\/|$))(?!.*\/\/)(?!\/)[^\0]*[^/]$/;
/** Seconds: a file changed this close to (or after) the earlier send may have changed unseen. */
const RACY = 2;

/** A tar the store keeps; unlinked when nothing refers to it any more. */
class Backing {
  refs = 0;
  constructor(readonly path: string) {}
  ref(): this { this.refs++; return this; }
  unref(): void { if (--this.refs === 0) void unlink(this.path).catch(() => {}); }
}

interface KeptFile extends Omit<HeldFile, 'backing'> { stat: string; backing: Backing }

interface Kept { files: Map<string, KeptFile>; backings: Set<Backing>; sentAt: number }

interface Session {
  key: string;
  manifest: Map<string, ManifestFile>;
  reuse: Map<string, KeptFile>;
  wanted: string[];
  pinned: Backing[];
  sentAt: number;
  timer: NodeJS.Timeout;
}

/** A session taken by its build: what LazyContext.receive reuses, and the hand-back once the build is over. */
export interface SyncUse { reuse: ReusedFiles; keep(ctx: LazyContext): Promise<void>; release(): void }

export class ContextSync {
  private readonly kept = new Map<string, Kept>();
  private readonly sessions = new Map<string, Session>();

  /** `dir` is scratch space (emptied on daemon start). */
  constructor(private readonly dir: string) {}

  /** Phase one: which of `m.files` the client must send for `key` (a stable name for its context directory). */
  open(clientKey: string, m: SyncManifest, dockerfile?: string): { session: string; want: number[] } {
    if (!clientKey || !Array.isArray(m?.files) || typeof m.now !== 'number') throw invalidArgument('invalid context manifest', { code: 'BAD_MANIFEST' });
    const key = createHash('sha256').update(clientKey).digest('hex');
    const df = clean((dockerfile || 'Dockerfile').replace(/^\/+/, ''));
    const always = new Set([df, 'dockerfile', '.dockerignore', `${df}.dockerignore`]);
    const kept = this.kept.get(key);
    // Every build leaves one more tar (at least its Dockerfile is in it). At the limit, only the files of the
    // tar holding most of the kept bytes are reused: the rest is sent again, into one new tar.
    let allowed = new Set(kept?.backings ?? []);
    if (kept && allowed.size >= MAX_BACKINGS) {
      const bytes = new Map<Backing, number>();
      for (const f of kept.files.values()) bytes.set(f.backing, (bytes.get(f.backing) ?? 0) + f.size);
      const base = [...bytes].sort((a, b) => b[1] - a[1])[0]?.[0];
      allowed = new Set(base ? [base] : []);
    }
    const manifest = new Map<string, ManifestFile>();
    const reuse = new Map<string, KeptFile>();
    const want: number[] = [];
    const wanted: string[] = [];
    m.files.forEach((f, i) => {
      if (!Array.isArray(f) || typeof f[0] !== 'string' || f.length !== 5) throw invalidArgument('invalid context manifest', { code: 'BAD_MANIFEST' });
      // the CLI sends clean names; anything else is cleaned as the tar's names are
      const name = CLEAN.test(f[0]) ? f[0] : clean(f[0].replace(/^\/+/, ''));
      manifest.set(name, f);
      const k = kept?.files.get(name);
      if (k && allowed.has(k.backing) && !always.has(name) && k.size === f[1] && k.mode === f[2] && Math.floor(k.mtime) === f[3] && k.stat === f[4] && f[3] <= kept!.sentAt - RACY) {
        reuse.set(name, k);
      } else {
        want.push(i);
        wanted.push(name);
      }
    });
    // one reference per tar (not per file): release() drops exactly these
    const pinned = [...new Set([...reuse.values()].map((k) => k.backing))].map((b) => b.ref());
    const id = randomBytes(16).toString('hex');
    // a session nobody takes (the client died between the requests) lets its tars go
    const timer = setTimeout(() => { for (const b of this.take(id)?.pinned ?? []) b.unref(); }, SESSION_TTL);
    timer.unref();
    this.sessions.set(id, { key, manifest, reuse, wanted, pinned, sentAt: m.now / 1000, timer });
    return { session: id, want };
  }

  /** Phase two: the session's reuse list for LazyContext.receive (one use). NotFound when unknown or expired. */
  use(id: string): SyncUse {
    const s = this.take(id);
    if (!s) throw notFound(`build context session ${id} not found (expired?): send the whole context`, { code: 'NO_CONTEXT_SESSION' });
    let released = false;
    const release = (): void => { if (!released) { released = true; for (const b of s.pinned) b.unref(); } };
    return {
      reuse: { backings: s.pinned.map((b) => b.path), files: s.reuse, wanted: s.wanted },
      keep: async (ctx) => { try { await this.keep(s, ctx); } finally { release(); } },
      release,
    };
  }

  /** Forgets every kept context (builder prune). Tars a running build reads go when it ends. */
  clear(): void {
    for (const k of this.kept.values()) for (const b of k.backings) b.unref();
    this.kept.clear();
  }

  private take(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    this.sessions.delete(id);
    clearTimeout(s.timer);
    return s;
  }

  /** After the build: the context just received becomes what the next build of `s.key` is compared with. */
  private async keep(s: Session, ctx: LazyContext): Promise<void> {
    const byPath = new Map(s.pinned.map((b) => [b.path, b]));
    const files = new Map<string, KeptFile>();
    let own: Backing | undefined;
    for (const [name, f] of ctx.heldFiles()) {
      const m = s.manifest.get(name);
      if (!m) continue;
      let b = byPath.get(f.backing);
      if (!b) {
        if (!own) {
          // this build's own tar moves out of its work dir (removed after the build) into the store
          await mkdir(this.dir, { recursive: true });
          own = new Backing(join(this.dir, `${randomBytes(8).toString('hex')}.tar`));
          await rename(f.backing, own.path);
          byPath.set(f.backing, own);
        }
        b = own;
      }
      files.set(name, { size: f.size, mode: f.mode, mtime: f.mtime, digest: f.digest, tarsum: f.tarsum, offset: f.offset, stat: m[4], backing: b });
    }
    const backings = new Set([...files.values()].map((f) => f.backing));
    for (const b of backings) b.ref();
    const old = this.kept.get(s.key);
    this.kept.delete(s.key);
    this.kept.set(s.key, { files, backings, sentAt: s.sentAt });
    if (old) for (const b of old.backings) b.unref();
    while (this.kept.size > MAX_KEYS) {
      const [k, v] = this.kept.entries().next().value!;
      this.kept.delete(k);
      for (const b of v.backings) b.unref();
    }
  }
}
