// Starts the real bundled berthd (dist/berthd.mjs) on a temp data root and temp socket for end-to-end tests.
// Every daemon started here is killed and its directory removed when the test process exits, even when a
// test fails or forgets stop(); pass the test context to stop it when that test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync, readdirSync, renameSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineClient } from '../../src/api/index.ts';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BERTHD = join(REPO, 'dist', 'berthd.mjs');

export interface StartedDaemon {
  socketPath: string;
  /** `unix://…`, for DOCKER_HOST / BERTH_HOST. */
  host: string;
  dataRoot: string;
  /** The temp dir holding socket, data root, pidfile and config. */
  dir: string;
  pid: number;
  client: EngineClient;
  /** Environment for the docker CLI (DOCKER_HOST set, a private empty DOCKER_CONFIG) and the berth CLI (BERTH_HOST). */
  dockerEnv: NodeJS.ProcessEnv;
  /** berthd's stderr so far (for assertion messages). */
  log(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temp dir unless `keep`. Resolves with the exit code. Safe twice. */
  stop(opts?: { keep?: boolean }): Promise<number | null>;
  /** SIGKILL, for crash tests; keeps the dir so a new daemon can start on the same data root. */
  kill(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra berthd flags. */
  args?: string[];
  /** daemon.json content (default `{}`). */
  config?: Record<string, unknown>;
  /**
   * Reuse a directory (restart on the same data root); default a fresh temp dir. A dir this helper made stays
   * its own: the restarted daemon's stop() removes it (unless `keep`), so a kill-and-restart test leaves none.
   */
  dir?: string;
  /** A node:test context: stop the daemon when that test ends. */
  t?: { after(fn: () => unknown): void };
  timeoutMs?: number;
}

const running = new Set<{ child: ChildProcess; dir: string; keep: boolean }>();
/** Temp dirs startDaemon made (as opposed to dirs a test passed in). */
const made = new Set<string>();
process.once('exit', () => {
  for (const r of running) {
    try { r.child.kill('SIGKILL'); } catch { /* gone */ }
    if (!r.keep) rmSync(r.dir, { recursive: true, force: true });
  }
});

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    if (name.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (name.name.endsWith('.ts') && !name.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

let bundled: Promise<void> | undefined;
/**
 * Makes sure dist/berthd.mjs exists and is newer than src/ (so running one test file after an edit does not
 * test a stale bundle). Builds into a temp file and renames, so parallel test files never see half a bundle.
 */
export function ensureBerthd(): Promise<void> {
  bundled ??= (async () => {
    if (existsSync(BERTHD) && statSync(BERTHD).mtimeMs >= newestSource(join(REPO, 'src'))) return;
    const { build } = await import('esbuild');
    const tmp = `${BERTHD}.${process.pid}.tmp`;
    await build({
      entryPoints: [join(REPO, 'src/daemon/main.ts')], outfile: tmp, bundle: true, platform: 'node', target: 'node20',
      format: 'esm', logLevel: 'warning', external: ['usocket', 'dockerode'],
      banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    });
    renameSync(tmp, BERTHD);
  })();
  return bundled;
}

/** Starts berthd and resolves once `/_ping` answers; rejects with its log when it exits or times out first. */
export async function startDaemon(opts: StartOptions = {}): Promise<StartedDaemon> {
  await ensureBerthd();
  // short base path: unix socket paths are limited to 108 bytes
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'bd-'));
  if (!opts.dir) made.add(dir);
  const ours = made.has(dir);
  const socketPath = join(dir, 'berth.sock');
  const dataRoot = join(dir, 'data');
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify(opts.config ?? {}));
  // bin/berthd.js (runs BERTHD) as an executable, as a user starts it: its shebang has berthd's node flags
  const child = spawn(join(REPO, 'bin', 'berthd.js'), ['--data-root', dataRoot, '-H', `unix://${socketPath}`,
    '--pidfile', join(dir, 'berthd.pid'), '--config-file', join(dir, 'daemon.json'), ...(opts.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...opts.env },
  });
  const entry = { child, dir, keep: !ours };
  running.add(entry);
  let log = '';
  child.stderr!.on('data', (d) => { log = (log + d).slice(-64_000); });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => { exitCode = code; running.delete(entry); r(code); }));

  const client = new EngineClient({ socketPath });
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    if (exitCode !== undefined) throw new Error(`berthd exited (${exitCode}) before answering /_ping:\n${log}`);
    try {
      await client.ping();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`berthd did not answer /_ping within ${opts.timeoutMs ?? 15_000} ms:\n${log}`);
      }
      // wait for the socket to appear or the process to exit, whichever first (bounded poll interval)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20))]);
    }
  }

  const dockerConfig = join(dir, 'docker-config');
  let stopped: Promise<number | null> | undefined;
  const d: StartedDaemon = {
    socketPath, host: `unix://${socketPath}`, dataRoot, dir, pid: child.pid!, client,
    dockerEnv: { ...process.env, DOCKER_HOST: `unix://${socketPath}`, BERTH_HOST: `unix://${socketPath}`, DOCKER_CONFIG: dockerConfig, DOCKER_CLI_HINTS: 'false' },
    log: () => log,
    stop(o = {}) {
      stopped ??= (async () => {
        client.close();
        if (exitCode === undefined) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        if (!o.keep && ours) rmSync(dir, { recursive: true, force: true });
        return exitCode ?? null;
      })();
      return stopped;
    },
    async kill() {
      entry.keep = true;
      client.close();
      if (exitCode === undefined) { child.kill('SIGKILL'); await exited; }
      stopped ??= Promise.resolve(null);
    },
  };
  opts.t?.after(() => d.stop());
  return d;
}
