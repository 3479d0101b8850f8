// The registry client against real registries: Debian's docker-registry anonymous, with htpasswd (Basic)
// and with token auth (Bearer), plus a fault-injecting proxy for retries, redirects and cut connections.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { RegistryClient, parseChallenges } from '../src/distribution/index.ts';
import { openBlobPieces } from '../src/distribution/blobread.ts';
import { digestOf, type Digest } from '../src/digest/index.ts';
import { HAVE_REGISTRY, startDistribution, startProxy, tokenRequests, type Started } from './distribution-fixtures.ts';

const skip = HAVE_REGISTRY ? false : 'docker-registry (Debian package docker-registry) is not installed';

async function text(r: Readable): Promise<Buffer> {
  const cs: Buffer[] = [];
  for await (const c of r) cs.push(c as Buffer);
  return Buffer.concat(cs);
}

/** Pushes a config + one layer + an OCI manifest; returns what it pushed. */
async function pushImage(c: RegistryClient, host: string, name: string, tag: string, layer = randomBytes(300_000)) {
  const repo = c.repository(host, name);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }));
  const ld = digestOf(layer);
  const cd = digestOf(config);
  assert.equal(await repo.uploadBlob(ld, layer.length, () => Readable.from([layer])), 'pushed');
  assert.equal(await repo.uploadBlob(cd, config.length, () => Readable.from([config]), { chunkSize: 10 }), 'pushed');
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: ld, size: layer.length }],
  }));
  const md = await repo.putManifest(tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
  return { layer, ld, config, cd, manifest, md };
}

test('parseChallenges reads Bearer and Basic challenges with quoted and bare params', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm=basic-realm, Bearer realm="x\\"y"'), [
    { scheme: 'basic', params: { realm: 'basic-realm' } }, { scheme: 'bearer', params: { realm: 'x"y' } },
  ]);
});

