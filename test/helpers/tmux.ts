// A real terminal for tests: a tmux pane (a private tmux server per test file, so parallel files never share
// one) running a command; type into it and read the screen. The command's exit status is printed as
// "[exit N]" by a wrapping shell (tmux's #{pane_dead_status} is sometimes never filled in here) and the pane
// stays after the command ends, so it can be read.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const haveTmux = ['/usr/bin/tmux', '/bin/tmux'].some(existsSync);
const SERVER = `berth-test-${process.pid}`;
const tmux = (args: string[]): string => execFileSync('tmux', ['-L', SERVER, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

export class Terminal {
  /** Starts `argv` (with `env` added) on a `cols`×`rows` pane. */
  constructor(readonly name: string, argv: string[], opts: { env?: Record<string, string | undefined>; cols?: number; rows?: number } = {}) {
    const env = Object.entries(opts.env ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    tmux(['new-session', '-d', '-s', name, '-x', String(opts.cols ?? 100), '-y', String(opts.rows ?? 30),
      'sh', '-c', '"$@"; echo "[exit $?]"', 'sh', 'env', ...env, ...argv]);
    tmux(['set-option', '-t', name, 'remain-on-exit', 'on']);
  }

  screen(): string {
    return tmux(['capture-pane', '-p', '-t', this.name]);
  }

  /** Types: text and key names (Enter, C-p, …), as tmux send-keys takes them. */
  keys(...keys: string[]): void {
    tmux(['send-keys', '-t', this.name, ...keys]);
  }

  /** Polls the screen (every 50 ms, up to `ms`) until `test` gives a value: a match of a RegExp, or any truthy value. */
  async until<T>(test: RegExp | ((screen: string) => T | undefined | false), ms = 10_000): Promise<T | RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const s = this.screen();
      const v = test instanceof RegExp ? test.exec(s) : test(s);
      if (v) return v;
      if (Date.now() > end) throw new Error(`the screen never showed ${test instanceof RegExp ? test : 'what was awaited'}:\n${s}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The command's exit status, once it has ended. */
  async exitStatus(): Promise<number> {
    return Number((await this.until(/^\[exit (\d+)\]$/m) as RegExpExecArray)[1]);
  }

  alive(): boolean {
    try { tmux(['has-session', '-t', this.name]); return true; } catch { return false; }
  }

  kill(): void {
    try { tmux(['kill-session', '-t', this.name]); } catch { /* ended */ }
  }

  /** Stops this file's tmux server (in `after`). */
  static stopServer(): void {
    try { tmux(['kill-server']); } catch { /* never started */ }
  }
}
