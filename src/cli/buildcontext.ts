// The build context `berth build PATH` sends (docker/cli cli/command/image/build.go + build/context.go):
// the directory as a tar stream, minus what .dockerignore excludes (matched by @balena/dockerignore, a port
// of docker's own matcher), owned by 0:0, with the Dockerfile and .dockerignore always included. A Dockerfile
// from outside the context (or from stdin) is added under a random name, as docker does. The tar is written
// here (cli/ may not import archive/; tar-stream took ~2 s for 2,000 files): small files read ahead, output
// batched, big files streamed, so memory does not grow with the context.
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { lstat, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import ignoreModule, { type Ignore } from '@balena/dockerignore';
import { StatusError } from './errors.ts';

// CommonJS with a `default` property that TypeScript's NodeNext view hides; both shapes work.
type Factory = (opts?: { ignorecase?: boolean }) => Ignore;
const ignore: Factory = ((ignoreModule as unknown as { default?: Factory }).default ?? ignoreModule) as unknown as Factory;

export interface PreparedContext {
  /** The tar stream to send as the body of POST /build (the whole context). */
  tar: Readable;
  /**
   * The context sync's two halves (berthd's POST /build/context, see src/build/context/sync.ts): the files as
   * [name, size, mode, mtime, stat key], and the tar holding only the files at the indices the daemon wants
   * (directories, symlinks and a Dockerfile from elsewhere always go). Use one of `tar` and `partial`.
   */
  manifest: { now: number; files: [string, number, number, number, string][] };
  partial(want: Iterable<number>): Readable;
  /** The Dockerfile's name inside the tar (the `dockerfile` query parameter). */
  dockerfile: string;
}

/** .dockerignore lines without comments and blanks (docker's ReadAll). */
export function parseDockerignore(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? '!' + l.slice(1).trim().replace(/^\/+/, '') : l.replace(/^\/+/, '')));
}

/**
 * Prepares `dir` as a build context. `dockerfile` is -f as given (relative to the current directory, as
 * docker resolves it), or `{ content }` for a Dockerfile read from stdin.
 */