describe('anonymous distribution 2.8', { skip }, () => {
  let reg: Started;
  let c: RegistryClient;
  before(async () => { reg = await startDistribution(); c = new RegistryClient(); });
  after(async () => { c?.close(); await reg?.stop(); });

  test('push (monolithic + chunked), manifest by tag and digest, HEAD, ranges', async () => {
    const p = await pushImage(c, reg.host, 'team/app', 'v1');
    const repo = c.repository(reg.host, 'team/app');
    const byTag = await repo.getManifest('v1');
    assert.equal(byTag.digest, p.md);
    assert.equal(byTag.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(byTag.bytes, p.manifest);
    assert.equal((await repo.getManifest(p.md)).digest, p.md);
    assert.deepEqual(await repo.headManifest('v1'), { digest: p.md, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: p.manifest.length });
    assert.equal(await repo.statBlob(p.ld), p.layer.length);
    assert.equal(await repo.statBlob(digestOf('nope')), undefined);
    const whole = await repo.openBlob(p.ld);
    assert.equal(whole.start, 0);
    assert.deepEqual(await text(whole.stream), p.layer);
    const part = await repo.openBlob(p.ld, { start: 1000 });
    assert.equal(part.start, 1000);
    assert.equal(part.total, p.layer.length);
    assert.deepEqual(await text(part.stream), p.layer.subarray(1000));
    assert.deepEqual(await text((await repo.openBlob(p.cd)).stream), p.config);
    // the second push finds the blob there
    assert.equal(await repo.uploadBlob(p.ld, p.layer.length, () => { throw new Error('must not read'); }), 'exists');
  });

  test('cross-repository mount', async () => {
    const p = await pushImage(c, reg.host, 'team/base', 'v1');
    const other = c.repository(reg.host, 'team/other');
    assert.equal(await other.uploadBlob(p.ld, p.layer.length, () => { throw new Error('must not read'); }, { mountFrom: 'team/base' }), 'mounted');
    assert.equal(await other.statBlob(p.ld), p.layer.length);
  });

  test('unknown tag is docker\'s "manifest unknown", unknown blob is NotFound', async () => {
    const repo = c.repository(reg.host, 'team/app');
    await assert.rejects(repo.getManifest('nope'), (e: any) => e.kind === 'NotFound' && e.code === 'MANIFEST_UNKNOWN' &&
      /manifest for .*team\/app:nope not found: manifest unknown: manifest unknown/.test(e.message));
    await assert.rejects(async () => (await repo.openBlob(digestOf('nope'))).stream, (e: any) => e.kind === 'NotFound' && e.code === 'BLOB_UNKNOWN');
    assert.equal(await repo.headManifest('nope'), undefined);
  });

  test('a manifest whose bytes do not match the digest asked for is refused', async () => {
    const p = await pushImage(c, reg.host, 'team/mm', 'v1');
    const proxy = await startProxy(reg.host);
    const pc = new RegistryClient();
    try {
      proxy.fault = (req) => (req.url!.includes('/manifests/') ? { corrupt: true } : 'pass');
      await assert.rejects(pc.repository(proxy.host, 'team/mm').getManifest(p.md), (e: any) => e.code === 'DIGEST_MISMATCH');
    } finally { pc.close(); await proxy.stop(); }
  });

  test('transient 500/503 and connection resets are retried; a dead registry ends in a clear error', async () => {
    await pushImage(c, reg.host, 'team/retry', 'v1');
    const proxy = await startProxy(reg.host);
    const pc = new RegistryClient({ backoffMs: 5 });
    try {
      let failures = 0;
      proxy.fault = (req, res) => {
        if (req.url!.includes('/manifests/') && failures < 2) {
          failures++;
          if (failures === 1) { res.writeHead(503); res.end(); } else req.socket.destroy();
          return 'handled';
        }
        return 'pass';
      };
      assert.ok((await pc.repository(proxy.host, 'team/retry').getManifest('v1')).digest);
      assert.equal(failures, 2);
      proxy.fault = (req, res) => { res.writeHead(500, { 'Content-Type': 'application/json' }); res.end('{"errors":[{"code":"UNKNOWN","message":"boom"}]}'); return 'handled'; };
      const before = proxy.requests.length;
      await assert.rejects(pc.repository(proxy.host, 'team/retry').getManifest('v1'), (e: any) => e.kind === 'Unavailable' && /unknown: boom/.test(e.message));
      assert.equal(proxy.requests.length - before, 4, 'first try + 3 retries');
    } finally { pc.close(); await proxy.stop(); }
    const dead = new RegistryClient({ backoffMs: 5 });
    try {
      await assert.rejects(dead.repository('127.0.0.1:1', 'x').getManifest('v1'), (e: any) => e.kind === 'Unavailable' && /ECONNREFUSED|connect/.test(e.message));
    } finally { dead.close(); }
  });

  test('redirects are followed and Authorization does not leak to another host', async () => {
    const p = await pushImage(c, reg.host, 'team/redir', 'v1');
    const seen: (string | undefined)[] = [];
    // the "storage" host: same machine, different host:port, serves the blob bytes
    const big = randomBytes(2 << 20);
    const storage = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.url === '/big') { seen.push(req.headers.connection); res.writeHead(200, { 'Content-Length': big.length }); res.end(big); return; }
      res.end(p.layer);
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', () => r()));
    const proxy = await startProxy(reg.host);
    const pc = new RegistryClient({ credentials: () => ({ username: 'u', password: 'p' }) });
    try {
      proxy.fault = (req, res) => {
        if (req.url === '/v2/') { res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }); res.end(); return 'handled'; }
        if (req.url!.includes('/blobs/')) {
          seen.push(req.headers.authorization);
          const to = req.url!.includes(digestOf(big)) ? 'big' : 'blob';
          res.writeHead(307, { Location: `http://localhost:${(storage.address() as AddressInfo).port}/${to}` });
          res.end();
          return 'handled';
        }
        return 'pass';
      };
      const b = await pc.repository(proxy.host, 'team/redir').openBlob(p.ld);
      assert.deepEqual(await text(b.stream), p.layer);
      assert.match(seen[0]!, /^Basic /);
      assert.equal(seen[1], undefined);
      // a large blob: the redirect is followed on the direct path (blobread.ts), same rule
      seen.length = 0;
      const bp = await openBlobPieces(pc.repository(proxy.host, 'team/redir'), digestOf(big), { size: big.length });
      const got: Buffer[] = [];
      for await (const piece of bp.pieces) got.push(piece);
      assert.equal(digestOf(Buffer.concat(got)), digestOf(big));
      assert.deepEqual([/^Basic /.test(seen[0]!), seen[1], seen[2]], [true, undefined, 'close']);
    } finally { pc.close(); await proxy.stop(); storage.closeAllConnections(); storage.close(); }
  });
});

