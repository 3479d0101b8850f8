// daemon.json registry keys through berthd: per-registry mirrors (`registry-mirrors-for`, beyond docker)
// serve a pull and fall back to the registry when dead; `docker info` lists insecure registries and mirrors;
// GET /distribution/{name}/json answers the descriptor and platforms; `pull -a` pulls every tag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, docker, haveDocker } from './helpers/index.ts';
import { HAVE_REGISTRY, startDistribution, startProxy } from './distribution-fixtures.ts';
import { RegistryClient } from '../src/distribution/index.ts';
import { digestOf } from '../src/digest/index.ts';
import { MediaType } from '../src/image/index.ts';

const skip = (!HAVE_REGISTRY && 'docker-registry missing') || (!haveDocker() && 'docker CLI missing') || false;

async function seed(host: string, name: string, tags: string[]): Promise<string> {
  const c = new RegistryClient();
  try {
    // a real layer tar: berthd unpacks what it pulls, as docker does
    const tmp = mkdtempSync(join(tmpdir(), 'bd-seed-'));
    writeFileSync(join(tmp, 'f'), randomBytes(10_000));
    const raw = execFileSync('tar', ['-C', tmp, '-cf', '-', 'f']);
    rmSync(tmp, { recursive: true, force: true });
    const config = Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', variant: 'v8', rootfs: { type: 'layers', diff_ids: [digestOf(raw)] } }));
    const repo = c.repository(host, name);
    await repo.uploadBlob(digestOf(raw), raw.length, () => Readable.from([raw]));
    await repo.uploadBlob(digestOf(config), config.length, () => Readable.from([config]));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.OciLayer, digest: digestOf(raw), size: raw.length }] }));
    for (const t of tags) await repo.putManifest(t, m, MediaType.OciManifest);
    return digestOf(m);
  } finally { c.close(); }
}

test('registry-mirrors-for serves pulls, falls back when the mirror is dead; info; distribution inspect; pull -a', { skip }, async () => {
  const reg = await startDistribution();
  const mirror = await startProxy(reg.host);
  try {
    const digest = await seed(reg.host, 'team/m', ['a', 'b', 'c']);
    const d = await startDaemon({ config: {
      'registry-mirrors-for': { [reg.host]: [`http://${mirror.host}`] }, 'insecure-registries': ['10.9.8.7:5000', '10.0.0.0/8'],
    } });
    try {
      const info = await docker(['info', '--format', '{{json .RegistryConfig}}'], { env: d.dockerEnv });
      assert.equal(info.code, 0, info.stderr);
      const rc = JSON.parse(info.stdout);
      assert.deepEqual(rc.IndexConfigs[reg.host].Mirrors, [`http://${mirror.host}`]);
      assert.equal(rc.IndexConfigs['10.9.8.7:5000'].Secure, false);
      // a CIDR entry is a range of addresses, not an index name (docker's InsecureRegistryCIDRs)
      assert.deepEqual(rc.InsecureRegistryCIDRs, ['10.0.0.0/8', '127.0.0.0/8', '::1/128']);
      assert.equal(rc.IndexConfigs['10.0.0.0/8'], undefined);

      const r = await docker(['pull', '--platform', 'linux/arm64', `${reg.host}/team/m:a`], { env: d.dockerEnv });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(mirror.requests.some((q) => q.includes('/v2/team/m/manifests/a')), 'the mirror served the manifest');
      // the mirror dies: the registry itself answers
      mirror.fault = (req) => { req.socket.destroy(); return 'handled'; };
      const r2 = await docker(['pull', `${reg.host}/team/m:b`], { env: d.dockerEnv });
      assert.equal(r2.code, 0, r2.stderr);

      const di = await d.client.json<{ Descriptor: { digest: string; mediaType: string }; Platforms: { architecture: string; os: string }[] }>('GET', `/distribution/${reg.host}/team/m:a/json`);
      assert.equal(di.Descriptor.digest, digest);
      assert.equal(di.Descriptor.mediaType, MediaType.OciManifest);
      assert.deepEqual(di.Platforms.map((p) => `${p.os}/${p.architecture}`), ['linux/arm64']);

      mirror.fault = undefined;
      const all = await docker(['pull', '-a', `${reg.host}/team/m`], { env: d.dockerEnv });
      assert.equal(all.code, 0, all.stderr);
      const tags = await docker(['images', '--format', '{{.Tag}}', `${reg.host}/team/m`], { env: d.dockerEnv });
      assert.deepEqual(tags.stdout.trim().split('\n').sort(), ['a', 'b', 'c']);
    } finally { await d.stop(); }
  } finally {
    await mirror.stop();
    await reg.stop();
  }
});
