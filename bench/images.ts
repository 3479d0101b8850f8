// Issue 3's latency targets, end to end from a fresh CLI process each time:
//   `berth images` with 1,000 images      ≤ 150 ms   (anchor: `docker images` against Debian's dockerd)
//   `berth version` with the daemon up    ≤ 120 ms   (anchor: `docker version` against Debian's dockerd)
// plus the daemon's side alone (`GET /images/json` over the socket, no CLI start-up) for both daemons, and the
// floor: `node -e ""`, node's own start-up, which every berth command pays before its first line runs.
// berth runs as a user runs it: the executable bin/berth.js through its shebang, which starts node without
// NODE_EXTRA_CA_CERTS (see there). The floor is node started the same way; the floor with the environment as
// it is (where NODE_EXTRA_CA_CERTS may be set: node then parses the whole CA bundle first) is printed too.
// Both daemons get the same 1,000 one-layer images from one generated docker-archive (`docker load`).
// Usage: npm run bench -- images [N=1000] [RUNS=15]
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import http from 'node:http';
import * as tar from 'tar-stream';
import { sh, timeIt, median, report, type Row } from './lib.ts';
import { startDockerd, haveDockerd } from './anchors.ts';
import { startDaemon, REPO } from '../test/helpers/index.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function tarOf(files: { name: string; body: Buffer }[]): Buffer {
  // a tiny ustar archive built by hand (each entry < 100 bytes of name, content < 8 GiB)
  const blocks: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(f.body.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('14000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, f.body, Buffer.alloc((512 - (f.body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A legacy docker-archive (`<id>/layer.tar`, `<config>.json`, manifest.json) with `n` one-layer images. */
export async function makeArchive(path: string, n: number): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(path));
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const created = new Date(Date.UTC(2024, 0, 1)).toISOString();
  for (let i = 0; i < n; i++) {
    const layer = tarOf([{ name: 'hello.txt', body: Buffer.from(`image ${i}\n`) }]);
    const diffId = sha(layer);
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created, config: { Cmd: ['/hello'], Labels: { n: String(i) } },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created, created_by: `bench image ${i}` }],
    }));
    const cfgHex = sha(config);
    pack.entry({ name: `${diffId}/layer.tar` }, layer);
    pack.entry({ name: `${cfgHex}.json` }, config);
    manifest.push({ Config: `${cfgHex}.json`, RepoTags: [`bench/img${i}:latest`], Layers: [`${diffId}/layer.tar`] });
  }
  pack.entry({ name: 'manifest.json' }, JSON.stringify(manifest));
  pack.finalize();
  await done;
}

function getImagesJson(socketPath: string, version: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: `/v${version}/images/json`, agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => resolve(n));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs every command once per round, in turn, for `runs` rounds, and returns each one's median: on a shared
 * machine load comes and goes, and taking turns spreads it over all of them instead of whichever ran then.
 */
async function medians(runs: number, fns: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const xs: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [k, fn] of Object.entries(fns)) xs[k]!.push((await timeIt(fn)).ms);
  return Object.fromEntries(Object.entries(xs).map(([k, v]) => [k, median(v)]));
}

export default async function (args: string[]): Promise<void> {
  const n = Number(args[0] ?? 1000);
  const runs = Number(args[1] ?? 15);
  const dir = await mkdtemp(join(tmpdir(), 'bench-images-'));
  const archive = join(dir, 'many.tar');
  await makeArchive(archive, n);
  const berthBin = join(REPO, 'bin', 'berth.js');
  const berth = await startDaemon({ timeoutMs: 30_000 });
  const anchor = (await haveDockerd()) ? await startDockerd() : undefined;
  try {
    await sh('docker', ['load', '-q', '-i', archive], { env: berth.dockerEnv });
    if (anchor) await sh('docker', ['load', '-q', '-i', archive], { env: anchor.env });
    // bin/berth.js keeps a V8 code cache (written by the first run): a private one, warmed here, as a user's is
    const env = { ...berth.dockerEnv, BERTH_CODE_CACHE: join(dir, 'code-cache') };
    const count = (await sh(berthBin, ['images', '-q'], { env })).trim().split('\n').length;
    if (count !== n) throw new Error(`berth images lists ${count} images, expected ${n}`);
    const cold = { ...env, BERTH_CODE_CACHE: '0' };

    const m = await medians(runs, {
      bImages: () => sh(berthBin, ['images'], { env }),
      bVersion: () => sh(berthBin, ['version'], { env }),
      bVersionNoCache: () => sh(berthBin, ['version'], { env: cold }),
      // the floor every berth command pays before its first line of code: starting node itself, as bin/berth.js does
      floor: () => sh('env', ['-u', 'NODE_EXTRA_CA_CERTS', 'node', '-e', '']),
      floorEnv: () => sh('node', ['-e', '']),
      bApi: () => getImagesJson(berth.socketPath, '1.51'),
      bDocker: () => sh('docker', ['images'], { env }),
      ...(anchor ? {
        aImages: () => sh('docker', ['images'], { env: anchor.env }),
        aVersion: () => sh('docker', ['version'], { env: anchor.env }),
        aApi: () => getImagesJson(anchor.socket, '1.41'),
      } : {}),
    });
    const a = (k: string): number => m[k] ?? 0;
    const rows: Row[] = [
      { name: `berth images (${n} images) vs docker images`, berth: a('bImages'), anchor: a('aImages'), anchorName: 'dockerd', target: '≤ 150 ms' },
      { name: 'berth version vs docker version', berth: a('bVersion'), anchor: a('aVersion'), anchorName: 'dockerd', target: '≤ 120 ms' },
      { name: `berth images (${n}) vs the floor`, berth: a('bImages'), anchor: a('floor'), anchorName: 'node -e ""' },
      { name: 'berth version vs the floor', berth: a('bVersion'), anchor: a('floor'), anchorName: 'node -e ""' },
      { name: 'berth version, no code cache vs cached', berth: a('bVersionNoCache'), anchor: a('bVersion'), anchorName: 'cached' },
      { name: `GET /images/json (${n}), daemon only`, berth: a('bApi'), anchor: a('aApi'), anchorName: 'dockerd' },
      { name: `docker images (${n}): berthd vs dockerd`, berth: a('bDocker'), anchor: a('aImages'), anchorName: 'dockerd' },
      { name: 'floor: node -e "" vs docker version', berth: a('floor'), anchor: a('aVersion'), anchorName: 'dockerd' },
      ...(process.env.NODE_EXTRA_CA_CERTS ? [{ name: 'floor with NODE_EXTRA_CA_CERTS vs without', berth: a('floorEnv'), anchor: a('floor'), anchorName: 'without' }] : []),
    ];
    report(`images: ${n} images, median of ${runs} rounds (each round runs every command once, in turn)`, rows);
    console.log(`absolute: berth images ${a('bImages').toFixed(0)} ms (target ≤ 150), berth version ${a('bVersion').toFixed(0)} ms (target ≤ 120); ` +
      `over node's own start-up (${a('floor').toFixed(0)} ms): images +${(a('bImages') - a('floor')).toFixed(0)} ms, version +${(a('bVersion') - a('floor')).toFixed(0)} ms`);
  } finally {
    await berth.stop();
    await anchor?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
