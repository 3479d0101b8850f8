#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=2 --optimize-for-size
// The `berthd` entry: runs the ESM bundle dist/berthd.mjs (CommonJS here, as everything in bin/: see berth.js).
// Memory (issue 6: idle RSS < 80 MB with 50 containers running; measured with 50 `sleep` containers after 20
// `run --rm`): a 2 MiB young generation (V8 grew it to 16 MiB under container churn), --optimize-for-size (V8
// grows the old generation less eagerly: −5 MB) and one malloc arena (glibc gives each thread that allocates —
// libuv's pool, V8's workers — its own arena, ~6 MB resident between them: −6 MB); 80.5 → 72.9 MiB, no
// measurable latency cost on `run --rm`. src/cli/autostart.ts and test/helpers/daemon.ts run this file, so the flags live here only.
import('../dist/berthd.mjs');
