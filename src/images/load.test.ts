import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import * as tar from 'tar-stream';
import { ImageService, type Progress } from './index.ts';
import { isKind, messageOf } from '../errors/index.ts';
import { digestOf, hexOf, type Digest } from '../digest/index.ts';
import { TarUsage } from '../archive/index.ts';
import { busyboxRootfs, makeImage, legacyArchive, ociArchive, makeTar } from './testdata.ts';

async function withImages(fn: (s: ImageService, root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  const s = await ImageService.open({ root });
  try { await fn(s, root); } finally { await s.close(); await rm(root, { recursive: true, force: true }); }
}

async function blobs(s: ImageService): Promise<string[]> {
  const out: string[] = [];
  await s.content.walk((i) => { out.push(i.digest); });
  return out.sort();
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function tarEntries(buf: Buffer): Promise<Map<string, Buffer>> {
  const ex = tar.extract();
  const out = new Map<string, Buffer>();
  Readable.from([buf]).pipe(ex);
  for await (const e of ex) {
    const parts: Buffer[] = [];
    for await (const c of e) parts.push(c as Buffer);
    out.set(e.header.name, Buffer.concat(parts));
  }
  return out;
}

const base = await busyboxRootfs();
const top = await makeTar([{ name: 'hello.txt', data: 'hello\n' }]);
/** Sizes are what docker reports: the unpacked files' bytes (symlink targets included), not the tar's length. */
const used = (b: Buffer) => { const u = new TarUsage(); u.update(b); return u.size(); };
assert.equal(used(top), 6);

test('loads a legacy docker-archive: names, ID, sizes, progress messages, event', () => withImages(async (s) => {
  const img = makeImage([base, top]);
  const msgs: Progress[] = [];
  const events: string[] = [];
  s.events.on('event', (e) => events.push(`${e.Action} ${e.Actor.ID}`));
  const r = await s.load(Readable.from([await legacyArchive([{ img, tags: ['busybox:latest', 'example.com/a/b:1'] }])]), { onProgress: (p) => msgs.push(p) });
  assert.deepEqual(r.images, [{ id: img.configDigest, names: ['busybox:latest', 'example.com/a/b:1'] }]);
  assert.deepEqual(msgs.filter((m) => m.stream).map((m) => m.stream), ['Loaded image: busybox:latest\n', 'Loaded image: example.com/a/b:1\n']);
  assert.ok(msgs.some((m) => m.status === 'Loading layer'));
  assert.deepEqual(events, [`load ${img.configDigest}`]);
  const v = s.get('busybox');
  assert.equal(v.id, img.configDigest);
  assert.deepEqual(v.repoTags, ['busybox:latest', 'example.com/a/b:1']);
  assert.equal(v.size, used(base) + used(top));
  assert.deepEqual(v.record.layers.map((l) => l.diffId), img.diffIds);
  // a synthesized manifest is in content, so push has something to send
  const m = JSON.parse((await s.content.readBytes(v.record.manifest.digest)).toString());
  assert.equal(m.config.digest, img.configDigest);
  assert.equal((await s.fsck()).corrupt.length, 0);
}));

test('loads docker 25+ and pure OCI layouts (gzip layers, gzip-compressed archive), quiet gives only results', () => withImages(async (s) => {
  const a = makeImage([base], { gzip: true, created: '2024-02-01T00:00:00Z' });
  const b = makeImage([base, top], { created: '2024-03-01T00:00:00Z' });
  const msgs: Progress[] = [];
  await s.load(Readable.from([await ociArchive([{ img: a, tags: ['a:1'] }, { img: b, tags: [] }])]), { quiet: true, onProgress: (p) => msgs.push(p) });
  assert.deepEqual(msgs.map((m) => m.stream), ['Loaded image: a:1\n', `Loaded image ID: ${b.configDigest}\n`]);
  assert.equal(s.get('a:1').record.manifest.digest, a.manifestDigest, 'the archive manifest is kept');
  assert.equal(s.get('a:1').size, used(base), 'size is uncompressed');
  assert.equal(s.get(b.configDigest).repoTags.length, 0);
  // pure OCI layout (no manifest.json), whole archive gzip-compressed
  const c = makeImage([top], { cmd: ['echo', 'c'] });
  const oci = gzipSync(await ociArchive([{ img: c, tags: ['example.com/c:2'] }], { omitManifestJson: true }));
  const r = await s.load(Readable.from([oci]));
  assert.deepEqual(r.images, [{ id: c.configDigest, names: ['example.com/c:2'] }]);
}));

test('save → load round trip in a fresh store keeps IDs, tags and bytes; save of unknown is NotFound', () => withImages(async (s) => {
  const img = makeImage([base, top]);
  await s.load(Readable.from([await legacyArchive([{ img, tags: ['busybox:latest'] }])]));
  await s.tag('busybox', 'busybox:other');
  // dockerd's texts (moby tarexport parseNames): a bare name as typed; a tag from the reference store
  await assert.rejects(s.save(['nope']), (e) => isKind(e, 'NotFound') && messageOf(e) === 'No such image: nope');
  await assert.rejects(s.save(['nope:1']), (e) => isKind(e, 'NotFound') && messageOf(e) === 'reference does not exist');
  const archive = await collect(await s.save(['busybox']));
  const entries = await tarEntries(archive);
  for (const n of ['index.json', 'manifest.json', 'oci-layout', 'repositories', `blobs/sha256/${hexOf(img.configDigest)}`]) assert.ok(entries.has(n), n);
  const mj = JSON.parse(entries.get('manifest.json')!.toString());
  assert.deepEqual(mj[0].RepoTags.sort(), ['busybox:latest', 'busybox:other']);
  assert.equal(mj[0].Config, `blobs/sha256/${hexOf(img.configDigest)}`);
  await withImages(async (s2) => {
    const r = await s2.load(Readable.from([archive]));
    assert.equal(r.images[0]!.id, img.configDigest);
    assert.deepEqual(s2.get('busybox:other').repoTags, ['busybox:latest', 'busybox:other']);
    assert.deepEqual(await blobs(s2), await blobs(s));
  });
}));

test('bad input: save of an image whose layer rotted on disk fails mid-stream naming the blob', () => withImages(async (s) => {
  const img = makeImage([base, top]);
  await s.load(Readable.from([await legacyArchive([{ img, tags: ['busybox:latest'] }])]));
  const layer = s.get('busybox').record.layers[0]!.digest;
  const file = s.content.blobPath(layer);
  const bytes = await readFile(file);
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(file, bytes);
  await assert.rejects(collect(await s.save(['busybox'])), (e) => isKind(e, 'InvalidArgument') && messageOf(e).includes(`expected ${layer}`));
}));

test('reloading a tag onto another image leaves the old one dangling, with docker\'s rename message', () => withImages(async (s) => {
  const one = makeImage([base], { created: '2024-01-01T00:00:00Z' });
  const two = makeImage([top], { created: '2024-01-02T00:00:00Z' });
  await s.load(Readable.from([await legacyArchive([{ img: one, tags: ['x:1'] }])]));
  const msgs: string[] = [];
  await s.load(Readable.from([await legacyArchive([{ img: two, tags: ['x:1'] }])]), { onProgress: (p) => p.stream && msgs.push(p.stream) });
  assert.equal(msgs[0], `The image x:1 already exists, renaming the old one with ID ${one.configDigest} to empty string\n`);
  assert.deepEqual(s.list({ filters: { dangling: ['true'] } }).map((v) => v.id), [one.configDigest]);
}));

// ---- bad input: each fails with InvalidArgument and leaves the store unchanged ----

async function expectRejected(s: ImageService, archive: Buffer | Readable, re: RegExp) {
  const before = await blobs(s);
  const imagesBefore = s.list({ all: true }).map((v) => v.id);
  await assert.rejects(s.load(Buffer.isBuffer(archive) ? Readable.from([archive]) : archive as Readable), (e) => {
    assert.ok(isKind(e, 'InvalidArgument'), `kind: ${messageOf(e)}`);
    assert.match(messageOf(e), re);
    return true;
  });
  assert.deepEqual(await blobs(s), before, 'no blob added');
  assert.deepEqual(s.list({ all: true }).map((v) => v.id), imagesBefore, 'no image added');
  assert.deepEqual(await s.content.listIngests(), [], 'no ingest left');
}

test('bad input: a corrupt blob (digest mismatch) in an OCI/docker 25 archive names the blob', () => withImages(async (s) => {
  const img = makeImage([base, top]);
  const good = await ociArchive([{ img, tags: ['bad:1'] }]);
  // flip one byte inside the top layer's data (the hello.txt content)
  const i = good.indexOf(Buffer.from('hello\n'));
  const corrupt = Buffer.from(good);
  corrupt[i] = 'j'.charCodeAt(0);
  const layer = hexOf(digestOf(top));
  await expectRejected(s, corrupt, new RegExp(`blobs/sha256/${layer} is corrupt: digest mismatch`));
}));

test('bad input: a legacy layer whose diffID differs from the config names the layer', () => withImages(async (s) => {
  const img = makeImage([base, top]);
  await s.load(Readable.from([await legacyArchive([{ img: makeImage([base]), tags: ['keep:1'] }])]));
  const good = await legacyArchive([{ img, tags: ['bad:1'] }]);
  const i = good.indexOf(Buffer.from('hello\n'));
  const corrupt = Buffer.from(good);
  corrupt[i] = 'j'.charCodeAt(0);
  await expectRejected(s, corrupt, /layer [0-9a-f]{64}\/layer\.tar does not match the image config: invalid diffID for layer 1/);
  assert.equal(s.get('keep:1').repoTags[0], 'keep:1', 'earlier image untouched');
}));

test('bad input: truncated archive', () => withImages(async (s) => {
  const good = await legacyArchive([{ img: makeImage([base, top]), tags: ['t:1'] }]);
  await expectRejected(s, good.subarray(0, Math.floor(good.length / 2) + 100), /invalid archive/);
  await expectRejected(s, good.subarray(0, 1000), /invalid archive/);
}));

test('bad input: malformed manifest.json, malformed config, missing layer, not an archive at all', () => withImages(async (s) => {
  const img = makeImage([top]);
  const cfgName = `${hexOf(img.configDigest)}.json`;
  const layerTar = { name: 'l/layer.tar', data: img.layers[0]! };
  await expectRejected(s, await makeTar([layerTar, { name: cfgName, data: img.config }, { name: 'manifest.json', data: '[{"Config": 1' }]), /malformed manifest\.json/);
  await expectRejected(s, await makeTar([layerTar, { name: cfgName, data: img.config }, { name: 'manifest.json', data: '{"not":"a list"}' }]), /malformed manifest\.json/);
  await expectRejected(s, await makeTar([layerTar, { name: 'c.json', data: '{"rootfs": ' }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['m:1'], Layers: ['l/layer.tar'] }]) }]), /malformed image config c\.json/);
  await expectRejected(s, await makeTar([layerTar, { name: 'c.json', data: '{"architecture":"amd64","os":"linux","rootfs": {"type":"layers","diff_ids":[]}}' }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['m:1'], Layers: ['l/layer.tar'] }]) }]), /lists 0 layers/);
  await expectRejected(s, await makeTar([{ name: cfgName, data: img.config }, { name: 'manifest.json', data: JSON.stringify([{ Config: cfgName, RepoTags: ['m:1'], Layers: ['l/layer.tar'] }]) }]), /layer l\/layer\.tar is missing/);
  await expectRejected(s, await makeTar([layerTar, { name: cfgName, data: img.config }, { name: 'manifest.json', data: JSON.stringify([{ Config: cfgName, RepoTags: ['UPPER:1'], Layers: ['l/layer.tar'] }]) }]), /invalid RepoTags entry/);
  await expectRejected(s, await makeTar([{ name: 'hello', data: 'x' }]), /no manifest\.json or index\.json/);
  await expectRejected(s, Buffer.from('this is not a tar archive at all, just text'.repeat(20)), /invalid archive/);
}));

