// `docker run -it` and `docker exec -it` through a real terminal (tmux): type a command, read the screen.
// Also the berth CLI (node bin/berth.js) against the same berthd for run/ps/logs/rm.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { containerSuite, containerSkip, Terminal, haveTmux, run, REPO, DOCKER } from './helpers/index.ts';

const skip = containerSkip();
const ttySkip = skip || (haveTmux ? false : 'needs tmux');
const s = containerSuite(skip);
after(() => Terminal.stopServer());

const cliEnv = () => ({ DOCKER_HOST: s.d.dockerEnv.DOCKER_HOST, DOCKER_CONFIG: s.d.dockerEnv.DOCKER_CONFIG, DOCKER_CLI_HINTS: 'false' });

test('docker run -it: a shell on a pty, typed into through tmux', { skip: ttySkip }, async () => {
  const term = new Terminal(`tty-${process.pid}`, [DOCKER, 'run', '-it', '--rm', '--name', 'tty1', 'busybox', 'sh'], { env: cliEnv() });
  try {
    await term.until(/^\/ #/m);
    term.keys('echo $((6*7)); stty size', 'Enter');
    await term.until(/^42$/m);
    assert.match(term.screen(), /^\d+ 100$/m, 'the pty has the terminal\'s width');
    term.keys('exit 5', 'Enter');
    assert.equal(await term.exitStatus(), 5, 'the CLI exits with the shell\'s status');
    assert.ok(term.alive());
  } finally {
    term.kill();
  }
});

test('berth CLI: run --rm, run -d + logs + exec, ps --format, rm -f', { skip }, async () => {
  const berth = (args: string[]) => run(process.execPath, [join(REPO, 'bin', 'berth.js'), ...args], { env: s.d.dockerEnv });
  const r = await berth(['run', '--rm', 'busybox', 'echo', 'hi']);
  assert.equal(r.stdout, 'hi\n', r.stderr);
  assert.equal(r.code, 0);
  const bg = await berth(['run', '-d', '--name', 'bg', 'busybox', 'sh', '-c', 'echo up; sleep 60']);
  assert.equal(bg.code, 0, bg.stderr);
  const ex = await berth(['exec', 'bg', 'echo', 'in']);
  assert.equal(ex.stdout, 'in\n', ex.stderr);
  const logs = await berth(['logs', 'bg']);
  assert.equal(logs.stdout, 'up\n', logs.stderr);
  const ps = await berth(['ps', '--format', '{{.Names}}\t{{.Status}}']);
  assert.match(ps.stdout, /^bg\tUp /);
  const miss = await berth(['run', '--rm', 'busybox', 'nosuchcmd']);
  assert.equal(miss.code, 127, miss.stderr);
  assert.equal((await berth(['rm', '-f', 'bg'])).code, 0);
  assert.equal((await berth(['ps', '-aq', '--filter', 'name=bg'])).stdout, '');
});

test('docker exec -it into a running container through tmux', { skip: ttySkip }, async () => {
  const bg = await s.k(['run', '-d', '--name', 'ttyexec', 'busybox', 'sleep', '60']);
  assert.equal(bg.code, 0, bg.stderr);
  const term = new Terminal(`tty-exec-${process.pid}`, [DOCKER, 'exec', '-it', 'ttyexec', 'sh'], { env: cliEnv(), cols: 90, rows: 20 });
  try {
    await term.until(/^\/ #/m);
    term.keys('echo $((3*5)) $(tty); stty size', 'Enter');
    await term.until(/^15 \/dev\/pts\/\d+$/m);
    assert.match(term.screen(), /^\d+ 90$/m);
  } finally {
    term.kill();
    await s.k(['rm', '-f', 'ttyexec']);
  }
});
