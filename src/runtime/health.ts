// Healthchecks (docker's daemon/health.go): the probe runs inside the running container with `<runtime> exec`
// (a child of berthd, not under conmon: a probe is short and its output is all we keep), and the result moves
// the container's Health through starting → healthy / unhealthy by docker's rules. The scheduling (interval,
// stop with the container, resume after a berthd restart) is the daemon's; this file has the probe and the rules.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile, rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runtime } from './containers.ts';

/** swagger HealthConfig (durations in nanoseconds; 0 = inherit/default). */
export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** swagger HealthcheckResult. */
export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }

/** swagger Health (inspect State.Health). */
export interface Health { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: HealthResult[] }

/** docker's defaults (api/types/container: DefaultHealthInterval etc.). */
export const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, startInterval: 5_000, retries: 3 } as const;
/** docker keeps the last five results and at most 4 KiB of a probe's output. */
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/**
 * The effective healthcheck: the container's fields over the image's (docker merges field by field; a Test
 * of ["NONE"] on either side, or none at all, means no healthcheck → undefined).
 */
export function mergeHealth(container: HealthConfig | null | undefined, image: HealthConfig | null | undefined): Required<HealthConfig> | undefined {
  const c = container ?? {};
  const i = image ?? {};
  const test = c.Test?.length ? c.Test : i.Test;
  if (!test?.length || test[0] === 'NONE') return undefined;
  return {
    Test: test, Interval: c.Interval || i.Interval || 0, Timeout: c.Timeout || i.Timeout || 0,
    StartPeriod: c.StartPeriod || i.StartPeriod || 0, StartInterval: c.StartInterval || i.StartInterval || 0,
    Retries: c.Retries || i.Retries || 0,
  };
}

/** The command a Test runs: ["CMD", args…] as is, ["CMD-SHELL", cmd] through /bin/sh -c (docker's shell). */
export function probeArgs(test: string[]): string[] {
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return test;
}

/** Milliseconds until the next probe: StartInterval during the start period (docker 25+), else Interval. */
export function probeDelay(cfg: Required<HealthConfig>, startedAtMs: number, now = Date.now()): number {
  const inStart = cfg.StartPeriod > 0 && now - startedAtMs < cfg.StartPeriod / 1e6;
  if (inStart && cfg.StartInterval) return cfg.StartInterval / 1e6;
  return cfg.Interval ? cfg.Interval / 1e6 : HEALTH_DEFAULTS.interval;
}

/**
 * docker's handleProbeResult: success → healthy and the streak reset; a failure inside the start period
 * while still starting is not counted; otherwise the streak grows and reaching Retries makes it unhealthy.
 * Returns the new Health (the input is not changed).
 */
export function applyResult(h: Health, r: HealthResult, cfg: Required<HealthConfig>, startedAtMs: number): Health {
  const log = [...h.Log, r].slice(-MAX_LOG);
  if (r.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const inStart = cfg.StartPeriod > 0 && Date.parse(r.Start) - startedAtMs < cfg.StartPeriod / 1e6;
  if (inStart && h.Status === 'starting') return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  const retries = cfg.Retries || HEALTH_DEFAULTS.retries;
  return { Status: streak >= retries ? 'unhealthy' : h.Status, FailingStreak: streak, Log: log };
}

/**
 * Runs one probe in the running container `id` as its own process spec with Test's args (env, user, cwd as the
 * container's). Exit code -1 and docker's message when it outlives `timeoutMs` (the probe is killed).
 */
export async function runProbe(rt: Runtime, id: string, runtime: 'crun' | 'runc', test: string[], timeoutMs: number): Promise<HealthResult> {
  const start = new Date();
  const spec = await rt.spec(id) as { process: Record<string, unknown> };
  const dir = await mkdtemp(join(rt.dir(id), 'probe-'));
  try {
    const proc = { ...spec.process, args: probeArgs(test), terminal: false };
    delete (proc as { consoleSize?: unknown }).consoleSize;
    await writeFile(join(dir, 'process.json'), JSON.stringify(proc));
    const pidFile = join(dir, 'pid');
    const child = spawn(rt.runtimePath(runtime), [`--root=${rt.runtimeRoot(runtime)}`, 'exec', '--process', join(dir, 'process.json'), '--pid-file', pidFile, id],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer) => { if (out.length < MAX_OUTPUT) out = (out + d.toString()).slice(0, MAX_OUTPUT); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // the probe's own process inside the container, then the runtime's exec
      void readFile(pidFile, 'utf8').then((p) => { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }, () => {});
      child.kill('SIGKILL');
    }, timeoutMs);
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(-1));
      child.on('close', (c) => resolve(c ?? -1));
    });
    clearTimeout(timer);
    if (timedOut) return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: `Health check exceeded timeout (${goDuration(timeoutMs)})` };
    return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: code, Output: out };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Go's time.Duration.String for whole milliseconds ("30s", "1m0s", "500ms"). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
