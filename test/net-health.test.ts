// Healthchecks through the real docker CLI v28 on berthd: --health-* flags and an image HEALTHCHECK, probes
// run by berthd at the interval, State.Health in inspect, ps STATUS "(healthy)", --filter health=, the
// health_status events, the probe timeout, stop ends probing, and probing resumes after berthd is killed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, waitFor, containerSuite, containerSkip } from './helpers/index.ts';
import { berth } from './cli-helpers.ts';

const suite = containerSuite(containerSkip());
const skip = containerSkip();
const k = suite.k;

interface Health { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string; Start: string; End: string }[] }
async function health(name: string): Promise<Health | null> {
  return JSON.parse((await k(['inspect', '-f', '{{json .State.Health}}', name])).stdout);
}
async function until(name: string, ok: (h: Health) => boolean, what: string): Promise<Health> {
  let last: Health | null = null;
  await waitFor(async () => { last = await health(name); return !!last && ok(last); }, `${name} ${what}`, 15_000)
    .catch((e: Error) => { throw new Error(`${e.message}; last: ${JSON.stringify(last)}`); });
  return last!;
}

test('--health-*: starting → unhealthy → healthy, ps status and filter, events, last 5 results', { skip, timeout: 60_000 }, async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const r = await k(['run', '-d', '--name', 'hc', '--health-cmd', 'cat /tmp/ok', '--health-interval', '100ms', '--health-retries', '2', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const first = await health('hc');
  assert.equal(first?.Status, 'starting');
  assert.match((await k(['ps', '--format', '{{.Status}}', '-f', 'name=hc'])).stdout, /^Up .* \(health: starting\)\n$/);
  const bad = await until('hc', (h) => h.Status === 'unhealthy', 'unhealthy');
  assert.ok(bad.FailingStreak >= 2);
  assert.equal(bad.Log.at(-1)!.ExitCode, 1);
  assert.match(bad.Log.at(-1)!.Output, /No such file or directory/);
  assert.match((await k(['ps', '--format', '{{.Status}}', '-f', 'name=hc'])).stdout, /^Up .* \(unhealthy\)\n$/);
  assert.equal((await k(['ps', '-q', '--no-trunc', '-f', 'health=unhealthy'])).stdout, `${id}\n`);
  assert.equal((await k(['ps', '-q', '-f', 'health=healthy'])).stdout, '');
  // berth's ps agrees
  assert.equal((await berth(['ps', '-q', '--no-trunc', '-f', 'health=unhealthy'], { env: suite.d.dockerEnv })).stdout, `${id}\n`);

  assert.equal((await k(['exec', 'hc', 'touch', '/tmp/ok'])).code, 0);
  const good = await until('hc', (h) => h.Status === 'healthy', 'healthy');
  assert.equal(good.FailingStreak, 0);
  assert.equal(good.Log.at(-1)!.ExitCode, 0);
  await until('hc', (h) => h.Log.length === 5, '5 results kept');
  assert.match((await k(['ps', '--format', '{{.Status}}', '-f', 'name=hc'])).stdout, /^Up .* \(healthy\)\n$/);
  assert.equal((await k(['ps', '-q', '--no-trunc', '-f', 'health=healthy'])).stdout, `${id}\n`);
  assert.equal((await k(['ps', '-q', '-f', 'health=none', '-f', 'name=hc'])).stdout, '');

  const ev = await k(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=hc', '--filter', 'event=health_status', '--format', '{{.Action}}']);
  assert.equal(ev.stdout, 'health_status: unhealthy\nhealth_status: healthy\n');

  // stopping the container stops the probes
  assert.equal((await k(['stop', '-t', '0', 'hc'])).code, 0);
  const n = (await health('hc'))!.Log.at(-1)!.End;
  await new Promise((res) => setTimeout(res, 400)); // four intervals: no probe may run in them
  assert.equal((await health('hc'))!.Log.at(-1)!.End, n);
  // as dockerd: a stopped container reads unhealthy, a started one starting again, the results kept
  const down = (await health('hc'))!;
  assert.deepEqual([down.Status, down.Log.length], ['unhealthy', 5]);
  assert.equal((await k(['start', 'hc'])).code, 0);
  const up = (await health('hc'))!;
  assert.deepEqual([up.Status, up.FailingStreak, up.Log.length], ['starting', 0, 5]);
  await until('hc', (h) => h.Status === 'healthy' && h.Log.at(-1)!.End !== n, 'healthy again after start');
  // each probe is an exec in events, as dockerd's
  const ex = await k(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=hc', '--format', '{{.Action}}']);
  assert.match(ex.stdout, /^exec_create: \/bin\/sh -c cat \/tmp\/ok\nexec_start: \/bin\/sh -c cat \/tmp\/ok\nexec_die\n/m);
});

test('image HEALTHCHECK is used; --no-healthcheck disables it; a probe past --health-timeout fails', { skip, timeout: 90_000 }, async () => {
  const ctx = mkdtempSync(join(tmpdir(), 'hc-'));
  try {
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=100ms --retries=1 CMD ["true"]\n');
    const b = await k(['build', '-q', '-t', 'hcimg', ctx]);
    assert.equal(b.code, 0, b.stderr);
  } finally { rmSync(ctx, { recursive: true, force: true }); }
  assert.equal((await k(['run', '-d', '--name', 'img', 'hcimg', 'sleep', '300'])).code, 0);
  await until('img', (h) => h.Status === 'healthy', 'healthy from the image HEALTHCHECK');
  assert.equal((await k(['run', '-d', '--name', 'nohc', '--no-healthcheck', 'hcimg', 'sleep', '300'])).code, 0);
  assert.equal(await health('nohc'), null);
  assert.equal((await k(['ps', '-q', '--no-trunc', '-f', 'health=none', '-f', 'name=nohc'])).stdout.trim().length, 64);

  const conflicting = await k(['run', '--no-healthcheck', '--health-cmd', 'true', 'busybox', 'true']);
  assert.equal(conflicting.code, 125);
  assert.match(conflicting.stderr, /--no-healthcheck conflicts with --health-\* options/);
  const b2 = await berth(['run', '--no-healthcheck', '--health-cmd', 'true', 'busybox', 'true'], { env: suite.d.dockerEnv });
  assert.equal(b2.code, 125);
  assert.match(b2.stderr, /--no-healthcheck conflicts with --health-\* options/);

  assert.equal((await k(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 10', '--health-timeout', '200ms', '--health-interval', '100ms', '--health-retries', '1', 'busybox', 'sleep', '300'])).code, 0);
  const h = await until('slow', (x) => x.Status === 'unhealthy', 'unhealthy by timeout');
  assert.deepEqual([h.Log.at(-1)!.ExitCode, h.Log.at(-1)!.Output], [-1, 'Health check exceeded timeout (200ms)']);
  await k(['rm', '-f', 'img', 'nohc', 'slow']);
});

test('probing resumes after berthd is killed and started again', { skip, timeout: 60_000 }, async () => {
  assert.equal((await k(['run', '-d', '--name', 'survivor', '--health-cmd', 'true', '--health-interval', '100ms', 'busybox', 'sleep', '300'])).code, 0);
  await until('survivor', (h) => h.Status === 'healthy', 'healthy');
  await suite.d.kill();
  const before = Date.now();
  suite.d = await startDaemon({ dir: suite.d.dir });
  const h = await until('survivor', (x) => x.Status === 'healthy' && Date.parse(x.Log.at(-1)!.Start) > before, 'probed after the restart');
  assert.equal(h.FailingStreak, 0);
  await k(['rm', '-f', 'survivor']);
});
