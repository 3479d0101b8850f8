#!/usr/bin/env -S node --max-semi-space-size=2
// The `berthd` entry: runs the ESM bundle dist/berthd.mjs (CommonJS here, as everything in bin/: see berth.js).
import('../dist/berthd.mjs');
