// berthd's system surface through real clients: the docker CLI v28 and dockerode against a real berthd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import Docker from 'dockerode';
import { startDaemon, docker, haveDocker, haveBusybox, importBusybox, containerSkip, BERTHD, type StartedDaemon } from './helpers/index.ts';
import { isKind } from '../src/errors/index.ts';

let d: StartedDaemon;
before(async () => { d = await startDaemon(); });
after(async () => { await d?.stop(); });

function rawGet(path: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socketPath, path, method }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the socket is 0660 and the pidfile names the daemon', () => {
  assert.equal(statSync(d.socketPath).mode & 0o777, 0o660);
  assert.ok(existsSync(join(d.dir, 'berthd.pid')));
});

test('GET and HEAD /_ping carry the negotiation headers', async () => {
  for (const method of ['GET', 'HEAD']) {
    const r = await rawGet('/_ping', method);
    assert.equal(r.status, 200);
    assert.equal(r.body, method === 'GET' ? 'OK' : '');
    assert.equal(r.headers['api-version'], '1.51');
    assert.equal(r.headers['ostype'], 'linux');
    assert.equal(r.headers['builder-version'], '1');
    assert.equal(r.headers['docker-experimental'], 'false');
    assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    assert.equal(r.headers['pragma'], 'no-cache');
  }
});

test('version prefixes: in range accepted, too old and too new refused with docker\'s words, unknown path 404', async () => {
  assert.equal((await rawGet('/v1.24/version')).status, 200);
  assert.equal((await rawGet('/version')).status, 200);
  const old = await rawGet('/v1.12/version');
  assert.equal(old.status, 400);
  assert.equal(JSON.parse(old.body).message, 'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
  const neu = await rawGet('/v1.52/version');
  assert.equal(neu.status, 400);
  assert.equal(JSON.parse(neu.body).message, 'client version 1.52 is too new. Maximum supported API version is 1.51');
  const nf = await rawGet('/v1.51/nothing/here');
  assert.equal(nf.status, 404);
  assert.equal(JSON.parse(nf.body).message, 'page not found');
});

test('EngineClient: version and info decode, errors keep their kind', async () => {
  const v = await d.client.json<{ ApiVersion: string; MinAPIVersion: string; Os: string }>('GET', '/version');
  assert.deepEqual([v.ApiVersion, v.MinAPIVersion, v.Os], ['1.51', '1.24', 'linux']);
  const i = await d.client.json<{ DockerRootDir: string; OSType: string; Images: number }>('GET', '/info');
  assert.equal(i.DockerRootDir, d.dataRoot);
  assert.equal(i.OSType, 'linux');
  await assert.rejects(d.client.json('GET', '/events', { query: { filters: { bogus: ['x'] } } }), (e) => isKind(e, 'InvalidArgument'));
});

test('docker version and docker info (CLI v28) succeed without warnings', { skip: !haveDocker() && 'docker CLI missing' }, async () => {
  const v = await docker(['version'], { env: d.dockerEnv });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stderr, '');
  assert.match(v.stdout, /Server: berth/);
  assert.match(v.stdout, /API version:\s+1\.51 \(minimum version 1\.24\)/);
  const f = await docker(['version', '--format', '{{.Server.APIVersion}}'], { env: d.dockerEnv });
  assert.equal(f.stdout.trim(), '1.51');
  const i = await docker(['info'], { env: d.dockerEnv });
  assert.equal(i.code, 0, i.stderr);
  assert.equal(i.stderr, '');
  assert.match(i.stdout, new RegExp(`Docker Root Dir: ${d.dataRoot}`));
  const j = await docker(['info', '--format', '{{json .OSType}}'], { env: d.dockerEnv });
  assert.equal(j.stdout.trim(), '"linux"');
});

test('dockerode pings and reads version/info', async () => {
  const dk = new Docker({ socketPath: d.socketPath });
  assert.equal(String(await dk.ping()), 'OK');
  const v = await dk.version();
  assert.equal(v.ApiVersion, '1.51');
  const i = await dk.info();
  assert.equal(i.OSType, 'linux');
});

