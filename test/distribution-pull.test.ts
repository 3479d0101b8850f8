// Pull and push pipelines between the real content store and a real registry (distribution 2.8), with the
// fault-injecting proxy for cut connections (resume with Range), corrupt blobs and dead mirrors.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openContentStore, type ContentStore } from '../src/content/index.ts';
import { RegistryClient, pull, push, BlobSources, type ProgressEvent, type UnpackRequest } from '../src/distribution/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { digestOf, type Digest } from '../src/digest/index.ts';
import { parse as parseRef } from '../src/reference/index.ts';
import { MediaType, chainIds, type Descriptor } from '../src/image/index.ts';
import { HAVE_REGISTRY, startDistribution, startProxy, type Started } from './distribution-fixtures.ts';

const skip = HAVE_REGISTRY ? false : 'docker-registry (Debian package docker-registry) is not installed';

const dirs: string[] = [];
async function store(): Promise<ContentStore> {
  const d = mkdtempSync(join(tmpdir(), 'berth-pull-'));
  dirs.push(d);
  return openContentStore(d);
}
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A local image as `load` leaves it: uncompressed layers, a Docker v2s2 manifest. */
async function localImage(cs: ContentStore, layerSizes: number[], arch = 'amd64') {
  const layers = layerSizes.map((n) => randomBytes(n));
  const diffIds = layers.map((l) => digestOf(l));
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  for (const l of layers) await cs.put(l);
  await cs.put(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.DockerManifest,
    config: { mediaType: MediaType.DockerConfig, digest: digestOf(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: digestOf(l), size: l.length })),
  }));
  await cs.put(manifest);
  const target: Descriptor = { mediaType: MediaType.DockerManifest, digest: digestOf(manifest), size: manifest.length };
  return { layers, diffIds, config, manifest, target };
}

function statuses(evs: ProgressEvent[], id?: string): string[] {
  return evs.filter((e) => (id === undefined || e.id === id) && e.status && !e.progressDetail?.total).map((e) => e.status!);
}

