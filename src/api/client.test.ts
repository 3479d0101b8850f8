import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EngineClient, encodeQuery, compareVersions, parseNDJSON } from './index.ts';
import { isKind } from '../errors/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
const sock = join(dir, 's.sock');
const seen: { method: string; url: string; body: number }[] = [];
const server = http.createServer(async (req, res) => {
  let n = 0;
  for await (const c of req) n += (c as Buffer).length;
  seen.push({ method: req.method!, url: req.url!, body: n });
  const u = new URL(req.url!, 'http://x');
  const p = u.pathname.replace(/^\/v1\.\d+/, '');
  if (p === '/_ping') {
    res.writeHead(200, { 'api-version': '1.47', ostype: 'linux', 'docker-experimental': 'false', 'builder-version': '1' });
    res.end('OK');
  } else if (p === '/json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ q: Object.fromEntries(u.searchParams), all: u.searchParams.getAll('t') }));
  } else if (p === '/empty') {
    res.writeHead(204); res.end();
  } else if (p === '/missing') {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'No such image: nope:latest' }));
  } else if (p === '/exists') {
    res.writeHead(409, { 'content-type': 'application/json', 'berth-error-kind': 'AlreadyExists', 'berth-error-code': 'X' });
    res.end(JSON.stringify({ message: 'already' }));
  } else if (p === '/stream') {
    res.writeHead(200, { 'content-type': 'application/json' });
    // split a message across writes to exercise the line splitter
    res.write('{"status":"one"}\n{"sta');
    res.write('tus":"two"}\n');
    res.end(u.searchParams.get('fail') ? '{"errorDetail":{"message":"boom"},"error":"boom"}\n' : '{"stream":"done\\n"}\n');
  } else if (p === '/upload') {
    res.writeHead(200); res.end(String(n));
  } else {
    res.writeHead(404); res.end('{"message":"page not found"}');
  }
});
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
  socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
});
await new Promise<void>((r) => server.listen(sock, r));
after(() => { server.close(); server.closeAllConnections(); rmSync(dir, { recursive: true, force: true }); });

test('encodeQuery: booleans as 1/0, arrays repeat, objects as JSON, undefined dropped', () => {
  assert.equal(encodeQuery({ all: true, q: false, t: ['a', 'b'], filters: { dangling: ['true'] }, x: undefined }),
    '?all=1&q=0&t=a&t=b&filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D');
  assert.equal(encodeQuery({}), '');
});

test('compareVersions orders dotted versions numerically', () => {
  assert.ok(compareVersions('1.9', '1.24') < 0);
  assert.ok(compareVersions('1.51', '1.51') === 0);
  assert.ok(compareVersions('1.51', '1.47') > 0);
});

test('json: versioned path, parsed body, empty body is undefined', async () => {
  const c = new EngineClient({ socketPath: `unix://${sock}`, apiVersion: '1.51' });
  const r = await c.json<{ q: Record<string, string>; all: string[] }>('GET', '/json', { query: { a: 1, t: ['x', 'y'] } });
  assert.deepEqual(r.all, ['x', 'y']);
  assert.equal(seen.at(-1)!.url, '/v1.51/json?a=1&t=x&t=y');
  assert.equal(await c.json('POST', '/empty', { body: { hello: 1 } }), undefined);
  assert.equal(seen.at(-1)!.body, 11);
  c.close();
});

test('errors carry the daemon message and a kind from status or header', async () => {
  const c = new EngineClient({ socketPath: sock });
  await assert.rejects(c.json('GET', '/missing'), (e) => isKind(e, 'NotFound') && (e as Error).message === 'No such image: nope:latest');
  await assert.rejects(c.json('GET', '/exists'), (e) => isKind(e, 'AlreadyExists', 'X'));
  c.close();
});