export async function prepareContext(dir: string, dockerfile?: string | { content: Buffer }): Promise<PreparedContext> {
  const root = resolve(dir);
  const st = await stat(root).catch(() => undefined);
  if (!st) throw new StatusError(`unable to prepare context: path "${dir}" not found`, 1);
  if (!st.isDirectory()) throw new StatusError(`unable to prepare context: context must be a directory: ${root}`, 1);

  let name = 'Dockerfile';
  let extra: { name: string; content: Buffer } | undefined;
  if (typeof dockerfile === 'object') {
    name = `.dockerfile.${randomBytes(10).toString('hex')}`;
    extra = { name, content: dockerfile.content };
  } else {
    const path = dockerfile ? resolve(dockerfile) : join(root, 'Dockerfile');
    const dst = await lstat(path).catch(() => undefined);
    if (!dst) {
      throw new StatusError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path}: no such file or directory`, 1);
    }
    const rel = relative(root, path);
    if (rel.startsWith('..') || rel === '' || rel.split(sep)[0] === '..') {
      // outside the context: sent under a random name, as docker does
      name = `.dockerfile.${randomBytes(10).toString('hex')}`;
      extra = { name, content: await readFile(path) };
    } else {
      name = rel.split(sep).join('/');
    }
  }

  let patterns: string[] = [];
  try { patterns = parseDockerignore(await readFile(join(root, '.dockerignore'), 'utf8')); } catch { /* none */ }
  const keep = new Set([name, '.dockerignore']);
  const ig = ignore().add(patterns);
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  // without patterns nothing is excluded (the matcher costs ~25 µs a path even then)
  const excluded = patterns.length ? (rel: string) => !keep.has(rel) && ig.ignores(rel) : () => false;

  // Synchronous on purpose: the CLI does nothing else meanwhile, and an await per file (readFile's four
  // thread-pool hops) made a 2,000-file context take ~1-2 s; sync reads from the page cache take ~60 ms.
  function* walk(abs: string, rel: string): Generator<Entry> {
    for (const n of readdirSync(abs).sort()) {
      const a = `${abs}/${n}`; // (path.join's normalising was a third of the walk)
      const r = rel ? `${rel}/${n}` : n;
      const s = lstatSync(a);
      const skip = excluded(r);
      const mtime = Math.floor(s.mtimeMs / 1000);
      if (s.isDirectory()) {
        // an excluded directory is still walked when a `!` pattern may re-include something inside
        if (skip && !hasExceptions) continue;
        if (!skip) yield { name: `${r}/`, type: '5', mode: s.mode & 0o7777, mtime, size: 0 };
        yield* walk(a, r);
        continue;
      }
      if (skip) continue;
      if (s.isSymbolicLink()) {
        yield { name: r, type: '2', linkname: readlinkSync(a), mode: s.mode & 0o7777, mtime, size: 0 };
      } else if (s.isFile()) {
        // the stat key the daemon compares (with mtime and ctime to the µs, a same-size rewrite is seen)
        yield { name: r, type: '0', mode: s.mode & 0o7777, mtime, size: s.size, path: a, stat: `${s.mtimeMs}:${s.ctimeMs}:${s.ino}:${s.dev}` };
      }
      // sockets, fifos and devices are not part of a build context
    }
  }
  const now = Date.now();
  const all = [...walk(root, '')];
  if (extra) all.push({ name: extra.name, type: '0', mode: 0o644, mtime: Math.floor(now / 1000), size: extra.content.length, body: extra.content });
  const files: PreparedContext['manifest']['files'] = [];
  const slot = all.map((e) => (e.stat !== undefined ? files.push([e.name, e.size, e.mode, e.mtime, e.stat]) - 1 : -1));
  // objectMode: the 1 MiB chunks go to the socket as they are (a byte-mode stream re-slices them)
  const stream = (list: Iterable<Entry>): Readable => Readable.from(packEntries(list), { objectMode: true, highWaterMark: 4 });
  return {
    get tar() { return stream(all); },
    dockerfile: name,
    manifest: { now, files },
    partial(want) {
      const wanted = new Set(want);
      return stream(all.filter((e, i) => slot[i]! < 0 || wanted.has(slot[i]!)));
    },
  };
}

interface Entry {
  name: string;
  /** ustar typeflag: '0' file, '2' symlink, '5' directory. */
  type: '0' | '2' | '5';
  mode: number;
  mtime: number;
  size: number;
  linkname?: string;
  /** A file's path on disk, or its bytes. */
  path?: string;
  /** A file's stat key for the context sync. */
  stat?: string;
  body?: Buffer;
}

const CHUNK = 1 << 20;

/**
 * A tar stream (ustar headers, a PAX record for names or links too long for them, owner 0:0 as docker's
 * context) from `list`, in ~1 MiB chunks: headers and file bodies are read straight into the chunk being
 * filled; a file that does not fit ends the chunk and continues in the next. Memory: a few chunks in flight.
 */
function* packEntries(list: Iterable<Entry>): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(CHUNK);
  let len = 0;
  function* room(n: number): Generator<Buffer> {
    if (len + n <= CHUNK) return;
    if (len) yield buf.subarray(0, len);
    buf = Buffer.allocUnsafe(CHUNK);
    len = 0;
  }
  for (const e of list) {
    const h = header(e);
    yield* room(h.length);
    h.copy(buf, len);
    len += h.length;
    if (e.type !== '0' || e.size === 0) continue;
    if (e.body) {
      for (let off = 0; off < e.body.length;) {
        yield* room(1);
        const n = e.body.copy(buf, len, off);
        len += n;
        off += n;
      }
    } else {
      const fd = openSync(e.path!, 'r');
      try {
        for (let off = 0; off < e.size;) {
          yield* room(1);
          const n = readSync(fd, buf, len, Math.min(CHUNK - len, e.size - off), off);
          if (n === 0) throw new StatusError(`${e.name}: file changed while the build context was sent`, 1);
          len += n;
          off += n;
        }
      } finally {
        closeSync(fd);
      }
    }
    const pad = (512 - (e.size % 512)) % 512;
    yield* room(pad);
    buf.fill(0, len, len + pad);
    len += pad;
  }
  yield* room(1024);
  buf.fill(0, len, len + 1024);
  len += 1024;
  yield buf.subarray(0, len);
}

function octal(buf: Buffer, off: number, len: number, v: number): void {
  buf.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

/** One entry's header block(s): a PAX extended header first when a value does not fit ustar. */
function header(e: Entry): Buffer {
  const name = Buffer.from(e.name);
  const link = Buffer.from(e.linkname ?? '');
  const pax: [string, string][] = [];
  if (name.length > 100) pax.push(['path', e.name]);
  if (link.length > 100) pax.push(['linkpath', e.linkname!]);
  if (e.size > 0o77777777777) pax.push(['size', String(e.size)]);
  const h = block(name.length > 100 ? name.subarray(0, 100) : name, e.type, e.mode, e.mtime, e.size > 0o77777777777 ? 0 : e.size, link.subarray(0, 100));
  if (!pax.length) return h;
  const body = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''));
  const ph = block(Buffer.from('PaxHeaders/' + e.name).subarray(0, 100), 'x', 0o644, e.mtime, body.length, Buffer.alloc(0));
  return Buffer.concat([ph, body, Buffer.alloc((512 - (body.length % 512)) % 512), h]);
}

function paxRecord(k: string, v: string): string {
  const rest = ` ${k}=${v}\n`;
  let n = Buffer.byteLength(rest) + 1;
  while (String(n).length + Buffer.byteLength(rest) !== n) n = String(n).length + Buffer.byteLength(rest);
  return `${n}${rest}`;
}

function block(name: Buffer, type: string, mode: number, mtime: number, size: number, link: Buffer): Buffer {
  const b = Buffer.alloc(512);
  name.copy(b, 0);
  octal(b, 100, 8, mode);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, Math.max(0, mtime));
  b.write(type, 156, 1, 'latin1');
  link.copy(b, 157);
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}