test('a load interrupted mid-stream leaves no image and a clean fsck; the same load then succeeds', () => withImages(async (s) => {
  const archive = await legacyArchive([{ img: makeImage([base, top]), tags: ['k:1'] }]);
  const src = new Readable({ read() {} });
  src.push(archive.subarray(0, archive.length >> 1));
  const p = s.load(src);
  setImmediate(() => src.destroy(new Error('connection reset')));
  await assert.rejects(p);
  assert.equal(s.list({ all: true }).length, 0);
  await s.content.cleanupIngest(0);
  assert.deepEqual((await s.fsck()).corrupt, []);
  await s.load(Readable.from([archive]));
  assert.equal(s.get('k:1').repoTags[0], 'k:1');
}));

test('import: rootfs tarball (plain and gzip) with --change, message, platform; history "Imported from -"', () => withImages(async (s) => {
  const events: string[] = [];
  s.events.on('event', (e) => events.push(e.Action));
  const r = await s.import(Readable.from([gzipSync(base)]), {
    ref: 'mybox', changes: ['CMD ["sh", "-c", "echo hi"]', 'ENV A=1 B="two words"', 'WORKDIR /srv', 'USER nobody', 'EXPOSE 80 53/udp', 'LABEL k=v', 'ENTRYPOINT /bin/sh'],
    platform: 'linux/arm64',
  });
  assert.equal(r.name, 'mybox:latest');
  assert.deepEqual(events, ['import']);
  const d = await s.inspect('mybox');
  const c = d.config.config!;
  assert.deepEqual(c.Cmd, ['sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/sh']);
  assert.deepEqual(c.Env, ['A=1', 'B=two words']);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(Object.keys(c.ExposedPorts!).sort(), ['53/udp', '80/tcp']);
  assert.deepEqual(d.labels, { k: 'v' });
  assert.equal(d.config.architecture, 'arm64');
  assert.equal(d.size, used(base));
  assert.equal(d.record.layers[0]!.diffId, digestOf(base));
  const h = await s.history('mybox');
  assert.equal(h.length, 1);
  assert.equal(h[0]!.Comment, 'Imported from -');
  assert.equal(h[0]!.Id, r.id);
  assert.deepEqual(h[0]!.Tags, ['mybox:latest']);
  const r2 = await s.import(Readable.from([top]), { message: 'my msg' });
  assert.equal((await s.history(r2.id))[0]!.Comment, 'my msg');
  await assert.rejects(s.import(Readable.from([top]), { changes: ['RUN echo'] }), (e) => isKind(e, 'InvalidArgument') && messageOf(e) === 'run is not a valid change command');
  await assert.rejects(s.import(Readable.from([Buffer.from('not a tar'.repeat(100))])), (e) => isKind(e, 'InvalidArgument'));
}));

