// Step timings of the container lifecycle, for berthd's debug log (issue 6's latency work: where does a
// `run --rm` spend its time?). Costs nothing when no sink is given; one line per operation when there is one:
//   create 3f2a1b…: dirs 0.4, mount 1.1, spec 0.9, conmon 41.2 (total 44.0 ms)
import { performance } from 'node:perf_hooks';

export type TimingSink = (line: string) => void;

export interface Steps {
  /** Ends the current step under `name`. */
  mark(name: string): void;
  /** Writes the line (once). */
  done(): void;
}

const NOOP: Steps = { mark() {}, done() {} };

export function steps(sink: TimingSink | undefined, op: string, id: string): Steps {
  if (!sink) return NOOP;
  const t0 = performance.now();
  let last = t0;
  const parts: string[] = [];
  let ended = false;
  return {
    mark(name) {
      const now = performance.now();
      parts.push(`${name} ${(now - last).toFixed(1)}`);
      last = now;
    },
    done() {
      if (ended) return;
      ended = true;
      sink(`${op} ${id.slice(0, 12)}: ${parts.join(', ')} (total ${(performance.now() - t0).toFixed(1)} ms)`);
    },
  };
}