test('events: --until in the past ends the stream; a live subscriber gets nothing unmatched', async () => {
  const now = Date.now() / 1000;
  const res = await d.client.raw('GET', '/events', { query: { since: String(now - 60), until: String(now - 1) } });
  let body = '';
  for await (const c of res) body += c;
  assert.equal(res.statusCode, 200);
  assert.equal(body, '');
});

test('a second berthd on the same data root refuses to start', async () => {
  const r = spawnSync(process.execPath, [BERTHD, '--data-root', d.dataRoot, '-H', `unix://${d.dir}/other.sock`,
    '--pidfile', `${d.dir}/other.pid`, '--config-file', `${d.dir}/daemon.json`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /another berthd \(pid \d+\) is using the data root/);
  assert.ok(!existsSync(`${d.dir}/other.sock`));
});

test('a flag and daemon.json naming the same key is dockerd\'s conflict error; unknown keys are refused', async () => {
  const dir = d.dir;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${dir}/conflict.json`, JSON.stringify({ debug: true }));
  const r = spawnSync(process.execPath, [BERTHD, '--data-root', `${dir}/d2`, '-H', `unix://${dir}/c.sock`, '--debug',
    '--config-file', `${dir}/conflict.json`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the following directives are specified both as a flag and in the configuration file: debug: \(from flag: true, from file: true\)/);
  writeFileSync(`${dir}/unknown.json`, JSON.stringify({ 'no-such-key': 1 }));
  const u = spawnSync(process.execPath, [BERTHD, '--data-root', `${dir}/d2`, '-H', `unix://${dir}/c.sock`,
    '--config-file', `${dir}/unknown.json`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(u.status, 1);
  assert.match(u.stderr, /the following directives don't match any configuration option: no-such-key/);
});

test('SIGTERM stops gracefully: exit 0, socket, pidfile and lock removed; a restart on the same root works', async () => {
  const e = await startDaemon();
  try {
    assert.equal(await e.stop({ keep: true }), 0);
    assert.ok(!existsSync(e.socketPath));
    assert.ok(!existsSync(join(e.dir, 'berthd.pid')));
    assert.ok(!existsSync(join(e.dataRoot, 'berthd.lock')));
    const again = await startDaemon({ dir: e.dir });
    await again.kill();
    // a killed daemon leaves its lock and pidfile behind; the next start takes them over
    const third = await startDaemon({ dir: e.dir });
    assert.equal((await third.client.ping()).apiVersion, '1.51');
    assert.equal(await third.stop(), 0);
  } finally {
    const { rmSync } = await import('node:fs');
    rmSync(e.dir, { recursive: true, force: true });
  }
});

test('SIGTERM with a container running: berthd exits 0 at once, the container keeps running, a restart sees it', { skip: containerSkip() }, async () => {
  const e = await startDaemon();
  let again: StartedDaemon | undefined;
  try {
    await importBusybox(e);
    const run = await docker(['run', '-d', '--name', 'outlives', 'busybox', 'sleep', '60'], { env: e.dockerEnv });
    assert.equal(run.code, 0, run.stderr);
    // stop() sends SIGTERM and falls back to SIGKILL (exit code null) after 5 s
    assert.equal(await e.stop({ keep: true }), 0);
    again = await startDaemon({ dir: e.dir });
    const ps = await docker(['ps', '--format', '{{.Names}} {{.State}}'], { env: again.dockerEnv });
    assert.equal(ps.stdout, 'outlives running\n', ps.stderr);
    assert.equal((await docker(['rm', '-f', 'outlives'], { env: again.dockerEnv })).code, 0);
  } finally {
    await again?.stop();
    const { rmSync } = await import('node:fs');
    rmSync(e.dir, { recursive: true, force: true });
  }
});

test('helpers: importBusybox gives a named image with the requested changes', { skip: !haveBusybox() && 'busybox-static missing' }, async () => {
  const id = await importBusybox(d, 'helper:1', ['CMD ["sh"]']);
  const img = await d.client.json<{ Id: string; Config: { Cmd: string[] }; RepoTags: string[] }>('GET', '/images/helper:1/json');
  assert.equal(img.Id, id);
  assert.deepEqual(img.Config.Cmd, ['sh']);
  assert.deepEqual(img.RepoTags, ['helper:1']);
});
