// The pull-through cache with servers on port 0: credentials to an htpasswd upstream, tags re-checked after the
// TTL, digests served from the cache forever, and the cache answering while the upstream is down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, listen, buildConfig } from '../src/registry/index.ts';
import { basic, rmrf, sha256, writeHtpasswd } from './registry-lib.ts';
import { waitFor } from './helpers/index.ts';
import type { Digest } from '../src/digest/index.ts';

const OCI = 'application/vnd.oci.image.manifest.v1+json';

async function pushImage(url: string, auth: string, repo: string, tag: string, payload: string): Promise<string> {
  const h = { Authorization: auth };
  for (const b of ['{}', payload]) {
    const r = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${sha256(b)}`, { method: 'POST', body: b, headers: h });
    assert.equal(r.status, 201);
  }
  const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(payload), size: payload.length }] });
  const r = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { ...h, 'Content-Type': OCI } });
  assert.equal(r.status, 201);
  return sha256(body);
}

test('proxy: upstream credentials, TTL re-check of tags, cache while the upstream is down', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-regproxy-'));
  writeHtpasswd(join(dir, 'htpasswd'), { up: 'up-pw' });
  const upApp = createApp(buildConfig({ auth: { htpasswd: join(dir, 'htpasswd') }, log: { access: false } }, { addr: '127.0.0.1:0', root: join(dir, 'up') }), { log: () => {} });
  const up = await listen(upApp);
  const upUrl = `http://${up.address}`;
  const mirrorApp = createApp(buildConfig({ proxy: { remote: upUrl, username: 'up', password: 'up-pw', ttl: 3600 }, log: { access: false } },
    { addr: '127.0.0.1:0', root: join(dir, 'mirror') }), { log: () => {} });
  const mirror = await listen(mirrorApp);
  const expireTags = () => { mirrorApp.proxy!.cfg.ttl = 0; };
  const mUrl = `http://${mirror.address}`;
  let upClosed = false;
  try {
    const A = basic('up', 'up-pw');
    const m1 = await pushImage(upUrl, A, 'lib/app', 'v1', 'first');
    const g1 = await fetch(`${mUrl}/v2/lib/app/manifests/v1`);
    assert.equal(g1.status, 200);
    assert.equal(g1.headers.get('docker-content-digest'), m1);
    assert.equal(await (await fetch(`${mUrl}/v2/lib/app/blobs/${sha256('first')}`)).text(), 'first');
    assert.deepEqual(((await (await fetch(`${mUrl}/v2/lib/app/tags/list`)).json()) as { tags: string[] }).tags, ['v1']);
    // the tag moves upstream: served from cache within the TTL, re-checked after it
    const m2 = await pushImage(upUrl, A, 'lib/app', 'v1', 'second');
    assert.equal((await fetch(`${mUrl}/v2/lib/app/manifests/v1`)).headers.get('docker-content-digest'), m1);
    // the TTL passing, without waiting for it: the proxy reads its ttl on every tag lookup
    expireTags();
    assert.equal((await fetch(`${mUrl}/v2/lib/app/manifests/v1`)).headers.get('docker-content-digest'), m2);
    assert.equal(await (await fetch(`${mUrl}/v2/lib/app/blobs/${sha256('second')}`)).text(), 'second');
    // upstream gone: tag (past its TTL) and blobs still served from the cache
    // the cache commits a blob after it has streamed it to the client: wait for that before the upstream goes
    await waitFor(() => mirrorApp.blobs.linked('lib/app', sha256('second') as Digest), 'the cached blob');
    await up.close(); upClosed = true;
    expireTags();
    const g3 = await fetch(`${mUrl}/v2/lib/app/manifests/v1`);
    assert.equal(g3.status, 200);
    assert.equal(g3.headers.get('docker-content-digest'), m2);
    assert.equal(await (await fetch(`${mUrl}/v2/lib/app/manifests/${m1}`)).status, 200);
    assert.equal(await (await fetch(`${mUrl}/v2/lib/app/blobs/${sha256('second')}`)).text(), 'second');
    assert.equal((await fetch(`${mUrl}/v2/lib/app/manifests/never`)).status, 503);
    const push = await fetch(`${mUrl}/v2/lib/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(push.status, 405, 'a mirror takes no pushes');
  } finally {
    await mirror.close();
    if (!upClosed) await up.close();
    rmrf(dir);
  }
});