test('an absent daemon is Unavailable with DAEMON_UNREACHABLE and docker-like wording', async () => {
  const c = new EngineClient({ socketPath: join(dir, 'nobody.sock') });
  await assert.rejects(c.ping(), (e) => isKind(e, 'Unavailable', 'DAEMON_UNREACHABLE') && /Cannot connect to the berth daemon at unix:\/\//.test((e as Error).message));
});

test('stream yields NDJSON messages across chunk boundaries and throws on an error message', async () => {
  const c = new EngineClient({ socketPath: sock });
  const got: unknown[] = [];
  for await (const m of c.stream('POST', '/stream')) got.push(m);
  assert.deepEqual(got, [{ status: 'one' }, { status: 'two' }, { stream: 'done\n' }]);
  const got2: unknown[] = [];
  await assert.rejects(async () => { for await (const m of c.stream('POST', '/stream', { query: { fail: 1 } })) got2.push(m); }, /boom/);
  assert.equal(got2.length, 2);
  c.close();
});

test('upload streams a body of many chunks', async () => {
  const c = new EngineClient({ socketPath: sock });
  const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 1));
  const res = await c.upload('POST', '/upload', Readable.from(chunks));
  let text = '';
  for await (const d of res) text += d;
  assert.equal(text, String(64 * 64 * 1024));
  c.close();
});

test('ping reads the negotiation headers; negotiate picks the lower version', async () => {
  const c = new EngineClient({ socketPath: sock });
  const p = await c.ping();
  assert.deepEqual(p, { apiVersion: '1.47', osType: 'linux', experimental: false, builderVersion: '1', swarm: undefined });
  assert.equal(await c.negotiate(), '1.47');
  await c.json('GET', '/json');
  assert.match(seen.at(-1)!.url, /^\/v1\.47\/json/);
  c.close();
});

test('hijack upgrades and gives a raw duplex', async () => {
  const c = new EngineClient({ socketPath: sock });
  const h = await c.hijack('POST', '/exec/x/start', { body: { Detach: false, Tty: true } });
  h.socket.write('hi');
  const [d] = await new Promise<Buffer[]>((r) => h.socket.once('data', (x: Buffer) => r([x])));
  assert.equal(String(d), 'echo:hi');
  h.socket.destroy();
});

test('parseNDJSON handles a last line without newline and multibyte splits', async () => {
  const euro = Buffer.from('{"s":"€"}\n{"s":2}');
  const parts = [euro.subarray(0, 7), euro.subarray(7)];
  const out: unknown[] = [];
  for await (const m of parseNDJSON(Readable.from(parts))) out.push(m);
  assert.deepEqual(out, [{ s: '€' }, { s: 2 }]);
});

test('onUnreachable: the first request that finds no daemon starts it once and is sent again; a streamed body waits for it', async () => {
  const late = join(dir, 'late.sock');
  const got: string[] = [];
  const lateServer = http.createServer(async (req, res) => {
    let n = 0;
    for await (const c of req) n += (c as Buffer).length;
    got.push(`${req.method} ${req.url} ${n}`);
    res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.51' });
    res.end('{"ok":true}');
  });
  let calls = 0;
  const hook = async (): Promise<void> => {
    calls++;
    await new Promise<void>((r) => lateServer.listen(late, r));
  };
  try {
    const c = new EngineClient({ socketPath: late, onUnreachable: hook });
    assert.deepEqual(await c.json('POST', '/json', { body: { a: 1 } }), { ok: true });
    assert.equal(calls, 1);
    assert.deepEqual(got, ['POST /json 7']);
    c.close();

    // a stream body is read only once the daemon answers: its bytes all arrive, after one _ping
    await new Promise<void>((r) => lateServer.close(() => r()));
    got.length = 0;
    const s = new EngineClient({ socketPath: late, onUnreachable: hook });
    const res = await s.upload('POST', '/upload', Readable.from([Buffer.alloc(1000), Buffer.alloc(24)]));
    res.resume();
    assert.equal(calls, 2);
    assert.deepEqual(got, ['GET /_ping 0', 'POST /upload 1024']);
    s.close();

    // without the hook, the error is the daemon's absence
    const none = new EngineClient({ socketPath: join(dir, 'none.sock') });
    await assert.rejects(none.json('GET', '/json'), (e) => isKind(e, 'Unavailable', 'DAEMON_UNREACHABLE'));
  } finally {
    lateServer.close();
  }
});