describe('pull/push pipelines against distribution 2.8', { skip }, () => {
  let reg: Started;
  let client: RegistryClient;
  before(async () => { reg = await startDistribution(); client = new RegistryClient({ backoffMs: 5 }); });
  after(async () => { client?.close(); await reg?.stop(); });

  test('push gzips uncompressed layers and rewrites the manifest; pull verifies and stores everything', async () => {
    const src = await store();
    const img = await localImage(src, [200_000, 50_000]);
    const ref = parseRef(`${reg.host}/team/app:v1`);
    const evs: ProgressEvent[] = [];
    const pushed = await push(ref, img.target, { client, content: src, onProgress: (e) => evs.push(e) });
    assert.equal(evs[0]!.status, `The push refers to repository [${reg.host}/team/app]`);
    const id0 = img.diffIds[0]!.slice(7, 19);
    assert.deepEqual(statuses(evs, id0), ['Preparing', 'Pushed']);
    assert.ok(evs.some((e) => e.id === id0 && e.status === 'Pushing' && e.progressDetail?.total === 200_000));
    assert.equal(evs.at(-2)!.status, `v1: digest: ${pushed.digest} size: ${pushed.size}`);
    assert.deepEqual(evs.at(-1)!.aux, { Tag: 'v1', Digest: pushed.digest, Size: pushed.size });
    assert.notEqual(pushed.digest, img.target.digest, 'manifest rewritten for the gzip layers');
    const m = JSON.parse(pushed.bytes.toString());
    assert.equal(m.layers[0].mediaType, MediaType.DockerLayer);
    assert.ok(await src.has(pushed.digest), 'the pushed manifest is stored locally');

    const dst = await store();
    const pevs: ProgressEvent[] = [];
    const r = await pull(ref, { client, content: dst, onProgress: (e) => pevs.push(e) });
    assert.equal(r.digest, pushed.digest);
    assert.deepEqual(r.diffIds, img.diffIds);
    assert.ok(r.downloaded);
    for (const [i, l] of r.layers.entries()) {
      assert.deepEqual(gunzipSync(await dst.readBytes(l.digest)), img.layers[i]);
    }
    assert.ok(await dst.has(r.config.digest));
    assert.ok(await dst.has(r.manifest.digest));
    const lid = r.layers[0]!.digest.slice(7, 19);
    assert.deepEqual(pevs[0], { status: 'Pulling from team/app', id: 'v1' });
    assert.deepEqual(statuses(pevs, lid), ['Pulling fs layer', 'Verifying Checksum', 'Download complete', 'Pull complete']);
    assert.ok(pevs.some((e) => e.id === lid && e.status === 'Downloading' && e.progressDetail?.current === r.layers[0]!.size));
    assert.deepEqual(pevs.slice(-2).map((e) => e.status), [`Digest: ${r.digest}`, `Status: Downloaded newer image for ${reg.host}/team/app:v1`]);
    assert.deepEqual(await dst.listIngests(), []);
    assert.deepEqual((await dst.fsck()).corrupt, []);

    // again: nothing to download
    const again: ProgressEvent[] = [];
    const r2 = await pull(ref, { client, content: dst, onProgress: (e) => again.push(e) });
    assert.equal(r2.downloaded, false);
    assert.deepEqual(statuses(again, lid), ['Already exists']);
    assert.equal(again.at(-1)!.status, `Status: Image is up to date for ${reg.host}/team/app:v1`);

    // push the pulled image elsewhere: already exists in the same repo, mounted into another one
    const sources = new BlobSources();
    for (const l of r.layers) sources.add(l.digest, reg.host, 'team/app');
    const e2: ProgressEvent[] = [];
    await push(ref, r.manifest, { client, content: dst, sources, onProgress: (e) => e2.push(e) });
    assert.deepEqual(statuses(e2, lid), ['Preparing', 'Layer already exists']);
    const e3: ProgressEvent[] = [];
    const p3 = await push(parseRef(`${reg.host}/team/copy:v2`), r.manifest, { client, content: dst, sources, onProgress: (e) => e3.push(e) });
    assert.deepEqual(statuses(e3, lid), ['Preparing', 'Mounted from team/app']);
    assert.equal(p3.digest, r.manifest.digest, 'a compressed image is pushed unchanged');
  });

  test('chunked upload path and a by-digest pull', async () => {
    const src = await store();
    const img = await localImage(src, [70_000]);
    const dst = await store();
    // first push makes gzip blobs; then push the pulled (gzip) image with 16 KiB PATCH chunks
    const p1 = await push(parseRef(`${reg.host}/chunk/a:v1`), img.target, { client, content: src });
    const r1 = await pull(parseRef(`${reg.host}/chunk/a@${p1.digest}`), { client, content: dst });
    assert.equal(r1.digest, p1.digest);
    const p2 = await push(parseRef(`${reg.host}/chunk/b:v1`), r1.manifest, { client, content: dst, chunkSize: 16 << 10 });
    assert.equal(p2.digest, p1.digest);
    const third = await store();
    const r3 = await pull(parseRef(`${reg.host}/chunk/b:v1`), { client, content: third });
    assert.deepEqual(await third.readBytes(r3.layers[0]!.digest), await dst.readBytes(r1.layers[0]!.digest));
  });

  test('multi-platform index: the wanted platform is picked, the index kept, no match is docker\'s error', async () => {
    const src = await store();
    const amd = await localImage(src, [10_000], 'amd64');
    const arm = await localImage(src, [10_000], 'arm64');
    const pa = await push(parseRef(`${reg.host}/multi/x:amd`), amd.target, { client, content: src });
    const pb = await push(parseRef(`${reg.host}/multi/x:arm`), arm.target, { client, content: src });
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.OciIndex,
      manifests: [
        { mediaType: MediaType.DockerManifest, digest: pa.digest, size: pa.size, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: MediaType.DockerManifest, digest: pb.digest, size: pb.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    }));
    await client.repository(reg.host, 'multi/x').putManifest('latest', index, MediaType.OciIndex);
    const dst = await store();
    const r = await pull(parseRef(`${reg.host}/multi/x:latest`), { client, content: dst, platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal(r.digest, digestOf(index));
    assert.equal(r.index?.digest, digestOf(index));
    assert.equal(r.manifest.digest, pb.digest);
    assert.ok(await dst.has(digestOf(index)));
    await assert.rejects(pull(parseRef(`${reg.host}/multi/x:latest`), { client, content: dst, platform: { os: 'linux', architecture: 's390x' } }),
      /no matching manifest for linux\/s390x in the manifest list entries/);
    // push of the pulled index: only one platform is local, so its manifest goes out under the tag
    const pushed = await push(parseRef(`${reg.host}/multi/y:latest`), r.index!, { client, content: dst });
    assert.equal(pushed.digest, pb.digest);
  });

  test('unknown tag is "manifest unknown"', async () => {
    await assert.rejects(pull(parseRef(`${reg.host}/team/app:nope`), { client, content: await store() }),
      (e: any) => e.kind === 'NotFound' && /manifest unknown/.test(e.message));
  });

  // 600 kB goes through node:http; 5 MB straight off the socket (blobread.ts), cut after one whole slab (each retry
  // resumes where the last one broke off: 4 cuts must not add up to the whole layer)
  for (const [size, cut] of [[600_000, 100_000], [5_000_000, 1_100_000]] as const) test(`registry dies mid-layer (${size} bytes): retries, then a clear error; the next pull resumes with Range and completes`, async () => {
    const src = await store();
    const img = await localImage(src, [size]);
    const p = await push(parseRef(`${reg.host}/team/resume${size}:v1`), img.target, { client, content: src });
    const layer = JSON.parse(p.bytes.toString()).layers[0] as Descriptor;
    const proxy = await startProxy(reg.host);
    const dst = await store();
    try {
      let cuts = 0;
      proxy.fault = (req) => {
        if (req.url!.includes(`/blobs/${layer.digest}`)) { cuts++; return { cutAfter: cut }; }
        return 'pass';
      };
      const ref = parseRef(`${proxy.host}/team/resume${size}:v1`);
      await assert.rejects(pull(ref, { client, content: dst }), (e: any) => e.kind === 'Unavailable' && e.message.includes(layer.digest));
      assert.equal(cuts, 4, 'first try + 3 retries');
      const ingests = await dst.listIngests();
      assert.equal(ingests.length, 1);
      assert.ok(ingests[0]!.offset >= cut, 'partial data kept');
      const ranges: string[] = [];
      proxy.fault = (req) => { if (req.headers.range) ranges.push(req.headers.range); return 'pass'; };
      const r = await pull(ref, { client, content: dst });
      assert.deepEqual(ranges, [`bytes=${ingests[0]!.offset}-`]);
      assert.ok(await dst.has(r.layers[0]!.digest));
      assert.deepEqual(await dst.listIngests(), []);
      const f = await dst.fsck();
      assert.deepEqual(f.corrupt, []);
    } finally { await proxy.stop(); }
  });

  test('a blob whose bytes do not match its digest fails the pull naming the digest, nothing stored', async () => {
    // 3 MB: hashed on the worker, the content writer only checking its digest (fetch-worker.ts)
    for (const size of [30_000, 3 << 20]) {
      const src = await store();
      const img = await localImage(src, [size]);
      const p = await push(parseRef(`${reg.host}/team/bad:v${size}`), img.target, { client, content: src });
      const layer = JSON.parse(p.bytes.toString()).layers[0] as Descriptor;
      const proxy = await startProxy(reg.host);
      const dst = await store();
      try {
        proxy.fault = (req) => (req.url!.includes(`/blobs/${layer.digest}`) ? { corrupt: true } : 'pass');
        await assert.rejects(pull(parseRef(`${proxy.host}/team/bad:v${size}`), { client, content: dst }),
          (e: any) => e.code === 'DIGEST_MISMATCH' && e.message.includes(layer.digest));
        assert.equal(await dst.has(layer.digest), false);
        assert.equal(await dst.has(p.digest), false, 'no manifest without its blobs');
        assert.deepEqual(await dst.listIngests(), []);
      } finally { await proxy.stop(); }
    }
  });

  test('a layer that does not decompress to the config\'s diffID fails the pull', async () => {
    const src = await store();
    const layer = randomBytes(20_000);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf('something else')] } }));
    await src.put(layer); await src.put(config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.OciLayer, digest: digestOf(layer), size: layer.length }],
    }));
    await src.put(manifest);
    await push(parseRef(`${reg.host}/team/liar:v1`), { mediaType: MediaType.OciManifest, digest: digestOf(manifest), size: manifest.length }, { client, content: src });
    await assert.rejects(pull(parseRef(`${reg.host}/team/liar:v1`), { client, content: await store() }),
      (e: any) => e.code === 'DIGEST_MISMATCH' && /filesystem layer verification failed/.test(e.message));
  });

  test('mirrors: a dead mirror falls back to the registry; a live one serves the pull', async () => {
    const src = await store();
    const img = await localImage(src, [5_000]);
    await push(parseRef(`${reg.host}/team/mir:v1`), img.target, { client, content: src });
    const ref = parseRef(`${reg.host}/team/mir:v1`);
    const r = await pull(ref, { client, content: await store(), mirrors: ['127.0.0.1:1'] });
    assert.equal(r.endpoint, reg.host);
    const mirror = await startProxy(reg.host);
    try {
      const r2 = await pull(ref, { client, content: await store(), mirrors: [`http://${mirror.host}`] });
      assert.equal(r2.endpoint, `http://${mirror.host}`);
      assert.ok(mirror.requests.some((q) => q.includes('/blobs/')));
    } finally { await mirror.stop(); }
  });
});

