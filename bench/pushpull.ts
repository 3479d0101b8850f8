// Pull and push of an image with 4 × 64 MB (compressed, incompressible content) layers through berthd, side by
// side with `skopeo copy` between the same endpoints and Debian's dockerd (`docker pull` / `docker push`), against
// distribution 2.8 and the berth registry. Push sends the pulled (already gzip) layers to the *other* registry,
// so nothing is mounted and nothing recompressed for berth and skopeo; dockerd recompresses on push (it keeps
// no compressed blobs) — its figure includes compression. Also: the single-core floor (openssl sha256 of the
// blob + gzip -dc | openssl sha256 for the diffID) against berth's per-layer pull time, and berthd's peak RSS.
// What each side does on pull (3 layers at a time for berth and dockerd, as configured by default; skopeo fetched
// all 4 at once here):
//   skopeo copy docker:// → oci:<fresh dir>   digest of each blob checked while it streams, each blob fsynced;
//                                               no decompression, no diffID, nothing unpacked, no image record
//   berthd "unpack-on-pull": false              the same, plus gunzip + diffID check + docker's layer size while
//                                               streaming (both hashes and the gunzip on berthd's hashing
//                                               worker), and the image recorded (fsynced metadata) — the
//                                               like-for-like row against skopeo ("blobs only")
//   berthd (default)                            that, plus each layer unpacked into its snapshot as it downloads
//   dockerd 20.10 (overlay2) docker pull        digest + diffID checked, layers unpacked (one at a time);
//                                               compressed blobs not kept — the like-for-like row is "both unpack"
//   npm run bench -- pushpull [--mb 64] [--layers 4] [--rounds 3]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh, timeIt, peakRss, report, median, type Row } from './lib.ts';
import { startDaemon } from '../test/helpers/index.ts';
import { startDistribution } from '../test/distribution-fixtures.ts';
import { haveDockerd, startDockerd } from './anchors.ts';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function startBerthRegistryProc(dir: string): Promise<{ host: string; stop(): Promise<void> }> {
  // the bundle `npm run bench` just built, as deployed (through tsx its loader thread competes for the 2 cores)
  const p: ChildProcess = spawn(process.execPath, ['dist/berth-registry.mjs', 'serve', '--addr', '127.0.0.1:0', '--root', join(dir, 'breg')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const host = await new Promise<string>((resolve, reject) => {
    const on = (d: Buffer) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]!); };
    p.stdout!.on('data', on); p.stderr!.on('data', on);
    p.on('exit', (c) => reject(new Error(`berth registry exited ${c}: ${out}`)));
  });
  p.stdout!.resume(); p.stderr!.resume();
  return { host, async stop() { const e = new Promise((r) => p.once('exit', r)); p.kill('SIGTERM'); await e; } };
}

