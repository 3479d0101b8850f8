// Named volumes, docker's `local` driver: a directory per volume under the data root.
//
// volumes/<name>/_data        the volume's files (bind-mounted into containers)
// volumes/<name>/meta.json    VolumeInfo minus Mountpoint
//
// Which containers use a volume is the daemon's knowledge (container configs); remove/prune take it as input.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { atomicWriteJSON, readJSON, dirBytes } from '../fsutil/index.ts';
import type { DataRoot } from '../layout/index.ts';
import { conflict, invalidArgument, notFound, internal } from '../errors/index.ts';

/** The Engine API's Volume object (fields as docker names them). */
export interface VolumeInfo {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string>;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class Volumes {
  constructor(private readonly root: DataRoot) {}

  private meta(name: string): string { return join(this.root.volume(name), 'meta.json'); }
  /** The directory to bind into containers. */
  dataPath(name: string): string { return join(this.root.volume(name), '_data'); }

  /**
   * Creates a volume (an anonymous one gets a 64-hex name). Creating an existing name returns it unchanged,
   * as docker does. InvalidArgument with docker's text for a bad name.
   */
  async create(opts: { name?: string; labels?: Record<string, string>; driver?: string; options?: Record<string, string> } = {}): Promise<VolumeInfo> {
    const name = opts.name || randomBytes(32).toString('hex');
    if (opts.driver && opts.driver !== 'local') throw notFound(`plugin "${opts.driver}" not found`, { code: 'VOLUME_DRIVER' });
    if (!NAME_RE.test(name)) {
      throw invalidArgument(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`, { code: 'VOLUME_NAME' });
    }
    const existing = await this.get(name).catch(() => undefined);
    if (existing) return existing;
    await mkdir(this.dataPath(name), { recursive: true });
    const info: VolumeInfo = {
      Name: name, Driver: 'local', Mountpoint: this.dataPath(name), CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: opts.labels ?? {}, Scope: 'local', Options: opts.options ?? {},
    };
    await atomicWriteJSON(this.meta(name), info);
    return info;
  }

  /** NotFound with docker's text. */
  async get(name: string): Promise<VolumeInfo> {
    const info = NAME_RE.test(name) ? await readJSON<VolumeInfo>(this.meta(name)) : undefined;
    if (!info) throw notFound(`get ${name}: no such volume`, { code: 'VOLUME_UNKNOWN' });
    return { ...info, Mountpoint: this.dataPath(name) };
  }

  async list(): Promise<VolumeInfo[]> {
    let names: string[];
    try { names = await readdir(this.root.volumes); } catch { return []; }
    const out: VolumeInfo[] = [];
    for (const n of names.sort()) {
      const v = await this.get(n).catch(() => undefined);
      if (v) out.push(v);
    }
    return out;
  }

  /** Bytes of the files in a volume's data, as moby's directory.Size counts them (file sizes, links once). */
  size(name: string): Promise<number> {
    return dirBytes(this.dataPath(name));
  }

  /** Removes a volume; Conflict (docker's text) when `usedBy` lists containers, unless `force` is about a missing one. */
  async remove(name: string, opts: { usedBy?: string[]; force?: boolean } = {}): Promise<void> {
    const exists = await this.get(name).then(() => true, () => false);
    if (!exists) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`, { code: 'VOLUME_UNKNOWN' });
    }
    if (opts.usedBy && opts.usedBy.length > 0) {
      throw conflict(`remove ${name}: volume is in use - [${opts.usedBy.join(', ')}]`, { code: 'VOLUME_IN_USE' });
    }
    await rm(this.meta(name), { force: true });
    await rm(this.root.volume(name), { recursive: true, force: true });
  }

  /**
   * Removes unused volumes. As docker 23+, only anonymous ones unless `all`; `inUse` are the names containers
   * reference. Returns what was removed and the bytes reclaimed.
   */
  async prune(inUse: Iterable<string>, opts: { all?: boolean; labels?: (l: Record<string, string>) => boolean } = {}): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const used = new Set(inUse);
    const deleted: string[] = [];
    let space = 0;
    for (const v of await this.list()) {
      if (used.has(v.Name)) continue;
      if (!opts.all && !/^[a-f0-9]{64}$/.test(v.Name)) continue;
      if (opts.labels && !opts.labels(v.Labels)) continue;
      space += await dirBytes(v.Mountpoint);
      await this.remove(v.Name);
      deleted.push(v.Name);
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  /**
   * Docker's copy-up: when a volume is empty and first mounted over a path that exists in the image, the
   * image's files there (with owners, modes, xattrs) are copied into the volume. Returns whether it copied.
   */
  async populate(name: string, rootfs: string, containerPath: string): Promise<boolean> {
    const data = this.dataPath(name);
    if ((await readdir(data).catch(() => ['x'])).length > 0) return false;
    const src = join(rootfs, containerPath);
    try { await readdir(src); } catch { return false; }
    await new Promise<void>((resolve, reject) => {
      execFile('cp', ['-a', `${src}/.`, `${data}/`], (e, _o, stderr) => (e ? reject(internal(`copy ${containerPath} into volume ${name}: ${stderr.trim()}`)) : resolve()));
    });
    return true;
  }
}
