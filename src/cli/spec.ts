// How a command is declared. Every verb is one file under commands/ exporting a CommandSpec, registered in
// commands/index.ts; program.ts turns the list into commander commands that parse like docker's (cobra/pflag):
// docker's flags, docker's argument-count rules and usage errors, docker's help layout.
import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from '../api/index.ts';

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  /** Long name without dashes: `all` for --all. */
  name: string;
  /** One-letter shorthand without the dash. */
  short?: string;
  type: FlagType;
  /** Default value (bool: false, string: '', list: [], int: 0 unless given). */
  default?: string | number | boolean | string[];
  /** Help text, as docker's. */
  help: string;
  /** The value's name in help ("string", "filter", "list"), as pflag prints it. */
  valueName?: string;
  hidden?: boolean;
}

/** Argument-count rule (docker/cli cli/required.go): exactly, at least, at most, or none. */
export type ArgsRule = { exact: number } | { min: number; max?: number } | { max: number } | 'none' | 'any';

export interface CommandSpec {
  /** Canonical words, e.g. ['image', 'ls'] or ['images']. */
  path: string[];
  /**
   * Other names: a one-word alias within the same parent ('list' for `image ls`) or a full other path
   * (['images'] as a top-level shortcut for ['image', 'ls'] — shown as its own usage, as docker does).
   */
  aliases?: Array<string | string[]>;
  /** Usage after the command path: "[OPTIONS] IMAGE [IMAGE...]". */
  use: string;
  short: string;
  args: ArgsRule;
  flags?: FlagSpec[];
  /** false: flags after the first argument belong to it (`run IMAGE CMD -x`), as cobra's SetInterspersed(false). */
  interspersed?: boolean;
  /** Every argument, flags and --help included, goes to run() untouched (a command with its own parser). */
  rawArgs?: boolean;
  /** Hidden from help listings. */
  hidden?: boolean;
  /** Returns the exit code (0 when void). Throw CliError/StatusError for failures. */
  run(ctx: CliContext, opts: Opts, args: string[]): Promise<number | void>;
}

/** Parsed flag values by long name (`opts.all`, `opts.format`, `opts.filter`). */
export type Opts = Record<string, unknown> & {
  bool(name: string): boolean;
  str(name: string): string;
  list(name: string): string[];
  int(name: string): number;
  /** True when the user set the flag explicitly. */
  changed(name: string): boolean;
};

/**
 * A command as commands/index.ts lists it: the words that name it (the same `path` and `aliases` as its spec)
 * and how to load its spec, so that start-up evaluates only the module of the command being run.
 */
export interface CommandEntry {
  path: string[];
  aliases?: Array<string | string[]>;
  load(): Promise<CommandSpec>;
}

export interface GroupSpec {
  name: string;
  short: string;
  hidden?: boolean;
}

/** What a command may use: streams, the daemon client (started on demand), global flags. */
export interface CliContext {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  readonly stdin: Readable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly debug: boolean;
  /** The -H value, if given. */
  readonly hostFlag?: string;
  /** The command path as docker names it in messages ("berth images", "berth image ls" for `image list`). */
  readonly commandPath: string;
  /** The Engine API client; auto-starts berthd on the default socket when none answers. */
  client(): Promise<EngineClient>;
  /** Writes to stdout, respecting backpressure. */
  out(text: string): Promise<void>;
  /** Writes to stderr. */
  err(text: string): void;
  /** Asks a y/N question on the terminal (docker's PromptForConfirmation); false on EOF. */
  confirm(message: string): Promise<boolean>;
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}