describe('distribution 2.8 with htpasswd (Basic)', { skip }, () => {
  let reg: Started;
  before(async () => { reg = await startDistribution({ htpasswd: { user: 'alice', password: 's3cret' } }); });
  after(async () => { await reg?.stop(); });

  test('no credentials and a wrong password are docker\'s "unauthorized: authentication required"', async () => {
    for (const creds of [undefined, { username: 'alice', password: 'wrong' }]) {
      const c = new RegistryClient({ credentials: () => creds });
      try {
        await assert.rejects(c.login(reg.host), (e: any) => e.kind === 'Unauthorized' && /^unauthorized: authentication required/.test(e.message));
        await assert.rejects(c.repository(reg.host, 'a/b').getManifest('v1'), (e: any) => e.kind === 'Unauthorized');
      } finally { c.close(); }
    }
  });

  test('the right password logs in, pushes and pulls', async () => {
    const c = new RegistryClient({ credentials: () => ({ username: 'alice', password: 's3cret' }) });
    try {
      await c.login(reg.host);
      const p = await pushImage(c, reg.host, 'team/app', 'v1');
      assert.equal((await c.repository(reg.host, 'team/app').getManifest('v1')).digest, p.md);
    } finally { c.close(); }
  });
});

describe('distribution 2.8 with token auth (Bearer)', { skip }, () => {
  let reg: Started;
  before(async () => { reg = await startDistribution({ token: { user: 'bob', password: 'hunter2' } }); });
  after(async () => { await reg?.stop(); });

  test('token flow with scopes; tokens cached per scope', async () => {
    const c = new RegistryClient({ credentials: () => ({ username: 'bob', password: 'hunter2' }) });
    try {
      await c.login(reg.host);
      const t0 = tokenRequests;
      const p = await pushImage(c, reg.host, 'team/app', 'v1');
      assert.equal(tokenRequests - t0, 1, 'one push-scope token for the whole push');
      const repo = c.repository(reg.host, 'team/app');
      assert.equal((await repo.getManifest('v1')).digest, p.md);
      assert.equal((await repo.getManifest(p.md)).digest, p.md);
      assert.equal(tokenRequests - t0, 2, 'one pull-scope token for both reads');
    } finally { c.close(); }
    const anon = new RegistryClient();
    try {
      assert.ok((await anon.repository(reg.host, 'team/app').getManifest('v1')).digest, 'anonymous pull allowed');
      await assert.rejects(pushImage(anon, reg.host, 'team/app', 'v2'), (e: any) => e.kind === 'Unauthorized' || e.kind === 'Forbidden');
    } finally { anon.close(); }
  });

  test('wrong password: the token server\'s unauthorized message', async () => {
    const c = new RegistryClient({ credentials: () => ({ username: 'bob', password: 'nope' }) });
    try {
      await assert.rejects(c.login(reg.host), (e: any) => e.kind === 'Unauthorized' && /^unauthorized: incorrect username or password/.test(e.message));
    } finally { c.close(); }
  });
});