/** A one-file layer tar made by GNU tar (what berthd unpacks). */
function tarOf(bytes: Buffer): Buffer {
  const d = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  try {
    writeFileSync(join(d, 'f'), bytes);
    return execFileSync('tar', ['-C', d, '-cf', '-', 'f'], { maxBuffer: 1 << 26 });
  } finally { rmSync(d, { recursive: true, force: true }); }
}

describe('pull with unpack (issue 5: download, verification and unpacking as one pipeline)', { skip }, () => {
  let reg: Started;
  let client: RegistryClient;
  before(async () => { reg = await startDistribution(); client = new RegistryClient({ backoffMs: 5 }); });
  after(async () => { client?.close(); await reg?.stop(); });

  async function publish(name: string, layers: Buffer[], diffIds: Digest[]): Promise<void> {
    const src = await store();
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
    for (const l of layers) await src.put(l);
    await src.put(config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: digestOf(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: digestOf(l), size: l.length })),
    }));
    await src.put(manifest);
    // push gzips the layers: the pull below downloads gzip blobs
    await push(parseRef(`${reg.host}/${name}`), { mediaType: MediaType.DockerManifest, digest: digestOf(manifest), size: manifest.length }, { client, content: src });
  }

  function unpacker(snaps: Snapshotter, dst: ContentStore, teed: boolean[]) {
    return async (u: UnpackRequest) => {
      teed[u.index] = !(await dst.has(u.layer.digest)); // called before the blob is stored: the download's tee
      const info = await snaps.unpack({ chainId: u.chainId, ...(u.parent ? { parent: u.parent } : {}), diffId: u.diffId, source: u.source, beforeCommit: u.verified });
      return info.usage !== undefined ? { diffId: info.diffId, uncompressedSize: info.usage } : undefined;
    };
  }

  test('each layer streams into its snapshot while it downloads; sizes and Extracting progress as docker', async () => {
    const files = [randomBytes(700_000), randomBytes(30_000), randomBytes(300_000)];
    const layers = files.map(tarOf);
    await publish('team/unpacked:v1', layers, layers.map((l) => digestOf(l)));
    const dst = await store();
    const dir = mkdtempSync(join(tmpdir(), 'berth-snaps-'));
    dirs.push(dir);
    const snaps = new Snapshotter(new DataRoot(dir));
    const teed: boolean[] = [];
    const evs: ProgressEvent[] = [];
    const r = await pull(parseRef(`${reg.host}/team/unpacked:v1`), { client, content: dst, onProgress: (e) => evs.push(e), unpack: unpacker(snaps, dst, teed) });
    assert.deepEqual(teed, [true, true, true]);
    const chains = chainIds(r.diffIds);
    for (const [i, f] of files.entries()) {
      assert.ok(await snaps.has(chains[i]!));
      assert.deepEqual(readFileSync(join(snaps.fsPath(chains[i]!), 'f')), f);
      assert.equal(r.layerInfo[i]!.uncompressedSize, f.length, 'docker size: the unpacked bytes');
      assert.equal(r.layerInfo[i]!.diffId, r.diffIds[i]);
      assert.ok(await dst.has(r.layers[i]!.digest));
      const id = r.layers[i]!.digest.slice(7, 19);
      assert.ok(evs.some((e) => e.id === id && e.status === 'Extracting'), `Extracting for ${id}`);
      assert.equal(statuses(evs, id).at(-1), 'Pull complete');
    }
    assert.equal((await snaps.stat(chains[1]!)).parent, chains[0]);

    // a second pull finds the blobs stored: the snapshots already exist, nothing is unpacked again
    const again: boolean[] = [];
    await pull(parseRef(`${reg.host}/team/unpacked:v1`), { client, content: dst, unpack: unpacker(snaps, dst, again) });
    assert.deepEqual(again, [false, false, false]);
    assert.equal((await snaps.list()).length, 3);
  });

  test('a layer that does not unpack to the config\'s diffID fails the pull and commits no snapshot', async () => {
    const layer = tarOf(randomBytes(50_000));
    await publish('team/liar2:v1', [layer], [digestOf('something else')]);
    const dst = await store();
    const dir = mkdtempSync(join(tmpdir(), 'berth-snaps-'));
    dirs.push(dir);
    const snaps = new Snapshotter(new DataRoot(dir));
    let registered = false;
    await assert.rejects(pull(parseRef(`${reg.host}/team/liar2:v1`), {
      client, content: dst, unpack: unpacker(snaps, dst, []), register: async () => { registered = true; return true; },
    }), (e: any) => e.code === 'DIGEST_MISMATCH');
    assert.deepEqual(await snaps.list(), []);
    assert.equal(registered, false);
    assert.deepEqual(readdirSync(dir).filter((n) => n !== 'snapshots'), []);
  });
});
