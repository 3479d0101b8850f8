// dockerode as a library client of berthd, the API's version-dependent shapes, and crash safety of load:
// berthd killed with SIGKILL in the middle of a load restarts clean (fsck) and the same load then succeeds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, readdirSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { startDaemon, busyboxRootfsTar, haveBusybox, type StartedDaemon } from './helpers/index.ts';
import type { ImageSummary, ImageInspect, JSONMessage } from '../src/api/index.ts';

const skip = (!haveBusybox() && 'busybox-static missing') || false;
let d: StartedDaemon;
let dk: Docker;
let work: string;
let rootfs: string;

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'berth-eng-dko-'));
  rootfs = await busyboxRootfsTar(work);
  d = await startDaemon();
  dk = new Docker({ socketPath: d.socketPath });
});
after(async () => {
  await d?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function drain(stream: NodeJS.ReadableStream): Promise<JSONMessage[]> {
  let text = '';
  for await (const c of stream) text += c;
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as JSONMessage);
}

test('dockerode: importImage, listImages, inspect, history, tag, remove', { skip }, async () => {
  const msgs = await drain(await dk.importImage(createReadStream(rootfs), { repo: "dko", tag: "one" } as never) as unknown as NodeJS.ReadableStream);
  const id = msgs.at(-1)!.status!;
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const list = await dk.listImages();
  assert.ok(list.some((i) => i.Id === id && i.RepoTags?.includes('dko:one')));
  const img = dk.getImage('dko:one');
  const info = await img.inspect();
  assert.equal(info.Id, id);
  assert.equal(info.Os, 'linux');
  const hist = await img.history();
  assert.equal(hist.length, 1);
  await img.tag({ repo: 'localhost:5000/dko/two', tag: 'v2' });
  assert.equal((await dk.getImage('localhost:5000/dko/two:v2').inspect()).Id, id);
  const removed = await dk.getImage('localhost:5000/dko/two:v2').remove();
  assert.deepEqual(removed, [{ Untagged: 'localhost:5000/dko/two:v2' }]);
  await assert.rejects(dk.getImage('missing:1').inspect(), (e: { statusCode?: number; message: string }) => e.statusCode === 404 && /No such image: missing:1/.test(e.message));
});

test('dockerode: get (save) streams an archive that loadImage reads back', { skip }, async () => {
  const tarStream = await dk.getImage('dko:one').get();
  const chunks: Buffer[] = [];
  for await (const c of tarStream) chunks.push(c as Buffer);
  const archive = Buffer.concat(chunks);
  await dk.getImage('dko:one').remove();
  await assert.rejects(dk.getImage('dko:one').inspect());
  const msgs = await drain(await dk.loadImage(Readable.from([archive]), { quiet: true } as never) as unknown as NodeJS.ReadableStream);
  assert.ok(msgs.some((m) => m.stream === 'Loaded image: dko:one\n'), JSON.stringify(msgs));
  assert.ok(await dk.getImage('dko:one').inspect());
});

test('a client that hangs up in the middle of a save or a load leaves the daemon serving', { skip }, async () => {
  const res = await d.client.raw('GET', '/images/get', { query: { names: ['dko:one'] } });
  await new Promise<void>((r) => res.once('data', () => r()));
  res.destroy();
  const half = readFileSync(rootfs).subarray(0, 100_000);
  async function* cut(): AsyncGenerator<Buffer> { yield half; throw new Error('client gave up'); }
  await d.client.upload('POST', '/images/load', cut()).then((r) => drain(r)).catch(() => {});
  assert.equal((await d.client.ping()).apiVersion, '1.51');
  assert.ok(await dk.getImage('dko:one').inspect());
});

test('dockerode: pruneImages and df', { skip }, async () => {
  const df = await dk.df();
  assert.ok(df.LayersSize > 0);
  assert.ok(Array.isArray(df.Images) && df.Images.length >= 1);
  const r = await dk.pruneImages({ filters: { dangling: ['false'] } });
  assert.ok(r.ImagesDeleted && r.ImagesDeleted.length >= 1);
  assert.ok(r.SpaceReclaimed > 0);
  assert.deepEqual(await dk.listImages(), []);
});

test('API version shapes: VirtualSize and <none> placeholders before 1.44, Descriptor from 1.48', { skip }, async () => {
  const bytes = readFileSync(rootfs);
  await drain(await d.client.upload('POST', '/images/create', Readable.from([bytes]), { query: { fromSrc: '-' } }));
  const res = await fetchJSON<ImageSummary[]>('/v1.42/images/json'); // <none>:<none> before 1.43 (moby's useNone)
  assert.deepEqual(res[0]!.RepoTags, ['<none>:<none>']);
  assert.equal(res[0]!.VirtualSize, res[0]!.Size);
  assert.equal(res[0]!.Descriptor, undefined);
  const neu = await fetchJSON<ImageSummary[]>('/v1.51/images/json');
  assert.deepEqual(neu[0]!.RepoTags, []);
  assert.equal(neu[0]!.VirtualSize, undefined);
  assert.match(neu[0]!.Descriptor!.digest, /^sha256:/);
  const i144 = await fetchJSON<ImageInspect>(`/v1.44/images/${neu[0]!.Id}/json`);
  assert.equal(i144.ContainerConfig !== undefined, true);
  assert.equal(i144.VirtualSize, undefined);
  const i151 = await fetchJSON<ImageInspect>(`/v1.51/images/${neu[0]!.Id}/json`);
  assert.equal(i151.ContainerConfig, undefined);
});

async function fetchJSON<T>(path: string): Promise<T> {
  const res = await d.client.raw('GET', path);
  let text = '';
  for await (const c of res) text += c;
  return JSON.parse(text) as T;
}

test('berthd killed by SIGKILL during a load: restart is fsck-clean and the same load succeeds', { skip }, async () => {
  const archive = join(work, 'crash.tar');
  {
    // an archive to load: import, save
    await drain(await d.client.upload('POST', '/images/create', createReadStream(rootfs), { query: { fromSrc: '-', repo: 'crash:1' } }));
    const res = await d.client.raw('GET', '/images/get', { query: { names: ['crash:1'] } });
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    await pipeline(res, createWriteStream(archive));
  }
  const bytes = readFileSync(archive);
  const victim = await startDaemon();
  try {
    const ingest = join(victim.dataRoot, 'content', 'ingest');
    const half = bytes.subarray(0, bytes.length >> 1);
    let release!: () => void;
    const hold = new Promise<void>((r) => { release = r; });
    async function* body(): AsyncGenerator<Buffer> {
      yield half;
      await hold; // never sends the rest: the daemon dies first
    }
    const upload = victim.client.upload('POST', '/images/load', body()).then((r) => drain(r)).catch((e) => e);
    // wait until the daemon is visibly in the middle of the load (an ingest in flight)
    for (let i = 0; i < 1000; i++) {
      let n = 0;
      try { n = readdirSync(ingest).length; } catch { /* not yet */ }
      if (n > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await victim.kill();
    release();
    await upload;
    const again = await startDaemon({ dir: victim.dir });
    try {
      const report = await again.client.json<{ Checked: number; Corrupt: unknown[] }>('POST', '/system/fsck');
      assert.deepEqual(report.Corrupt, []);
      assert.deepEqual(await again.client.json('GET', '/images/json'), []);
      const msgs = await drain(await again.client.upload('POST', '/images/load', Readable.from([bytes])));
      assert.ok(msgs.some((m) => m.stream === 'Loaded image: crash:1\n'), JSON.stringify(msgs));
      const after = await again.client.json<{ Corrupt: unknown[]; Checked: number }>('POST', '/system/fsck');
      assert.deepEqual(after.Corrupt, []);
      assert.ok(after.Checked >= 3);
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(victim.dir, { recursive: true, force: true });
  }
});
