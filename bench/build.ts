// `npm run bench -- build`: end to end, side by side in one run — `berth build` (CLI → berthd, dist bundles),
// `docker build` against Debian's dockerd 20.10 classic builder (DOCKER_BUILDKIT=0) and `buildah bud --layers`
// (private storage root, overlay, --isolation chroot); same context, same Dockerfile. Context: 2,000 files /
// 50 MB in 40 directories. Dockerfile (issue 7): FROM busybox (imported from busybox-static on every side),
// COPY . /app, two RUN steps, CMD. Each figure includes the client's start-up and the context transfer.
// Rows: cold build, no-change rebuild, rebuild after editing one copied file (ratios vs dockerd and buildah);
// then two independent stages (in process) and, with `mem`, the 1 GiB context's RSS.
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { report, sh, timeIt, median, type Row } from './lib.ts';
import { startDockerd, haveDockerd } from './anchors.ts';
import { startDaemon, importBusybox } from '../test/helpers/index.ts';
import { spawnSync } from 'node:child_process';
import { busyboxRootfsTar } from '../test/helpers/busybox.ts';
import { ImageService } from '../src/images/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { tarDirectory } from '../src/archive/index.ts';
import { Builder, LazyContext, buildRuntimeOf } from '../src/build/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { Readable } from 'node:stream';

const DOCKERFILE = 'FROM busybox\nCOPY . /app\nRUN du -s /app > /app-size\nRUN echo built > /built\nCMD ["sh"]\n';

