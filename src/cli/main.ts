// The `berth` entry (bundled to dist/berth.cjs, run by bin/berth.js with a V8 code cache). Keep the top level light:
// start-up time is part of every command (`berth version` ≤ 120 ms end to end).
import { main } from './cli.ts';

// A broken pipe (`berth images | head -1`) ends output quietly, as Go programs do on EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); });

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
