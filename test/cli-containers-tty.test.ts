// `berth attach` on a real terminal (tmux) to a `run -dit` shell: typed input reaches the container, output
// comes back, ctrl-p ctrl-q detaches ("read escape sequence", exit 1) leaving the container running — the same with the real docker CLI v28.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { containerSuite, containerSkip, Terminal, haveTmux, DOCKER } from './helpers/index.ts';
import { BERTH_BIN, ensureBerth } from './cli-helpers.ts';

const skip = containerSkip() || (haveTmux ? false : 'needs tmux');
const s = containerSuite(skip);
before(async () => { if (!skip) await ensureBerth(); });
after(() => Terminal.stopServer());

test('attach to a tty shell: type, read, detach with ctrl-p ctrl-q (berth and docker alike)', { skip }, async () => {
  const env = { DOCKER_HOST: s.d.dockerEnv.DOCKER_HOST, BERTH_HOST: s.d.dockerEnv.BERTH_HOST, DOCKER_CONFIG: s.d.dockerEnv.DOCKER_CONFIG, DOCKER_CLI_HINTS: 'false' };
  for (const [cli, argv] of [['berth', [process.execPath, BERTH_BIN]], ['docker', [DOCKER]]] as const) {
    const name = `tty-${cli}`;
    const r = await s.k(['run', '-dit', '--name', name, 'busybox', 'sh']);
    assert.equal(r.code, 0, r.stderr);
    const term = new Terminal(`attach-${cli}-${process.pid}`, [...argv, 'attach', name], { env });
    try {
      // the shell prints nothing until spoken to: type until the answer shows (the attach may not be up yet)
      await term.until((screen) => {
        if (/^42$/m.test(screen)) return true;
        term.keys('echo $((6*7))', 'Enter');
        return false;
      });
      term.keys('C-p', 'C-q');
      const status = await term.exitStatus();
      // docker 28 reports the detach as its EscapeError: "read escape sequence", exit 1
      assert.equal(status, 1, `${cli} (status ${status}): ${term.screen().trim()}`);
      assert.match(term.screen(), /read escape sequence/, cli);
      const st = await s.k(['inspect', '-f', '{{.State.Running}}', name]);
      assert.equal(st.stdout, 'true\n', `${cli}: the container keeps running`);
    } finally {
      term.kill();
    }
  }
});
