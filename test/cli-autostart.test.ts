// `berth` starts berthd itself when nothing answers on the default socket, and only then. Run as an
// unprivileged user (nobody) so the default socket is under a temp XDG_RUNTIME_DIR instead of /run/berth, with
// a temp BERTH_DATA_ROOT; the daemon it spawned is killed at the end, pass or fail.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, chownSync, chmodSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ensureBerthd } from './helpers/index.ts';
import { ensureBerth, BERTH_BIN } from './cli-helpers.ts';

const NOBODY = 65534;
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'cli-auto-'));
const run = join(dir, 'run');
const data = join(dir, 'data');
const pidfile = join(run, 'berth', 'berthd.pid');

function daemonPid(): number | undefined {
  try { return Number(readFileSync(pidfile, 'utf8').trim()) || undefined; } catch { return undefined; }
}

after(async () => {
  const pid = daemonPid();
  if (pid) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    // wait until it is gone so the directory can be removed
    for (let i = 0; i < 200; i++) {
      try { process.kill(pid, 0); } catch { break; }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function berthAsNobody(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BERTH_BIN, ...args], {
      uid: NOBODY, gid: NOBODY, cwd: dir,
      env: { PATH: process.env.PATH, HOME: join(dir, 'home'), XDG_RUNTIME_DIR: run, BERTH_DATA_ROOT: data, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => { stdout += b; });
    p.stderr.on('data', (b) => { stderr += b; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('auto-start: the first command starts berthd on the default socket; later ones reuse it', { skip: !root && 'needs root to run the CLI as another user' }, async () => {
  await Promise.all([ensureBerth(), ensureBerthd()]);
  for (const p of [dir, run, join(dir, 'home')]) { mkdirSync(p, { recursive: true }); chownSync(p, NOBODY, NOBODY); }
  chmodSync(dir, 0o755);
  const first = await berthAsNobody(['version', '--format', '{{.Server.Version}}']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.ok(existsSync(join(run, 'berth', 'berth.sock')), 'socket under $XDG_RUNTIME_DIR/berth');
  assert.ok(existsSync(join(data, 'berthd.log')), 'daemon log in the data root');
  const pid = daemonPid();
  assert.ok(pid, 'pidfile beside the socket');
  // started through bin/berthd.js, so with its node flags and environment
  assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--max-semi-space-size=2'));
  assert.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=1'));
  const second = await berthAsNobody(['images', '-q']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, '');
  assert.equal(daemonPid(), pid, 'the running daemon was reused');
});

test('no auto-start when a host is given: BERTH_HOST pointing nowhere is an error', { skip: !root && 'needs root to run the CLI as another user' }, async () => {
  await ensureBerth();
  mkdirSync(join(dir, 'home'), { recursive: true });
  const r = await berthAsNobody(['images'], { BERTH_HOST: `unix://${join(dir, 'nothing.sock')}` });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Cannot connect to the berth daemon at unix:\/\/.*nothing\.sock\. Is the berth daemon running\?\n$/);
  assert.ok(!existsSync(join(dir, 'nothing.sock')));
});