test('TLS to a self-signed registry that is not insecure is a clear certificate error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const blob = randomBytes(3 << 20);
    const blobConns: (string | undefined)[] = [];
    const server = https.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (req, res) => {
      if (req.url === `/v2/x/blobs/${digestOf(blob)}`) { blobConns.push(req.headers.connection); res.writeHead(200, { 'Content-Length': blob.length }); res.end(blob); return; }
      res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0' }); res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // loopback counts as secure here only so the certificate check runs, as for any non-local host
    const strict = new RegistryClient({ loopbackInsecure: false, backoffMs: 5 });
    const listed = new RegistryClient({ loopbackInsecure: false, insecureRegistries: [host] });
    const trusted = new RegistryClient({ loopbackInsecure: false, ca: readFileSync(join(dir, 'c.pem')) });
    // docker's certs.d layout: <dir>/<host:port>/ca.crt
    mkdirSync(join(dir, 'certs.d', host), { recursive: true });
    copyFileSync(join(dir, 'c.pem'), join(dir, 'certs.d', host, 'ca.crt'));
    const certsd = new RegistryClient({ loopbackInsecure: false, certsDir: join(dir, 'certs.d') });
    try {
      await assert.rejects(strict.ping(host), (e: any) => e.code === 'TLS' && /certificate/.test(e.message) && e.message.includes('insecure-registries'));
      assert.equal(await listed.ping(host), `https://${host}`);
      assert.equal(await trusted.ping(host), `https://${host}`);
      assert.equal(await certsd.ping(host), `https://${host}`);
      // a large blob comes straight off the TLS socket (blobread.ts) with the same trust as the agents
      for (const c of [listed, trusted, certsd]) {
        const b = await openBlobPieces(c.repository(host, 'x'), digestOf(blob), { size: blob.length });
        const got: Buffer[] = [];
        for await (const p of b.pieces) got.push(p);
        assert.ok(got.length > 1, 'in pieces');
        assert.equal(digestOf(Buffer.concat(got)), digestOf(blob));
      }
      assert.deepEqual(blobConns, ['close', 'close', 'close'], 'one direct connection each, no fallback');
    } finally {
      strict.close(); listed.close(); trusted.close(); certsd.close();
      server.closeAllConnections(); server.close();
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('insecure-registries CIDRs match a registry by its resolved address (plain HTTP allowed), others stay https-only', async () => {
  const servers: http.Server[] = [];
  const serve = async (addr: string) => {
    const s = http.createServer((_req, res) => { res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0' }); res.end('{}'); });
    await new Promise<void>((r) => s.listen(0, addr, () => r()));
    servers.push(s);
    return (s.address() as AddressInfo).port;
  };
  // loopback is not insecure by default here, so only the CIDR entries decide
  const mk = (entries: string[]) => new RegistryClient({ loopbackInsecure: false, insecureRegistries: entries, backoffMs: 5, attempts: 1 });
  const wide = mk(['10.0.0.0/8', '127.0.0.0/8']);
  const narrow = mk(['127.0.0.1/32', '::1/128']);
  const none = mk(['10.0.0.0/8']);
  try {
    const p2 = await serve('127.0.0.2');
    const p1 = await serve('127.0.0.1');
    assert.equal(await wide.ping(`127.0.0.2:${p2}`), `http://127.0.0.2:${p2}`);
    assert.equal(await wide.ping(`localhost:${p1}`), `http://localhost:${p1}`, 'a host name is matched by what it resolves to');
    await assert.rejects(narrow.ping(`127.0.0.2:${p2}`), 'outside every CIDR: https only, which a plain HTTP server does not answer');
    assert.equal(await narrow.ping(`127.0.0.1:${p1}`), `http://127.0.0.1:${p1}`);
    await assert.rejects(none.ping(`127.0.0.2:${p2}`));
  } finally {
    wide.close(); narrow.close(); none.close();
    for (const s of servers) { s.closeAllConnections(); s.close(); }
  }
});
