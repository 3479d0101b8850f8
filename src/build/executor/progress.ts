// Step events for `berth build --progress=plain|tty`: the build as BuildKit's vertices (a numbered step with a
// name, its output, status lines, CACHED / DONE / ERROR), sent in the /build stream as
// `{"id":"berth.progress","aux":{…}}` when the client asks (query `berthprogress=1`). The CLI renders them
// (src/cli/build-progress.ts); the docker CLI never asks and keeps the classic `Step 1/5 : …` stream.
import type { Stage } from '../dockerfile/instructions.ts';
import { messageOf } from '../../errors/index.ts';
import { parseNormalizedNamed, withDefaultTag, toString as refString } from '../../reference/index.ts';

/** `busybox` → `docker.io/library/busybox:latest`, as BuildKit names a FROM step (the text as is if unparsable). */
export function fullName(ref: string): string {
  try { return refString(withDefaultTag(parseNormalizedNamed(ref))); } catch { return ref; }
}

/** An error as BuildKit words it: a RUN that exited non-zero (its ExitError), else the error's message. */
export function progressMessage(e: unknown): string {
  const d = (e as { detail?: { exitCode?: unknown; argv?: string[] } }).detail;
  return typeof d?.exitCode === 'number' && d.argv ? `process "${d.argv.join(' ')}" did not complete successfully: exit code: ${d.exitCode}` : messageOf(e);
}

/** One event. `v` is the vertex number (#N), `t` the daemon's clock (ms). */
export interface ProgressAux {
  v: number;
  t: number;
  /** The vertex started, with this name ("[2/3] COPY . /app", "[internal] load build context"). */
  name?: string;
  /** Output of the step (a chunk; the renderer splits it into lines). */
  log?: string;
  /** A status line ("transferring context: 2.05kB done", "writing image sha256:… done"). */
  status?: string;
  cached?: true;
  done?: true;
  /** The step failed: BuildKit's wording; with the Dockerfile lines of the instruction. */
  error?: string;
  line?: number;
  endLine?: number;
}

export interface ProgressEvent { id: 'berth.progress'; aux: ProgressAux }

export class Progress {
  private n = 0;

  /** Without `send` every vertex is inert (the classic stream is on). */
  constructor(private readonly send?: (e: ProgressEvent) => void) {}

  get enabled(): boolean {
    return this.send !== undefined;
  }

  /** A new vertex (numbered in order of creation); started now or at `t`. */
  vertex(name: string, t = Date.now()): Vertex {
    if (!this.send) return INERT;
    const v = new Vertex(++this.n, this.send);
    v.emit({ name }, t);
    return v;
  }
}

export class Vertex {
  private ended = false;

  constructor(readonly v: number, private readonly send?: (e: ProgressEvent) => void) {}

  /** @internal */
  emit(a: Omit<ProgressAux, 'v' | 't'>, t = Date.now()): void {
    if (this.ended || !this.send) return;
    this.send({ id: 'berth.progress', aux: { v: this.v, t, ...a } });
  }

  log(text: string): void { if (text) this.emit({ log: text }); }
  status(text: string, t?: number): void { this.emit({ status: text }, t); }
  cached(): void { this.emit({ cached: true }); this.ended = true; }
  done(t?: number): void { this.emit({ done: true }, t); this.ended = true; }
  error(message: string, at?: { line?: number; endLine?: number }): void {
    this.emit({ error: message, ...(at?.line ? { line: at.line, endLine: at.endLine ?? at.line } : {}) });
    this.ended = true;
  }
}

const INERT = new Vertex(0);

/**
 * BuildKit's step prefixes (dockerfile2llb prefixCommand): `[name i/n] `, the stage's name shown only in a
 * Dockerfile of several stages (`stage-N` when it has none); n counts FROM (of an image) and the ADD, COPY,
 * RUN and WORKDIR steps — the only ones that get a vertex. `fromImage`: the base image's full name, if any.
 */
export function stepLabels(stage: Stage, stages: number, fromImage?: string): { from?: string; commands: (string | undefined)[] } {
  const counted = (k: string): boolean => k === 'ADD' || k === 'COPY' || k === 'RUN' || k === 'WORKDIR';
  const total = (fromImage ? 1 : 0) + stage.commands.filter((c) => counted(c.kind)).length;
  const name = stages > 1 ? `${stage.name || `stage-${stage.index}`} ` : '';
  const width = 1 + Math.floor(Math.log10(Math.max(total, 1)));
  let i = 0;
  const next = (text: string): string => `[${name}${String(++i).padStart(width)}/${total}] ${text}`;
  const from = fromImage ? next(`FROM ${fromImage}`) : undefined;
  return { from, commands: stage.commands.map((c) => (counted(c.kind) ? next(c.original.trim()) : undefined)) };
}

/** go-units HumanSize (decimal, four significant digits), as BuildKit's "transferring context: 54.29MB". */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}