/** An OCI layout with `layers` gzip layers of `mb` MiB random (incompressible) data each. */
async function makeImage(dir: string, layers: number, mb: number): Promise<{ oci: string; gz: string[] }> {
  const oci = join(dir, 'oci');
  mkdirSync(join(oci, 'blobs', 'sha256'), { recursive: true });
  const descs = []; const diffIds = []; const gz: string[] = [];
  for (let i = 0; i < layers; i++) {
    const raw = join(dir, `l${i}.tar`);
    // a real tar (dockerd unpacks it) holding one file of random bytes
    await sh('sh', ['-c', `mkdir -p ${dir}/f${i} && head -c ${mb}M /dev/urandom > ${dir}/f${i}/data${i} && tar cf ${raw} -C ${dir}/f${i} data${i} && rm -r ${dir}/f${i} && pigz -1 -n -c ${raw} > ${raw}.gz`]);
    const rawB = readFileSync(raw); const gzB = readFileSync(`${raw}.gz`);
    diffIds.push(sha(rawB));
    const d = sha(gzB);
    writeFileSync(join(oci, 'blobs', 'sha256', d.slice(7)), gzB);
    descs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d, size: gzB.length });
    gz.push(`${raw}.gz`);
    rmSync(raw);
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, history: diffIds.map(() => ({ created_by: 'bench' })) }));
  writeFileSync(join(oci, 'blobs', 'sha256', sha(config).slice(7)), config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: descs }));
  writeFileSync(join(oci, 'blobs', 'sha256', sha(manifest).slice(7)), manifest);
  writeFileSync(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(oci, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1' } }] }));
  return { oci, gz };
}

async function drainStream(res: import('node:http').IncomingMessage): Promise<void> {
  let buf = '';
  for await (const c of res) {
    buf += c;
    const lines = buf.split('\n'); buf = lines.pop()!;
    for (const l of lines) if (l.includes('"error"')) throw new Error(l);
  }
}

export default async function (args: string[]): Promise<void> {
  const mb = Number(args[args.indexOf('--mb') + 1] || 64) || 64;
  const nl = Number(args[args.indexOf('--layers') + 1] || 4) || 4;
  const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) || 3 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-pp-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const img = await makeImage(dir, nl, mb);
    const startReg = async (kind: string) => {
      const r = kind === 'distribution' ? await startDistribution() : await startBerthRegistryProc(mkdtempSync(join(dir, 'r-')));
      stops.push(() => r.stop());
      return r.host;
    };
    const rows: Row[] = [];
    const dockerdOk = await haveDockerd();
    let n = 0;
    // skopeo into a fresh OCI layout (removed after: 256 MB a round)
    const skopeoPull = async (src: string): Promise<number> => {
      const to = join(dir, `sk-${n++}`);
      const ms = (await timeIt(() => sh('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${src}/bench/img:1`, `oci:${to}:1`]))).ms;
      rmSync(to, { recursive: true, force: true });
      return ms;
    };
    let distHost = '';
    for (const kind of ['distribution', 'berth-registry']) {
      const src = await startReg(kind);
      if (kind === 'distribution') distHost = src;
      await sh('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${img.oci}:1`, `docker://${src}/bench/img:1`]);
      // pull, in rounds (load on the shared machine swings within seconds): each round a fresh berthd, skopeo
      // into a fresh OCI layout, a fresh berthd with "unpack-on-pull": false, skopeo again, a fresh dockerd.
      // Rows give medians; the per-round ratios show the spread.
      const t = { unpacked: [] as number[], sk1: [] as number[], lazy: [] as number[], sk2: [] as number[], dockerd: [] as number[], rss: [] as number[], lrss: [] as number[] };
      let d: Awaited<ReturnType<typeof startDaemon>> | undefined;
      let dockerd: Awaited<ReturnType<typeof startDockerd>> | undefined;
      for (let r = 0; r < rounds; r++) {
        await d?.stop();
        const dd = d = await startDaemon(); stops.push(() => dd.stop());
        const rss = peakRss(dd.pid);
        t.unpacked.push((await timeIt(async () => drainStream(await dd.client.request('POST', '/images/create', { query: { fromImage: `${src}/bench/img`, tag: '1' } })))).ms);
        t.rss.push(rss.stop());
        t.sk1.push(await skopeoPull(src));
        const lazy = await startDaemon({ config: { 'unpack-on-pull': false } }); stops.push(() => lazy.stop());
        const lrss = peakRss(lazy.pid);
        t.lazy.push((await timeIt(async () => drainStream(await lazy.client.request('POST', '/images/create', { query: { fromImage: `${src}/bench/img`, tag: '1' } })))).ms);
        t.lrss.push(lrss.stop());
        await lazy.stop();
        t.sk2.push(await skopeoPull(src));
        if (dockerdOk) {
          await dockerd?.stop();
          const ad = dockerd = await startDockerd(); stops.push(() => ad.stop());
          t.dockerd.push((await timeIt(() => sh('docker', ['pull', '-q', `${src}/bench/img:1`], { env: ad.env }))).ms);
        }
      }
      const per = (a: number[], b: number[]) => `per round ${a.map((x, i) => (x / b[i]!).toFixed(2)).join(' ')}`;
      rows.push({ name: `pull from ${kind} (unpacked; ${per(t.unpacked, t.sk1)})`, berth: median(t.unpacked), anchor: median(t.sk1), anchorName: 'skopeo', target: '≤ 1.0' });
      rows.push({ name: `  berthd peak RSS during that pull`, berth: Math.max(...t.rss), anchor: 0, anchorName: '', unit: 'B' });
      rows.push({ name: `pull from ${kind} (blobs only; ${per(t.lazy, t.sk2)})`, berth: median(t.lazy), anchor: median(t.sk2), anchorName: 'skopeo', target: '≤ 1.0' });
      rows.push({ name: `  berthd peak RSS during that pull`, berth: Math.max(...t.lrss), anchor: 0, anchorName: '', unit: 'B' });
      if (dockerd) rows.push({ name: `pull from ${kind} (both unpack; ${per(t.unpacked, t.dockerd)})`, berth: median(t.unpacked), anchor: median(t.dockerd), anchorName: 'dockerd', target: '≤ 0.6' });
      const keep = d!; // the last round's berthd and dockerd hold the pulled image for the push
      // push: each tool into its own empty registry of the same kind (nothing to mount or skip)
      const [t1, t2, t3] = [await startReg(kind), await startReg(kind), dockerd ? await startReg(kind) : ''];
      await (await keep.client.request('POST', `/images/${encodeURIComponent(`${src}/bench/img:1`)}/tag`, { query: { repo: `${t1}/bench/img`, tag: '1' } })).resume();
      const bpush = await timeIt(async () => drainStream(await keep.client.request('POST', `/images/${encodeURIComponent(`${t1}/bench/img`)}/push`, { query: { tag: '1' } })));
      const spush = await timeIt(() => sh('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${img.oci}:1`, `docker://${t2}/bench/img:1`]));
      rows.push({ name: `push to ${kind} (compressed layers)`, berth: bpush.ms, anchor: spush.ms, anchorName: 'skopeo', target: '≤ 1.0' });
      if (dockerd) {
        await sh('docker', ['tag', `${src}/bench/img:1`, `${t3}/bench/img:1`], { env: dockerd.env });
        const dpush = await timeIt(() => sh('docker', ['push', '-q', `${t3}/bench/img:1`], { env: dockerd.env }));
        rows.push({ name: `push to ${kind} (dockerd recompresses)`, berth: bpush.ms, anchor: dpush.ms, anchorName: 'dockerd', target: '≤ 0.6' });
        await dockerd.stop();
      }
      await keep.stop();
    }
    // the single-core floor for the same bytes: sha256 of the blob + gunzip | sha256 for the diffID
    const floor = await timeIt(async () => {
      for (const g of img.gz) await sh('sh', ['-c', `openssl dgst -sha256 ${g} >/dev/null && gzip -dc ${g} | openssl dgst -sha256 >/dev/null`]);
    });
    const bytes = img.gz.reduce((a, g) => a + statSync(g).size, 0);
    // one-layer-at-a-time pull through berthd (max-concurrent-downloads 1) to compare per-layer throughput
    const d1 = await startDaemon({ config: { 'max-concurrent-downloads': 1 } }); stops.push(() => d1.stop());
    const one = await timeIt(async () => drainStream(await d1.client.request('POST', '/images/create', { query: { fromImage: `${distHost}/bench/img`, tag: '1' } })));
    rows.push({ name: `per-layer pull MB/s (1 at a time) vs floor`, berth: bytes / 1e6 / (one.ms / 1000), anchor: bytes / 1e6 / (floor.ms / 1000), anchorName: 'openssl+gzip', unit: 'MB/s', target: '≥ 0.6' });
    report(`pushpull: ${nl} × ${mb} MiB gzip layers`, rows);
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
