// The set-up most end-to-end container files share: one berthd for the file with a busybox image, the real docker
// CLI pointed at it, and on the way out every container removed and the daemon stopped (also after a failure).
import { before, after } from 'node:test';
import { startDaemon, type StartedDaemon } from './daemon.ts';
import { importBusybox, haveBusybox } from './busybox.ts';
import { docker, haveDocker, type RunResult } from './docker.ts';

/** Why the file must skip on this machine, or false. */
export function containerSkip(): string | false {
  return !haveBusybox() ? 'busybox-static not installed' : !haveDocker() ? 'docker CLI not installed'
    : process.getuid?.() !== 0 ? 'containers need root' : false;
}

export interface ContainerSuite {
  /** The file's daemon (set once `before` has run; a test that restarts it assigns the new one). */
  d: StartedDaemon;
  /** `docker ARGS` against it; never throws on exit codes. */
  k(args: string[]): Promise<RunResult>;
}

/** Registers before/after hooks for a daemon with `busybox:latest`; `cleanup` runs before the containers go. */
export function containerSuite(skip: string | false, cleanup?: (s: ContainerSuite) => Promise<unknown>): ContainerSuite {
  let d: StartedDaemon | undefined;
  const s: ContainerSuite = {
    get d() { if (!d) throw new Error('the suite daemon is not started'); return d; },
    set d(v) { d = v; },
    k: (args) => docker(args, { env: s.d.dockerEnv }),
  };
  before(async () => {
    if (skip) return;
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    if (!d) return;
    if (cleanup) await cleanup(s).catch(() => {});
    const ids = (await s.k(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await s.k(['rm', '-f', ...ids]);
    await d.stop();
  });
  return s;
}
