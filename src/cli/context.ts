// The CliContext a command runs with: the process streams, the global flags, and the daemon client, made
// on first use. On the default socket a daemon that does not answer is started (autostart.ts).
import { once } from 'node:events';
import { EngineClient } from '../api/index.ts';
import { resolveHost } from '../layout/index.ts';
import { invalidArgument } from '../errors/index.ts';
import type { CliContext } from './spec.ts';
import type { Invocation } from './program.ts';
import { VERSION } from './version.ts';

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; write(s: string | Uint8Array): boolean };
  stderr: NodeJS.WritableStream & { write(s: string): boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export class Context implements CliContext {
  private clientP?: Promise<EngineClient>;
  private made?: EngineClient;
  readonly debug: boolean;
  readonly hostFlag?: string;
  readonly commandPath: string;

  constructor(inv: Invocation, private readonly io: Streams, readonly env: NodeJS.ProcessEnv) {
    this.debug = inv.global.debug;
    this.hostFlag = inv.global.host;
    this.commandPath = inv.commandPath;
  }

  get stdout() { return this.io.stdout as CliContext['stdout']; }
  get stderr() { return this.io.stderr as CliContext['stderr']; }
  get stdin() { return this.io.stdin as CliContext['stdin']; }

  client(): Promise<EngineClient> {
    this.clientP ??= this.connect();
    return this.clientP;
  }

  private async connect(): Promise<EngineClient> {
    const given = this.hostFlag ?? this.env.BERTH_HOST;
    if (given && !given.startsWith('unix://') && !given.startsWith('/')) {
      throw invalidArgument(`unsupported host ${JSON.stringify(given)}: berth speaks to its daemon over a unix socket (unix:///path)`);
    }
    const socket = resolveHost(this.hostFlag, this.env);
    // On the default socket a daemon that does not answer is started — found by the command's first request,
    // not by a _ping before it (one round trip less on every command).
    const c: EngineClient = new EngineClient({
      socketPath: socket, userAgent: `berth-cli/${VERSION}`,
      onUnreachable: given ? undefined : async () => {
        const { startDaemon } = await import('./autostart.ts');
        await startDaemon(c, socket, this.env);
      },
    });
    this.made = c;
    return c;
  }

  async out(text: string): Promise<void> {
    if (!text) return;
    if (!this.io.stdout.write(text)) await once(this.io.stdout, 'drain');
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  /** docker's PromptForConfirmation: "MESSAGE [y/N] " on stdout, yes only for y/Y. */
  async confirm(message: string): Promise<boolean> {
    await this.out(`${message} [y/N] `);
    // loaded here, not at start-up: only prompts need it
    const { createInterface } = await import('node:readline');
    const rl = createInterface({ input: this.io.stdin, terminal: false });
    try {
      const line = await new Promise<string | null>((resolve) => {
        rl.once('line', resolve);
        rl.once('close', () => resolve(null));
      });
      return line !== null && /^\s*y\s*$/i.test(line);
    } finally {
      rl.close();
    }
  }

  close(): void {
    this.made?.close();
  }
}
