// Starting berthd when nothing answers on the default socket (DESIGN.md: "started by the CLI when none
// answers"). Only for the default host: with -H or BERTH_HOST the user chose a daemon, and a missing one is
// an error, as in docker. The daemon runs detached with its output in <data-root>/berthd.log.
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataRoot } from '../layout/index.ts';
import { unavailable } from '../errors/index.ts';
import type { EngineClient } from '../api/index.ts';

/** dist/berthd.mjs beside the bundled CLI (dist/berth.cjs); from sources, the repository's dist/. */
export function daemonEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'berthd.mjs'), join(here, '../../dist/berthd.mjs'), join(here, '../dist/berthd.mjs')]) {
    if (existsSync(p)) return p;
  }
  throw unavailable('cannot start the berth daemon: dist/berthd.mjs not found (run `npm run build`)');
}

/**
 * Spawns berthd for `socketPath` with the default data root and waits until `_ping` answers (polling every
 * 20 ms up to `timeoutMs`). Fails with the tail of berthd.log when the daemon exits or never answers.
 */
export async function startDaemon(client: EngineClient, socketPath: string, env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<void> {
  const dataRoot = defaultDataRoot(env);
  mkdirSync(dataRoot, { recursive: true });
  mkdirSync(dirname(socketPath), { recursive: true });
  const logPath = join(dataRoot, 'berthd.log');
  const { spawn } = await import('node:child_process');
  const fd = openSync(logPath, 'a');
  let exited: number | null | undefined;
  try {
    // a 2 MiB young generation keeps berthd's idle RSS ~15 MiB lower (issue 6: < 80 MiB with 50 containers)
    const child = spawn(process.execPath, ['--max-semi-space-size=2', '--optimize-for-size', daemonEntry(), '--data-root', dataRoot, '-H', `unix://${socketPath}`,
      '--pidfile', join(dirname(socketPath), 'berthd.pid')], {
      detached: true, stdio: ['ignore', fd, fd], env: { MALLOC_ARENA_MAX: '1', ...env }, // memory flags as bin/berthd.js's
    });
    child.on('exit', (code) => { exited = code; });
    child.on('error', () => { exited = -1; });
    child.unref();
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.ping(AbortSignal.timeout(1000));
      return;
    } catch { /* not yet */ }
    if (exited !== undefined || Date.now() > deadline) {
      let tail = '';
      try { tail = readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n'); } catch { /* no log */ }
      throw unavailable(`the berth daemon ${exited !== undefined ? `exited (status ${exited})` : 'did not answer in time'}; see ${logPath}:\n${tail}`, { code: 'DAEMON_START_FAILED' });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
