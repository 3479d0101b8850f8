// `berth build --progress=plain|tty`: berthd's step events (`{"id":"berth.progress","aux":…}`, see
// src/build/executor/progress.ts) printed as BuildKit's plain progress does, on stderr:
//
//   #5 [2/3] COPY . /app
//   #5 DONE 0.8s
//
//   #6 [3/3] RUN make
//   #6 0.245 cc -o app main.c
//   #6 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2
//
// and on failure the step's last output lines, the Dockerfile lines of the instruction, and
// `ERROR: failed to solve: …`. A vertex's lines are grouped; a blank line separates groups.
import { readFileSync } from 'node:fs';

interface Aux { v: number; t: number; name?: string; log?: string; status?: string; cached?: true; done?: true; error?: string; line?: number; endLine?: number }

interface VertexState { name: string; start: number; partial: string; tail: string[]; line?: number; endLine?: number; error?: string }

/** Lines of a failed step kept for the summary (BuildKit shows the last few). */
const TAIL = 10;

export class PlainProgress {
  private readonly vertices = new Map<number, VertexState>();
  private last = 0;
  private failed?: VertexState;

  /** `dockerfile`: the local Dockerfile's path, for the excerpt of a failed step (unreadable: no excerpt). */
  constructor(private readonly write: (text: string) => void, private readonly dockerfile?: string) {}

  /** Takes one message of the /build stream; returns true when it was a step event. */
  handle(m: { id?: string; aux?: unknown }): boolean {
    if (m.id !== 'berth.progress' || !m.aux) return false;
    const a = m.aux as Aux;
    if (a.name !== undefined) {
      this.vertices.set(a.v, { name: a.name, start: a.t, partial: '', tail: [] });
      this.print(a.v, a.name);
      return true;
    }
    const s = this.vertices.get(a.v);
    if (!s) return true;
    if (a.log !== undefined) {
      const text = s.partial + a.log;
      const lines = text.split(/\r?\n/);
      s.partial = lines.pop()!;
      for (const l of lines) this.logLine(a.v, s, l, a.t);
    } else if (a.status !== undefined) {
      this.print(a.v, a.status);
    } else if (a.cached) {
      this.flush(a.v, s, a.t);
      this.print(a.v, 'CACHED');
    } else if (a.done) {
      this.flush(a.v, s, a.t);
      this.print(a.v, `DONE ${((a.t - s.start) / 1000).toFixed(1)}s`);
    } else if (a.error !== undefined) {
      this.flush(a.v, s, a.t);
      this.print(a.v, `ERROR: ${a.error}`);
      s.error = a.error;
      if (a.line) { s.line = a.line; s.endLine = a.endLine ?? a.line; }
      this.failed ??= s;
    }
    return true;
  }

  /** The end of a failed build: the failed step's summary and BuildKit's last line. */
  fail(message: string, write: (text: string) => void = this.write): void {
    const s = this.failed;
    if (this.last && write === this.write) write('\n');
    if (s) {
      write(`------\n > ${s.name}:\n${s.tail.map((l) => `${l}\n`).join('')}------\n`);
      const excerpt = s.line ? this.excerpt(s.line, s.endLine ?? s.line) : '';
      if (excerpt) write(excerpt);
    }
    write(`ERROR: failed to solve: ${message}\n`);
  }

  private logLine(v: number, s: VertexState, line: string, t: number): void {
    const at = ((t - s.start) / 1000).toFixed(3);
    this.print(v, `${at} ${line}`);
    s.tail.push(`${at} ${line}`);
    if (s.tail.length > TAIL) s.tail.shift();
  }

  private flush(v: number, s: VertexState, t: number): void {
    if (s.partial) { this.logLine(v, s, s.partial, t); s.partial = ''; }
  }

  private print(v: number, text: string): void {
    if (this.last && this.last !== v) this.write('\n');
    this.last = v;
    this.write(`#${v} ${text}\n`);
  }

