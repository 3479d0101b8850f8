// Starting berthd when nothing answers on the default socket (DESIGN.md: "started by the CLI when none
// answers"). Only for the default host: with -H or BERTH_HOST the user chose a daemon, and a missing one is
// an error, as in docker. The daemon runs detached with its output in <data-root>/berthd.log.
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataRoot } from '../layout/index.ts';
import { unavailable } from '../errors/index.ts';
import type { EngineClient } from '../api/index.ts';

/**
 * bin/berthd.js, run as an executable: its shebang carries berthd's node flags and environment (memory, see
 * there), so every way of starting berthd starts it the same. From the bundle (dist/berth.cjs) or the sources.
 */
export function daemonEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, '../bin/berthd.js'), join(here, '../../bin/berthd.js')]) {
    if (existsSync(p) && existsSync(join(dirname(p), '../dist/berthd.mjs'))) return p;
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
    const child = spawn(daemonEntry(), ['--data-root', dataRoot, '-H', `unix://${socketPath}`, '--pidfile', join(dirname(socketPath), 'berthd.pid')], {
      detached: true, stdio: ['ignore', fd, fd], env,
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
