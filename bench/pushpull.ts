// Pull and push of an image with 4 × 64 MB (compressed, incompressible content) layers through berthd, side by
// side with `skopeo copy` between the same endpoints and Debian's dockerd (`docker pull` / `docker push`), against
// distribution 2.8 and the berth registry. Push sends the pulled (already gzip) layers to the *other* registry,
// so nothing is mounted and nothing recompressed for berth and skopeo; dockerd recompresses on push (it keeps
// no compressed blobs) — its figure includes compression. Also: the single-core floor (openssl sha256 of the
// blob + gzip -dc | openssl sha256 for the diffID) against berth's per-layer pull time, and berthd's peak RSS.
// skopeo only stores blobs (into an OCI layout); berth's default pull also unpacks every layer into a snapshot,
// as docker does — so the "pull, blobs only" rows (daemon.json "unpack-on-pull": false: blobs stored, digest and
// diffID verified while streaming, unpacking left to the first run) are the like-for-like comparison.
//   npm run bench -- pushpull [--mb 64] [--layers 4]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh, timeIt, peakRss, report, type Row } from './lib.ts';
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
    let distHost = '';
    for (const kind of ['distribution', 'berth-registry']) {
      const src = await startReg(kind);
      if (kind === 'distribution') distHost = src;
      await sh('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${img.oci}:1`, `docker://${src}/bench/img:1`]);
      // pull: a fresh berthd, skopeo into a fresh OCI layout, a fresh dockerd
      const d = await startDaemon(); stops.push(() => d.stop());
      const rss = peakRss(d.pid);
      const bp = await timeIt(async () => drainStream(await d.client.request('POST', '/images/create', { query: { fromImage: `${src}/bench/img`, tag: '1' } })));
      const peak = rss.stop();
      const sp = await timeIt(() => sh('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${src}/bench/img:1`, `oci:${join(dir, `sk-${n++}`)}:1`]));
      rows.push({ name: `pull from ${kind} (unpacked)`, berth: bp.ms, anchor: sp.ms, anchorName: 'skopeo', target: '≤ 1.0' });
      rows.push({ name: `  berthd peak RSS during that pull`, berth: peak, anchor: 0, anchorName: '', unit: 'B' });
      const lazy = await startDaemon({ config: { 'unpack-on-pull': false } }); stops.push(() => lazy.stop());
      const lp = await timeIt(async () => drainStream(await lazy.client.request('POST', '/images/create', { query: { fromImage: `${src}/bench/img`, tag: '1' } })));
      const sp2 = await timeIt(() => sh('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${src}/bench/img:1`, `oci:${join(dir, `sk-${n++}`)}:1`]));
      rows.push({ name: `pull from ${kind} (blobs only)`, berth: lp.ms, anchor: sp2.ms, anchorName: 'skopeo', target: '≤ 1.0' });
      await lazy.stop();
      const dockerd = dockerdOk ? await startDockerd() : undefined;
      if (dockerd) {
        stops.push(() => dockerd.stop());
        const dp = await timeIt(() => sh('docker', ['pull', '-q', `${src}/bench/img:1`], { env: dockerd.env }));
        rows.push({ name: `pull from ${kind} (both unpack)`, berth: bp.ms, anchor: dp.ms, anchorName: 'dockerd', target: '≤ 0.6' });
      }
      // push: each tool into its own empty registry of the same kind (nothing to mount or skip)
      const [t1, t2, t3] = [await startReg(kind), await startReg(kind), dockerd ? await startReg(kind) : ''];
      await (await d.client.request('POST', `/images/${encodeURIComponent(`${src}/bench/img:1`)}/tag`, { query: { repo: `${t1}/bench/img`, tag: '1' } })).resume();
      const bpush = await timeIt(async () => drainStream(await d.client.request('POST', `/images/${encodeURIComponent(`${t1}/bench/img`)}/push`, { query: { tag: '1' } })));
      const spush = await timeIt(() => sh('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${img.oci}:1`, `docker://${t2}/bench/img:1`]));
      rows.push({ name: `push to ${kind} (compressed layers)`, berth: bpush.ms, anchor: spush.ms, anchorName: 'skopeo', target: '≤ 1.0' });
      if (dockerd) {
        await sh('docker', ['tag', `${src}/bench/img:1`, `${t3}/bench/img:1`], { env: dockerd.env });
        const dpush = await timeIt(() => sh('docker', ['push', '-q', `${t3}/bench/img:1`], { env: dockerd.env }));
        rows.push({ name: `push to ${kind} (dockerd recompresses)`, berth: bpush.ms, anchor: dpush.ms, anchorName: 'dockerd', target: '≤ 0.6' });
        await dockerd.stop();
      }
      await d.stop();
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