  /** BuildKit's source excerpt: `Dockerfile:N`, then the lines around the instruction, its own marked `>>>`. */
  private excerpt(line: number, endLine: number): string {
    let text: string;
    try { text = readFileSync(this.dockerfile ?? '', 'utf8'); } catch { return ''; }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const from = Math.max(1, line - 2);
    const to = Math.min(lines.length, endLine + 1);
    if (line > lines.length) return '';
    const name = (this.dockerfile ?? 'Dockerfile').split('/').pop();
    let out = `${name}:${line}\n--------------------\n`;
    for (let i = from; i <= to; i++) out += `${String(i).padStart(4)} | ${i >= line && i <= endLine ? '>>> ' : '    '}${lines[i - 1]}\n`;
    return `${out}--------------------\n`;
  }
}

/**
 * `--progress=tty` on a terminal (and `auto` there): BuildKit's live view, redrawn in place —
 *
 *   [+] Building 2.3s (5/7)
 *    => [internal] load build context                       0.0s
 *    => CACHED [2/3] COPY . /app                            0.0s
 *    => [3/3] RUN make                                      1.2s
 *    => => # cc -o app main.c
 *
 * (a running step shows its last output lines). At the end the final frame stays, then a failure's summary.
 */
export class TtyProgress {
  private readonly plain: PlainProgress;
  private readonly order: number[] = [];
  private readonly steps = new Map<number, { name: string; start: number; end?: number; cached?: boolean; error?: boolean; lines: string[]; partial: string }>();
  private drawn = 0;
  private readonly began = Date.now();
  private timer?: NodeJS.Timeout;

  constructor(private readonly write: (text: string) => void, private readonly width: number, dockerfile?: string) {
    // the failure summary is the plain renderer's; its step lines are not printed here
    this.plain = new PlainProgress(() => {}, dockerfile);
  }

  handle(m: { id?: string; aux?: unknown }): boolean {
    if (!this.plain.handle(m)) return false;
    const a = m.aux as Aux;
    if (a.name !== undefined) {
      this.order.push(a.v);
      this.steps.set(a.v, { name: a.name, start: a.t, lines: [], partial: '' });
    }
    const s = this.steps.get(a.v);
    if (!s) return true;
    if (a.log !== undefined) {
      const parts = (s.partial + a.log).split(/\r?\n/);
      s.partial = parts.pop()!;
      s.lines.push(...parts);
      if (s.lines.length > 6) s.lines.splice(0, s.lines.length - 6);
    }
    if (a.cached) { s.cached = true; s.end = a.t; }
    if (a.done) s.end = a.t;
    if (a.error !== undefined) { s.error = true; s.end = a.t; }
    if (!this.timer) { this.timer = setInterval(() => this.draw(), 100); this.timer.unref(); }
    return true;
  }

  /** The last frame (and the summary of a failure). */
  end(failure?: string): void {
    if (this.timer) clearInterval(this.timer);
    this.draw(true);
    if (failure !== undefined) {
      this.plain.fail(failure, this.write);
    }
  }

  private draw(final = false): void {
    const now = Date.now();
    const done = [...this.steps.values()].filter((s) => s.end !== undefined).length;
    const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
    const lines = [`[+] Building ${secs(now - this.began)} (${done}/${this.steps.size})${final ? ' FINISHED' : ''}`];
    for (const v of this.order) {
      const s = this.steps.get(v)!;
      const label = ` => ${s.error ? 'ERROR ' : s.cached ? 'CACHED ' : ''}${s.name}`;
      const time = secs((s.end ?? now) - s.start);
      const room = Math.max(10, this.width - time.length - 1);
      lines.push(`${label.length > room ? label.slice(0, room - 1) + '…' : label.padEnd(room)} ${time}`);
      if (s.end === undefined) for (const l of [...s.lines, ...(s.partial ? [s.partial] : [])].slice(-6)) lines.push(` => => # ${l}`.slice(0, this.width));
    }
    const up = this.drawn ? `\x1b[${this.drawn}A` : '';
    this.write(up + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    this.drawn = lines.length;
  }
}
