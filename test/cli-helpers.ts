// Helpers for the berth CLI's end-to-end tests: run the bundled CLI (bin/berth.js → dist/berth.cjs, rebuilt
// when src/ is newer), and normalise outputs that legitimately differ between two runs a moment apart.
import { existsSync, statSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { run, REPO, type RunResult, type RunOptions } from './helpers/index.ts';

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