async function makeContext(dir: string, files = 2000, bytes = 50 * 1024 * 1024): Promise<void> {
  const per = Math.floor(bytes / files);
  for (let d = 0; d < 40; d++) await mkdir(join(dir, `d${d}`), { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(dir, `d${i % 40}`, `f${i}.bin`), randomBytes(per));
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
}

/** `npm run bench -- build mem`: peak RSS while a 1 GiB context is received and COPY'd (memory must stay flat). */
async function memory(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'bbmem-'));
  try {
    const ctx = join(base, 'ctx');
    await mkdir(ctx);
    const chunk = randomBytes(1 << 20);
    for (let f = 0; f < 8; f++) {
      await writeFile(join(ctx, `big${f}.bin`), '');
      const { appendFile } = await import('node:fs/promises');
      for (let i = 0; i < 128; i++) await appendFile(join(ctx, `big${f}.bin`), chunk);
    }
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY . /data\n');
    await mkdir(join(base, 'rootfs'));
    const layout = new DataRoot(join(base, 'berth'));
    const images = await ImageService.open({ root: layout });
    const b = new Builder({ images, snapshots: new Snapshotter(layout), layout });
    await images.import(createReadStream(await busyboxRootfsTar(join(base, 'rootfs'))), { ref: 'busybox:latest' });
    const before = process.memoryUsage().rss;
    let peak = before;
    const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const { ms } = await timeIt(async () => b.build({ context: await LazyContext.receive(Readable.from(tarDirectory(ctx)), join(base, 'w')) }));
    clearInterval(t);
    await images.close();
    console.log(`1 GiB context received + COPY: ${ms.toFixed(0)} ms; RSS ${(before / 1048576).toFixed(0)} MiB before, ${(peak / 1048576).toFixed(0)} MiB peak`);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

interface Side { name: string; build: () => Promise<unknown>; cold: number; nochange: number[]; onefile: number[] }

/**
 * Interleaved, so a load swing on this shared machine hits every side alike: each side's cold build, then
 * `runs` rounds of one no-change rebuild per side, then `runs` rounds of: edit one copied file, rebuild each side.
 */
async function measure(sides: Side[], edit: string, runs: number): Promise<void> {
  for (const s of sides) s.cold = (await timeIt(s.build)).ms;
  for (let i = 0; i < runs; i++) for (const s of sides) s.nochange.push((await timeIt(s.build)).ms);
  for (let i = 0; i < runs; i++) {
    await writeFile(edit, randomBytes(25 * 1024));
    for (const s of sides) s.onefile.push((await timeIt(s.build)).ms);
  }
}

const range = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;

export default async function (args: string[]): Promise<void> {
  if (args[0] === 'mem') return memory();
  const runs = Number(args[0] ?? 3);
  const base = await mkdtemp(join(tmpdir(), 'bbench-'));
  const ctx = join(base, 'ctx');
  await mkdir(ctx);
  await makeContext(ctx);
  await mkdir(join(base, 'rootfs'));
  const rootfs = await busyboxRootfsTar(join(base, 'rootfs'));
  const edit = join(ctx, 'd7', 'f7.bin');
  const sides: Side[] = [];
  const side = (name: string, build: () => Promise<unknown>): Side => { const s = { name, build, cold: 0, nochange: [], onefile: [] }; sides.push(s); return s; };

  // berth: the CLI against berthd, as a user runs it
  const d = await startDaemon();
  const dd = (await haveDockerd()) ? await startDockerd() : undefined;
  const bh = ['--root', join(base, 'bh-root'), '--runroot', join(base, 'bh-run'), '--storage-driver', 'overlay'];
  const haveBuildah = spawnSync('buildah', ['--version']).status === 0;
  let berth: Side;
  let docker: Side | undefined;
  let buildah: Side | undefined;
  try {
    await importBusybox(d);
    const benv = { ...process.env, BERTH_HOST: d.host };
    // bin/berth.js run as a user's shell runs it (its shebang drops NODE_EXTRA_CA_CERTS, which costs node ~80 ms
    // of start-up here and the CLI never uses); the docker CLI and buildah run in the same environment
    berth = side('berth', () => sh('bin/berth.js', ['build', '-q', '-t', 'bench:latest', ctx], { env: benv }));
    if (dd) {
      // docker (classic builder)
      const env = { ...dd.env, DOCKER_BUILDKIT: '0' };
      await sh('docker', ['import', rootfs, 'busybox:latest'], { env });
      docker = side('dockerd', () => sh('docker', ['build', '-q', '-t', 'bench:latest', ctx], { env }));
    }
    if (haveBuildah) {
      // buildah, private storage (removed afterwards, mounts included)
      const c = (await sh('buildah', [...bh, 'from', 'scratch'])).trim().split('\n').at(-1)!;
      await sh('buildah', [...bh, 'add', c, rootfs, '/']);
      await sh('buildah', [...bh, 'commit', '-q', c, 'busybox:latest']);
      await sh('buildah', [...bh, 'rm', c]);
      buildah = side('buildah', () => sh('buildah', [...bh, 'bud', '--layers', '--isolation', 'chroot', '-q', '-t', 'bench:latest', ctx]));
    }
    await measure(sides, edit, runs);
  } finally {
    await d.stop();
    await dd?.stop();
    if (haveBuildah) {
      await sh('buildah', [...bh, 'rm', '--all']).catch(() => '');
      await sh('buildah', [...bh, 'rmi', '--all', '--force']).catch(() => '');
      await sh('sh', ['-c', `grep -o " ${base}/bh-[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => '');
    }
  }

  // Two independent stages (a COPY and a RUN each) and a final stage taking both: the whole build against
  // the sum of each stage built alone (fresh store each time), in process.
  const multi = [
    'FROM busybox AS a', 'COPY d1 /a', 'RUN sleep 1 && ls /a > /a/list',
    'FROM busybox AS b', 'COPY d2 /b', 'RUN sleep 1 && ls /b > /b/list',
    'FROM scratch', 'COPY --from=a /a/list /a.list', 'COPY --from=b /b/list /b.list', '',
  ].join('\n');
  let n = 0;
  const fresh = async (target?: string): Promise<number> => {
    const l2 = new DataRoot(join(base, `multi-${n++}`));
    const im2 = await ImageService.open({ root: l2 });
    await im2.import(createReadStream(rootfs), { ref: 'busybox:latest' });
    const rt2 = buildRuntimeOf(new Runtime({ dataRoot: l2, stateDir: join(base, `rs-${n}`) }));
    const b2 = new Builder({ images: im2, snapshots: new Snapshotter(l2), layout: l2, runtime: rt2 });
    const { ms } = await timeIt(() => b2.build({ contextDir: ctx, dockerfile: multi, target }));
    await im2.close();
    return ms;
  };
  const whole = await fresh();
  const alone = (await fresh('a')) + (await fresh('b'));
  await rm(base, { recursive: true, force: true });

  const rows: Row[] = [];
  const add = (name: string, k: 'cold' | 'nochange' | 'onefile', target: string): void => {
    const v = (s: Side): number => (k === 'cold' ? s.cold : median(s[k]));
    if (docker) rows.push({ name, berth: v(berth), anchor: v(docker), anchorName: 'dockerd', target });
    if (buildah) rows.push({ name: `${name} (buildah)`, berth: v(berth), anchor: v(buildah), anchorName: 'buildah' });
    if (!docker && !buildah) rows.push({ name, berth: v(berth), anchor: 0, anchorName: 'none' });
  };
  add('cold build (COPY 2,000 files/50 MB, 2 RUN)', 'cold', '≤ 1.0');
  add('no-change rebuild', 'nochange', '≤ 0.3, ≤ 400 ms');
  add('rebuild after editing one file', 'onefile', '≤ 0.5');
  rows.push({ name: 'two independent stages, whole build', berth: whole, anchor: alone, anchorName: 'sum alone', target: '≤ 0.7' });
  report('build end to end (berth CLI → berthd | docker CLI → dockerd 20.10 classic | buildah bud --layers)', rows);
  console.log(`no-change ranges: berth ${range(berth.nochange)}${docker ? `, dockerd ${range(docker.nochange)}` : ''}${buildah ? `, buildah ${range(buildah.nochange)}` : ''}`);
  console.log(`one-file ranges: berth ${range(berth.onefile)}${docker ? `, dockerd ${range(docker.onefile)}` : ''}${buildah ? `, buildah ${range(buildah.onefile)}` : ''}`);
  // per-round ratios (each round ran the sides back to back, so they share the machine's load)
  for (const other of [docker, buildah]) {
    if (!other) continue;
    const rr = (k: 'nochange' | 'onefile'): string => {
      const xs = berth[k].map((v, i) => v / other[k][i]!);
      return `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
    };
    console.log(`per-round ratio vs ${other.name}: no-change ${rr('nochange')}, one-file ${rr('onefile')}`);
  }
}
