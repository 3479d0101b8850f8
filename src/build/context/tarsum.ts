// The source hash the classic builder writes into history: `COPY file:<hex> in /dst `, `dir:<hex>`,
// `multi:<hex>` (moby builder/dockerfile/copy.go + builder/remotecontext/archive.go, pkg/tarsum). For a
// context received as a tar, every entry's hash is a tarsum v1 of that entry: sha256 over
// name+mode+uid+gid+size+typeflag+linkname+uname+gname+devmajor+devminor (key and value concatenated,
// mtime left out; uname/gname blanked for a received context, as moby's tarsum reader does since Go 1.10, but
// the daemon host's user/group names for files of an image, which moby hashes through archive.FileInfoHeader
// + WriteV1Header), the sorted xattrs, then the file's bytes. `file:` is the hash of the (symlink-followed) file; `dir:` is sha256 of the sorted hashes of
// every entry under the directory including itself, joined by ","; entries the tar did not carry hash as
// their path; several sources give `multi:` over their hashes in source order. Checked against dockerd
// 20.10 in test/build-parity.test.ts.
import { createHash } from 'node:crypto';
import type { EntryType, TarHeader } from '../../archive/index.ts';

const FLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

/** The tar type bits an os.FileInfo-based header carries (docker's fillGo18FileTypeBits). */
export const TYPE_BITS: Record<EntryType, number> = {
  file: 0o100000, link: 0o100000, symlink: 0o120000, char: 0o20000, block: 0o60000, dir: 0o40000, fifo: 0o10000,
};

/** A tarsum v1 hasher primed with `h`'s header fields; feed the body, then `digest('hex')`. */
export function tarsumHasher(h: Pick<TarHeader, 'name' | 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'linkname' | 'devmajor' | 'devminor' | 'xattrs' | 'uname' | 'gname'>) {
  const name = h.type === 'dir' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const hash = createHash('sha256');
  hash.update(`name${name}mode${h.mode}uid${h.uid}gid${h.gid}size${h.size}typeflag${FLAG[h.type]}linkname${h.linkname ?? ''}`
    + `uname${h.uname ?? ''}gname${h.gname ?? ''}devmajor${h.devmajor ?? 0}devminor${h.devminor ?? 0}`);
  if (h.xattrs) {
    for (const k of [...h.xattrs.keys()].sort()) { hash.update(k); hash.update(h.xattrs.get(k)!); }
  }
  return hash;
}

/** `dir:` over entry hashes (sorted here). */
export function dirHash(hashes: string[]): string {
  return `dir:${createHash('sha256').update([...hashes].sort().join(',')).digest('hex')}`;
}

/** The history hash of a step's sources: one source's own hash, or `multi:` over all in order. */
export function sourcesHash(hashes: string[]): string {
  if (hashes.length === 1) return hashes[0]!;
  return `multi:${createHash('sha256').update(hashes.join(',')).digest('hex')}`;
}

/**
 * The same hashes for sources on disk (a context given as a directory, or `COPY --from` a stage or image,
 * which moby hashes from the files themselves: archive.FileInfoHeader, so modes carry the type bits and
 * owners are the files'). A context directory hashes as the CLI would have sent it: owner 0:0, permission
 * bits only. Symlinks are followed as moby's Hash does (FollowSymlinkInScope); `path` is what the copy reads.
 */
export async function diskSourcesHash(sources: readonly { rel: string; path: string; isDir: boolean }[], context: boolean, root: string): Promise<string> {
  const { relative } = await import('node:path');
  // moby hashes what a symlinked source points at, under that file's own name (Rel(root, followed path))
  const nameOf = (s: { rel: string; path: string }): string => {
    const r = s.path ? relative(root, s.path) : s.rel;
    return r === '' ? '.' : r.startsWith('..') ? s.rel : r;
  };
  const { lstat, stat, readdir, readlink } = await import('node:fs/promises');
  const { createReadStream } = await import('node:fs');
  const entry = async (abs: string, rel: string, follow: boolean): Promise<string> => {
    let st = await lstat(abs);
    if (follow && st.isSymbolicLink()) st = await stat(abs).catch(() => st);
    const type: EntryType = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block';
    const perm = st.mode & 0o7777;
    const h = tarsumHasher({
      name: rel, type, mode: context ? perm : perm | TYPE_BITS[type], uid: context ? 0 : st.uid, gid: context ? 0 : st.gid,
      size: type === 'file' ? st.size : 0, linkname: type === 'symlink' ? await readlink(abs) : '',
      ...(context ? {} : { uname: (await hostNames()).users.get(st.uid) ?? '', gname: (await hostNames()).groups.get(st.gid) ?? '' }),
    });
    if (type === 'file' && st.size > 0) for await (const chunk of createReadStream(abs, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
    return h.digest('hex');
  };
  const hashes: string[] = [];
  for (const s of sources) {
    if (!s.isDir) { hashes.push(`file:${await entry(s.path, nameOf(s), true)}`); continue; }
    const all: string[] = [];
    const walk = async (abs: string, rel: string): Promise<void> => {
      if (rel !== '.') all.push(await entry(abs, rel, true));
      const st = await lstat(abs);
      if (!st.isDirectory()) return;
      for (const n of (await readdir(abs)).sort()) await walk(`${abs}/${n}`, rel === '.' ? n : `${rel}/${n}`);
    };
    await walk(s.path, nameOf(s));
    hashes.push(dirHash(all));
  }
  return sourcesHash(hashes);
}

let names: Promise<{ users: Map<number, string>; groups: Map<number, string> }> | undefined;

/** uid → name and gid → name from the daemon host's /etc/passwd and /etc/group (Go's os/user lookup). */
function hostNames(): Promise<{ users: Map<number, string>; groups: Map<number, string> }> {
  names ??= (async () => {
    const { readFile } = await import('node:fs/promises');
    const parse = async (file: string): Promise<Map<number, string>> => {
      const m = new Map<number, string>();
      const text = await readFile(file, 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && /^\d+$/.test(f[2]!) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]!);
      }
      return m;
    };
    return { users: await parse('/etc/passwd'), groups: await parse('/etc/group') };
  })();
  return names;
}
