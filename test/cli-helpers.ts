// Helpers for the berth CLI's end-to-end tests: run the bundled CLI (bin/berth.js → dist/berth.cjs, rebuilt
// when src/ is newer), and normalise outputs that legitimately differ between two runs a moment apart.
import { existsSync, statSync, readdirSync, renameSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { haveDockerd, startDockerd, type Dockerd } from '../bench/anchors.ts';
import { run, busyboxRootfsTar, DOCKER, REPO, type RunResult, type RunOptions } from './helpers/index.ts';

export const BERTH_BIN = join(REPO, 'bin', 'berth.js');
const BUNDLE = join(REPO, 'dist', 'berth.cjs');

function newest(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n = Math.max(n, newest(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) n = Math.max(n, statSync(p).mtimeMs);
  }
  return n;
}

let built: Promise<void> | undefined;
/**
 * Rebuilds dist/berth.cjs when it is missing or older than src/, with scripts/build.mjs's own options (the CLI
 * bundle's format matters to bin/berth.js), to a temp file + rename: parallel-safe.
 */
export function ensureBerth(): Promise<void> {
  built ??= (async () => {
    if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= newest(join(REPO, 'src'))) return;
    const tmp = `${BUNDLE}.${process.pid}.tmp`;
    const r = await run(process.execPath, [join(REPO, 'scripts', 'build.mjs'), 'cli', tmp], { env: process.env });
    if (r.code !== 0) throw new Error(`building the CLI bundle failed:\n${r.stderr}`);
    renameSync(tmp, BUNDLE);
  })();
  return built;
}

/** Runs `berth ARGS` with the given environment (BERTH_HOST normally set); never throws on exit codes. */
export async function berth(args: string[], opts: RunOptions): Promise<RunResult> {
  await ensureBerth();
  return run(process.execPath, [BERTH_BIN, ...args], opts);
}

/**
 * Makes two outputs taken a moment apart comparable: relative ages ("3 seconds ago", "Up 2 seconds") are masked and runs of
 * spaces (column widths follow the ages) collapse to two.
 */
export function norm(s: string): string {
  return s
    .replace(/(Less than a second|About a minute|About an hour|\d+ (?:seconds?|minutes|hours|days|weeks|months|years)) ago/g, 'AGO')
    .replace(/\bUp (Less than a second|About a minute|About an hour|\d+ (?:seconds?|minutes|hours|days|weeks|months|years))/g, 'Up DURATION')
    .replace(/ {2,}/g, '  ')
    .replace(/ +\n/g, '\n');
}

/** docker's texts name `docker`; berth's name `berth`. */
export function asBerth(s: string): string {
  return s.replace(/\bdocker\b/g, 'berth');
}

/** A dockerd for the files that run the berth CLI against Debian's dockerd 20.10 (the anchor). */
export interface CliDockerd {
  /** Unset when this machine cannot run dockerd (the tests then skip). */
  d?: Dockerd;
  /** A temp dir for the file's fixtures. */
  dir: string;
  /** Points berth (BERTH_HOST) and the docker CLI (DOCKER_HOST) at it. */
  env: NodeJS.ProcessEnv;
}

/** Starts dockerd with `bb:base` imported (a busybox rootfs with `applets`); stop it with stopCliDockerd. */
export async function cliDockerd(prefix: string, applets: string[]): Promise<CliDockerd> {
  if (!(await haveDockerd())) return { dir: '', env: {} };
  const d = await startDockerd();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { ...d.env, BERTH_HOST: d.host };
  const r = await run(DOCKER, ['import', await busyboxRootfsTar(dir, { applets }), 'bb:base'], { env });
  assert.equal(r.code, 0, r.stderr);
  return { d, dir, env };
}

export async function stopCliDockerd(s: Partial<CliDockerd>): Promise<void> {
  await s.d?.stop();
  if (s.dir) rmSync(s.dir, { recursive: true, force: true });
}
