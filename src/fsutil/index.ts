// Small crash-safe file primitives shared by every store (content, metadata, registry storage).
// The pattern everywhere: write to a temp file in the same directory, fsync it, rename over the target,
// fsync the directory. A reader sees the old file or the new one, never a torn one. (And dirBytes: disk use.)
import { open, rename, mkdir, rm, readFile, readdir, lstat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function tempName(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** fsync a directory so a rename inside it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** Atomically replaces `target` with `data` (temp file + fsync + rename + dir fsync). */
export async function atomicWrite(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempName(target);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dirname(target));
}

export async function atomicWriteJSON(target: string, value: unknown, mode = 0o644): Promise<void> {
  await atomicWrite(target, JSON.stringify(value), mode);
}

/** Reads and parses a JSON file; undefined when it does not exist. */
export async function readJSON<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, 'r')).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Bytes of the regular files under `dir`, a hard-linked file once: what moby's directory.Size counts for a
 * container's writable layer (SizeRw) and a volume (UsageData.Size). A missing directory is 0.
 */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  const linked = new Set<number>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await lstat(p).catch(() => undefined);
        if (!st || (st.nlink > 1 && linked.has(st.ino))) continue;
        if (st.nlink > 1) linked.add(st.ino);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}
