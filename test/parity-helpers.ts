// The parity files' set-up: the real docker CLI v28 against a private Debian dockerd 20.10 (the reference) and
// against berthd, side by side, with one temp dir for fixtures. The file's fixtures go in `setup`, which runs
// once both daemons answer (node:test starts a file's `before` hooks together, so a second hook could not wait
// for the first); `cleanup` runs before they stop.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveDockerd, startDockerd, type Dockerd } from '../bench/anchors.ts';
import { startDaemon, haveBusybox, haveDocker, run, DOCKER, type StartedDaemon, type RunResult } from './helpers/index.ts';

export const paritySkip = !haveDocker() ? 'docker CLI not installed' : !haveBusybox() ? 'busybox-static not installed'
  : !(await haveDockerd()) ? 'needs root and /usr/sbin/dockerd' : false;

export interface ParityPair {
  dk?: Dockerd;
  bd?: StartedDaemon;
  dir: string;
  /** The docker CLI's environment for dockerd (hints off, as berthd's side has none to give). */
  denv: NodeJS.ProcessEnv;
  benv: NodeJS.ProcessEnv;
  /** `docker ARGS` against dockerd / berthd; never throws on exit codes. */
  D(args: string[], input?: string | Buffer): Promise<RunResult>;
  B(args: string[], input?: string | Buffer): Promise<RunResult>;
  /** Both sides: the same exit code, and the same stdout and stderr once `shape`d. */
  same(args: string[], shape: (s: string) => string, input?: string | Buffer): Promise<[RunResult, RunResult]>;
  /** The file's fixtures, made once both daemons answer (assign it at the file's top level). */
  setup?: (p: ParityPair) => Promise<void>;
}

export function parityPair(prefix: string, cleanup?: (p: ParityPair) => Promise<unknown>): ParityPair {
  const p: ParityPair = {
    dir: '', denv: {}, benv: {},
    D: (args, input) => run(DOCKER, args, { env: p.denv, input }),
    B: (args, input) => run(DOCKER, args, { env: p.benv, input }),
    async same(args, shape, input) {
      const [d, b] = await Promise.all([p.D(args, input), p.B(args, input)]);
      const what = `docker ${args.join(' ')}`;
      assert.equal(b.code, d.code, `${what}: exit code\n--- dockerd\n${d.stdout}${d.stderr}--- berthd\n${b.stdout}${b.stderr}`);
      assert.equal(shape(b.stdout), shape(d.stdout), `${what}: stdout`);
      assert.equal(shape(b.stderr), shape(d.stderr), `${what}: stderr`);
      return [d, b];
    },
  };
  before(async () => {
    if (paritySkip) return;
    p.dir = mkdtempSync(join(tmpdir(), prefix));
    [p.dk, p.bd] = await Promise.all([startDockerd(), startDaemon()]);
    p.denv = { ...p.dk.env, DOCKER_CLI_HINTS: 'false' };
    p.benv = p.bd.dockerEnv;
    await p.setup?.(p);
  });
  after(async () => {
    if (p.dk && p.bd && cleanup) await cleanup(p).catch(() => {});
    await Promise.all([p.bd?.stop(), p.dk?.stop()]);
    if (p.dir) rmSync(p.dir, { recursive: true, force: true });
  });
  return p;
}

/** Asserts exit 0 (stderr as the message) and hands the result on. */
export async function ok(r: Promise<RunResult>): Promise<RunResult> {
  const x = await r;
  assert.equal(x.code, 0, x.stderr);
  return x;
}