test('loads a zstd-compressed archive and a zstd layer (diffID of the decompressed tar)', { skip: spawnSync('zstd', ['--version']).status === 0 ? false : 'zstd not installed' }, () => withImages(async (s) => {
  const zstd = (b: Buffer) => spawnSync('zstd', ['-c', '-q'], { input: b, maxBuffer: 1 << 30 }).stdout as Buffer;
  const img = makeImage([top]);
  const z = zstd(img.layers[0]!);
  // rebuild the fixture with the zstd blob in place of the plain layer
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: img.configDigest, size: img.config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: digestOf(z), size: z.length }],
  }));
  const fx = { ...img, layers: [z], manifest, manifestDigest: digestOf(manifest) };
  const r = await s.load(Readable.from([zstd(await ociArchive([{ img: fx, tags: ['z:1'] }]))]));
  assert.equal(r.images[0]!.id, img.configDigest);
  assert.equal(s.get('z:1').size, 6);
  assert.equal(s.get('z:1').record.layers[0]!.diffId, digestOf(top));
}));

test('gc and prune running during a load neither take its blobs nor see a half image', () => withImages(async (s) => {
  const img = makeImage([base, top]);
  const archive = await legacyArchive([{ img, tags: ['during:1'] }]);
  const src = new Readable({ read() {} });
  const loading = s.load(src);
  // feed half, let the loader store what it can, then collect garbage concurrently
  src.push(archive.subarray(0, archive.length >> 1));
  await new Promise((r) => setImmediate(r));
  const gc = s.gc();
  const prune = s.prune({ all: true });
  src.push(archive.subarray(archive.length >> 1));
  src.push(null);
  await loading;
  await gc;
  await prune;
  assert.equal(s.get('during:1').id, img.configDigest);
  const f = await s.fsck();
  assert.deepEqual([f.corrupt, f.missing], [[], []]);
}));
