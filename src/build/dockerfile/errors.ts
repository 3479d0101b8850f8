// Dockerfile errors carry their line range and the wording of dockerd's classic builder (20.10, the one
// test/build-parity compares with): "dockerfile parse error line N: <what>" (BuildKit says "on line N").
// The kind is InvalidArgument (the daemon answers 400 and nothing is built); code DOCKERFILE_PARSE lets callers
// tell a bad Dockerfile from other bad input without reading the message.
import { invalidArgument, type BerthError } from '../../errors/index.ts';

export interface DockerfileErrorDetail { line: number; endLine: number; reason: string }

export function parseError(reason: string, line: number, endLine = line): BerthError {
  return invalidArgument(`dockerfile parse error line ${line}: ${reason}`, {
    code: 'DOCKERFILE_PARSE', detail: { line, endLine, reason } satisfies DockerfileErrorDetail,
  });
}

/** Levenshtein distance, for docker's "(did you mean x?)" hints. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * Appends " (did you mean X?)" when one of `options` is fewer than three edits from `value`, as BuildKit's
 * suggest.WrapError: the closest wins, an exact match means no hint, case follows `value` when insensitive.
 */
export function withSuggestion(message: string, value: string, options: Iterable<string>, caseSensitive: boolean): string {
  const v = caseSensitive ? value : value.toLowerCase();
  let best = '';
  let score = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return message;
    const dist = distance(v, opt);
    if (dist < score) { score = dist; best = caseSensitive ? opt : matchCase(opt, value); }
  }
  return best ? `${message} (did you mean ${best}?)` : message;
}

function matchCase(val: string, orig: string): string {
  if (orig === orig.toLowerCase()) return val.toLowerCase();
  if (orig === orig.toUpperCase()) return val.toUpperCase();
  return val;
}
