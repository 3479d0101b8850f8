// Shared set-up for the builder tests that drive src/build directly (no berthd): a temp data root with the
// busybox-static rootfs imported as busybox:latest, a Builder (with a runtime when RUN steps must execute), and a
// context directory with the given files. closeBuilder() also lazily unmounts anything a failed test left mounted.
import { mkdtemp, mkdir, rm, writeFile, utimes } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ImageService } from '../src/images/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { Builder, buildRuntimeOf } from '../src/build/index.ts';
import { busyboxRootfsTar } from './helpers/index.ts';

export interface BuilderBench { dir: string; layout: DataRoot; images: ImageService; snapshots: Snapshotter; builder: Builder; ctx: string }

export async function openBuilder(prefix: string, files: Record<string, string>, o: { runtime?: boolean; root?: string } = {}): Promise<BuilderBench> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const layout = new DataRoot(join(dir, o.root ?? 'd'));
  const images = await ImageService.open({ root: layout });
  const snapshots = new Snapshotter(layout);
  const runtime = o.runtime ? buildRuntimeOf(new Runtime({ dataRoot: layout, stateDir: join(dir, 's') })) : undefined;
  const builder = new Builder({ images, snapshots, layout, ...(runtime ? { runtime } : {}) });
  await mkdir(join(dir, 'rootfs'));
  await images.import(createReadStream(await busyboxRootfsTar(join(dir, 'rootfs'))), { ref: 'busybox:latest' });
  const ctx = join(dir, 'ctx');
  await mkdir(ctx);
  for (const [name, body] of Object.entries(files)) {
    await mkdir(dirname(join(ctx, name)), { recursive: true });
    await writeFile(join(ctx, name), body);
  }
  return { dir, layout, images, snapshots, builder, ctx };
}

export async function closeBuilder(b: BuilderBench | undefined): Promise<void> {
  if (!b) return;
  await b.images.close();
  const mounts = execFileSync('sh', ['-c', `grep -o ' ${b.dir}[^ ]*' /proc/self/mountinfo || true`], { encoding: 'utf8' })
    .split('\n').map((s) => s.trim()).filter(Boolean);
  for (const m of mounts.reverse()) { try { execFileSync('umount', ['-l', m]); } catch { /* gone */ } }
  await rm(b.dir, { recursive: true, force: true });
}

/**
 * A build context `root/name`: the Dockerfile and `files` (paths may name subdirectories). `mtime` back-dates
 * the files (a context the stat-keyed caches may trust: not written in the last moments).
 */
export async function writeContext(root: string, name: string, dockerfile: string, files: Record<string, string> = {}, o: { mtime?: Date } = {}): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  for (const [f, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await writeFile(join(dir, f), c);
    if (o.mtime) await utimes(join(dir, f), o.mtime, o.mtime);
  }
  return dir;
}
