// Builds the `berth` commander program from the CommandSpec list and makes it behave like docker's CLI
// (cobra + pflag): global flags only before the command, flags interspersed with arguments unless a command
// says otherwise, docker's usage errors (exit 1 for argument counts, 125 for flag errors), docker's help.
import { Command, Option, type CommanderError } from 'commander';
import type { CommandEntry, CommandSpec, FlagSpec, GroupSpec, Opts, ArgsRule } from './spec.ts';
import { UsageError } from './errors.ts';

export const PROG = 'berth';

export interface GlobalOpts { host?: string; debug: boolean; version: boolean; logLevel?: string }

export interface Invocation {
  spec: CommandSpec;
  opts: Opts;
  args: string[];
  /** The path docker shows in messages: "berth images" as such, "berth image list" as "berth image ls". */
  commandPath: string;
  /** How the user called it ("berth images"). */
  calledAs: string;
  global: GlobalOpts;
}

export type Parsed = { kind: 'run'; inv: Invocation } | { kind: 'help'; text: string } | { kind: 'version' };

function flagLabel(f: FlagSpec): string {
  const short = f.short ? `-${f.short}, ` : '    ';
  const value = f.type === 'bool' ? '' : ` ${f.valueName ?? (f.type === 'list' ? 'list' : f.type)}`;
  return `  ${short}--${f.name}${value}`;
}

/** pflag's FlagUsages layout: labels padded to the widest, help wrapped to docker's column. */
function flagUsages(flags: FlagSpec[]): string {
  const visible = flags.filter((f) => !f.hidden);
  const width = Math.max(...visible.map((f) => flagLabel(f).length));
  return visible.map((f) => {
    let help = f.help;
    const d = f.default;
    if (d !== undefined && d !== false && d !== '' && !(Array.isArray(d) && d.length === 0) && d !== 0) {
      help += f.type === 'string' ? ` (default "${d}")` : ` (default ${Array.isArray(d) ? `[${d.join(',')}]` : d})`;
    }
    return flagLabel(f).padEnd(width + 3) + wrap(width + 3, 80, help);
  }).join('\n');
}

/** pflag's wrap: help text in the column from `indent` to `cols`, words kept whole, a little slop at the end. */
function wrap(indent: number, cols: number, text: string): string {
  const pad = '\n' + ' '.repeat(indent);
  let room = cols - indent;
  if (room < 24) return text.split('\n').join(pad);
  const slop = 5;
  room -= slop;
  const lines: string[] = [];
  let s = text;
  while (s !== '') {
    if (room + slop > s.length) { lines.push(s); break; }
    const head = s.slice(0, room);
    const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
    if (w <= 0) { lines.push(s); break; }
    const nl = head.lastIndexOf('\n');
    if (nl > 0 && nl < w) { lines.push(s.slice(0, nl)); s = s.slice(nl + 1); continue; }
    lines.push(s.slice(0, w));
    s = s.slice(w + 1);
  }
  return lines.join('\n').split('\n').join(pad);
}

function usageLine(path: string, spec: CommandSpec): string {
  return `Usage:  ${path} ${spec.use}`.trimEnd();
}

function commandHelp(path: string, spec: CommandSpec, aliasPaths: string[]): string {
  let s = `${usageLine(path, spec)}\n\n${spec.short}\n`;
  if (aliasPaths.length > 1) s += `\nAliases:\n  ${aliasPaths.join(', ')}\n`;
  const flags = spec.flags ?? [];
  if (flags.some((f) => !f.hidden)) s += `\nOptions:\n${flagUsages(flags)}\n`;
  return s;
}

function listing(entries: Array<{ name: string; short: string }>): string {
  const w = Math.max(11, ...entries.map((e) => e.name.length + 1));
  return entries.map((e) => `  ${e.name.padEnd(w)}${e.short}`).join('\n');
}

function checkArgs(rule: ArgsRule, n: number, path: string, spec: CommandSpec): void {
  const plural = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  const usage = usageLine(path, spec);
  // docker/cli cli/required.go; the "SRun" of RequiresMaxArgs is docker 28's own text, kept verbatim
  // because scripts and tests compare it.
  if (rule === 'any') return;
  if (rule === 'none') {
    if (n > 0) throw new UsageError(`${PROG}: '${path}' accepts no arguments\n\n${usage}\n\nRun '${path} --help' for more information`);
    return;
  }
  if ('exact' in rule) {
    if (n !== rule.exact) throw new UsageError(`${PROG}: '${path}' requires ${plural(rule.exact)}\n\n${usage}\n\nRun '${path} --help' for more information`);
    return;
  }
  if ('min' in rule && n < rule.min) {
    throw new UsageError(`${PROG}: '${path}' requires at least ${plural(rule.min)}\n\n${usage}\n\nSee '${path} --help' for more information`);
  }
  if (rule.max !== undefined && n > rule.max) {
    throw new UsageError(`${PROG}: '${path}' requires at most ${plural(rule.max)}\n\n${usage}\n\nSRun '${path} --help' for more information`);
  }
}

/** Rewrites `--flag=false` / `-f=true` of boolean flags to `--no-flag` / `--flag` (commander has no =bool). */
function rewriteBools(argv: string[], boolLong: Set<string>, boolShort: Map<string, string>): string[] {
  const out: string[] = [];
  let done = false;
  for (const a of argv) {
    if (done || a === '--') { done = true; out.push(a); continue; }
    const m = /^(--?)([^=]+)=(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.exec(a);
    if (m) {
      const long = m[1] === '--' ? m[2]! : boolShort.get(m[2]!);
      if (long && boolLong.has(long)) {
        out.push(/^(true|1|t)$/i.test(m[3]!) ? `--${long}` : `--no-${long}`);
        continue;
      }
    }
    out.push(a);
  }
  return out;
}

function makeOpts(raw: Record<string, unknown>, flags: FlagSpec[], changed: Set<string>): Opts {
  const o: Record<string, unknown> = {};
  for (const f of flags) {
    const camel = (n: string) => n.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    let v = f.type === 'bool' && f.name.startsWith('no-') ? (raw[camel(f.name.slice(3))] === false ? true : undefined) : raw[camel(f.name)];
    // a valued flag named no-* (--no-cache-filter) is stored by commander under its "negated" name, true when unset
    if (f.type !== 'bool' && f.name.startsWith('no-')) { v = raw[camel(f.name.slice(3))]; if (v === true) v = undefined; }
    if (v === undefined) v = f.default ?? (f.type === 'bool' ? false : f.type === 'list' ? [] : f.type === 'int' ? 0 : '');
    o[f.name] = v;
  }
  return Object.assign(o, {
    bool: (n: string) => o[n] === true,
    str: (n: string) => String(o[n] ?? ''),
    list: (n: string) => (Array.isArray(o[n]) ? (o[n] as string[]) : []),
    int: (n: string) => Number(o[n] ?? 0),
    changed: (n: string) => changed.has(n),
  }) as Opts;
}

/** The words an entry answers to: its path and each alias, as the user types them. */
function pathsOf(c: { path: string[]; aliases?: Array<string | string[]> }): string[][] {
  return [c.path, ...(c.aliases ?? []).map((a) => (typeof a === 'string' ? [...c.path.slice(0, -1), a] : a))];
}

/** True when `p` is what the leading words name (a one-word path matches whatever follows it). */
function named(p: string[], words: string[]): boolean {
  return p[0] === words[0] && (p.length === 1 || p[1] === words[1]);
}

/**
 * Parses argv (without node and script) into the command to run, a help text to print, or a version
 * request. Throws UsageError (exit 1 or 125) with docker's texts. Loads only the commands the leading words
 * name; root and group help load them all (their listings need every command's summary).
 */
export async function parseArgv(argv: string[], entries: CommandEntry[], groups: GroupSpec[]): Promise<Parsed> {
  let result: Parsed | undefined;
  // help that lists commands: which listing, rendered after parsing once every spec is loaded
  let listing: { group?: GroupSpec } | undefined;
  const words = leadingWords(argv);
  const specs = await Promise.all(entries.filter((e) => pathsOf(e).some((p) => named(p, words))).map((e) => e.load()));
  const boolLong = new Set<string>(['debug', 'version', 'help']);
  const boolShort = new Map<string, string>([['D', 'debug'], ['v', 'version']]);
  for (const s of specs) for (const f of s.flags ?? []) if (f.type === 'bool') { boolLong.add(f.name); if (f.short) boolShort.set(f.short, f.name); }

  const quiet = { writeOut: () => {}, writeErr: () => {}, outputError: () => {} };
  const root = new Command(PROG);
  const flagError = (path: string, use: string) => (e: CommanderError): never => {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') throw e;
    const usage = `Usage:  ${path} ${use}`.trimEnd();
    let msg = e.message.replace(/^error: /, '');
    const opt = /'(-[^' ]+)'/.exec(msg)?.[1] ?? '';
    if (e.code === 'commander.unknownOption') {
      msg = opt.startsWith('--') ? `unknown flag: ${opt}` : `unknown shorthand flag: '${opt.slice(1)}' in ${opt}`;
    } else if (e.code === 'commander.optionMissingArgument') {
      const m = /option '(?:-(\w), )?--([\w-]+)/.exec(msg);
      const usedShort = m?.[1] && argv.includes(`-${m[1]}`) && !argv.includes(`--${m[2]}`);
      msg = usedShort ? `flag needs an argument: '${m![1]}' in -${m![1]}` : `flag needs an argument: --${m?.[2] ?? ''}`;
    }
    throw new UsageError(`${msg}\n\n${usage}\n\nRun '${path} --help' for more information`, 125);
  };

  root.exitOverride(flagError(PROG, '[OPTIONS] COMMAND')).configureOutput(quiet).showSuggestionAfterError(false)
    .enablePositionalOptions().helpOption(false).helpCommand(false)
    .option('-H, --host <host>').option('-D, --debug').option('-v, --version').option('-l, --log-level <level>')
    .option('--config <dir>').option('-c, --context <name>').option('-h, --help')
    .argument('[command...]').allowExcessArguments(true)
    .action((cmdArgs: string[]) => {
      const g = root.opts();
      if (g.version) { result = { kind: 'version' }; return; }
      if (cmdArgs.length === 0 || g.help) { result = { kind: 'help', text: '' }; listing = {}; return; }
      throw new UsageError(`${PROG}: unknown command: ${PROG} ${cmdArgs[0]}\n\nRun '${PROG} --help' for more information`);
    });
  const globals = (): GlobalOpts => {
    const g = root.opts();
    return { host: g.host as string | undefined, debug: !!g.debug, version: !!g.version, logLevel: g.logLevel as string | undefined };
  };

  const groupCmds = new Map<string, Command>();
  const groupOf = (name: string): Command => {
    let g = groupCmds.get(name);
    if (g) return g;
    const gs = groups.find((x) => x.name === name) ?? { name, short: '' };
    g = new Command(name);
    const path = `${PROG} ${name}`;
    g.exitOverride(flagError(path, 'COMMAND')).configureOutput(quiet).showSuggestionAfterError(false)
      .enablePositionalOptions().helpOption(false).helpCommand(false).option('-h, --help')
      .argument('[command...]').allowExcessArguments(true)
      .action((a: string[]) => {
        if (a.length === 0) { result = { kind: 'help', text: '' }; listing = { group: gs }; return; }
        throw new UsageError(`${PROG}: unknown command: ${path} ${a[0]}\n\nUsage:  ${path}\n\nRun '${path} --help' for more information`);
      });
    if (gs.hidden) (g as unknown as { _hidden: boolean })._hidden = true;
    root.addCommand(g);
    groupCmds.set(name, g);
    return g;
  };

  // Only the commands the words on the line can name are built: constructing every commander command and
  // option costs more start-up time than the rest of a short command.
  for (const spec of specs) {
    const canonical = `${PROG} ${spec.path.join(' ')}`;
    const paths: Array<{ words: string[]; display: string }> = [{ words: spec.path, display: canonical }];
    for (const a of spec.aliases ?? []) {
      if (typeof a === 'string') paths.push({ words: [...spec.path.slice(0, -1), a], display: canonical });
      else paths.push({ words: a, display: `${PROG} ${a.join(' ')}` });
    }
    const aliasPaths = paths.map((p) => `${PROG} ${p.words.join(' ')}`);
    for (const p of paths) {
      if (p.words[0] !== words[0] || (p.words.length > 1 && p.words[1] !== words[1])) continue;
      const parent = p.words.length > 1 ? groupOf(p.words[0]!) : root;
      const leaf = p.words[p.words.length - 1]!;
      const cmd = new Command(leaf);
      const flags = spec.flags ?? [];
      const changed = new Set<string>();
      cmd.exitOverride(flagError(p.display, spec.use)).configureOutput(quiet).showSuggestionAfterError(false)
        .helpOption(false).helpCommand(false);
      if (spec.rawArgs) cmd.allowUnknownOption().passThroughOptions();
      // `run -h` is --hostname in docker: help keeps only its long form there
      else cmd.option(flags.some((f) => f.short === 'h') ? '--help' : '-h, --help');
      for (const f of flags) {
        const names = `${f.short ? `-${f.short}, ` : ''}--${f.name}`;
        let o: Option;
        if (f.type === 'bool') {
          o = new Option(names);
        } else {
          o = new Option(`${names} <${f.valueName ?? 'value'}>`);
          if (f.type === 'list') o.argParser((v: string, prev: unknown) => [...(Array.isArray(prev) ? prev : []), v]);
          if (f.type === 'int') {
            o.argParser((v: string) => {
              if (!/^[+-]?\d+$/.test(v)) {
                throw new UsageError(`invalid argument "${v}" for "${f.short ? `-${f.short}, ` : ''}--${f.name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax\n\n${usageLine(p.display, spec)}\n\nRun '${p.display} --help' for more information`, 125);
              }
              return Number(v);
            });
          }
        }
        cmd.addOption(o);
        // `--x=false` arrives as `--no-x` (rewriteBools); added after the positive flag so its default stays unset.
        // A flag itself named no-* (--no-trunc) is commander's negation of `trunc`, read back in makeOpts.
        if (f.type === 'bool' && !f.name.startsWith('no-')) cmd.addOption(new Option(`--no-${f.name}`).hideHelp());
        cmd.on(`option:${f.name}`, () => changed.add(f.name));
        cmd.on(`option:no-${f.name}`, () => changed.add(f.name));
      }
      if (spec.interspersed === false) cmd.passThroughOptions();
      cmd.argument('[args...]').allowExcessArguments(true).action((args: string[]) => {
        const raw = cmd.opts();
        if (raw.help) { result = { kind: 'help', text: commandHelp(p.display, spec, aliasPaths) }; return; }
        checkArgs(spec.args, args.length, p.display, spec);
        result = {
          kind: 'run',
          inv: { spec, opts: makeOpts(raw, flags, changed), args, commandPath: p.display, calledAs: `${PROG} ${p.words.join(' ')}`, global: globals() },
        };
      });
      if (spec.hidden) (cmd as unknown as { _hidden: boolean })._hidden = true;
      parent.addCommand(cmd);
    }
  }

  for (const g of groups) if (g.name === words[0]) groupOf(g.name);

  root.parse(rewriteBools(argv, boolLong, boolShort), { from: 'user' });
  if (!result) throw new UsageError(`${PROG}: unknown command\n\nRun '${PROG} --help' for more information`);
  if (result.kind === 'run' && globals().version) return { kind: 'version' };
  if (listing) {
    const all = await Promise.all(entries.map((e) => e.load()));
    return { kind: 'help', text: listing.group ? groupHelp(listing.group, all) : rootHelp(all, groups) };
  }
  return result;
}

/** The first two non-flag words after the global flags: the command (and sub-command) the user named. */
function leadingWords(argv: string[]): string[] {
  const takesValue = new Set(['-H', '--host', '-l', '--log-level', '--config', '-c', '--context']);
  const out: string[] = [];
  for (let i = 0; i < argv.length && out.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') continue;
    if (a.startsWith('-')) {
      // a global flag's value is not a word; a sub-command's flags may come before its argument words
      if (out.length === 0 && takesValue.has(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function rootHelp(specs: CommandSpec[], groups: GroupSpec[]): string {
  const top = specs.filter((s) => !s.hidden && s.path.length === 1).map((s) => ({ name: s.path[0]!, short: s.short }));
  for (const s of specs) for (const a of s.aliases ?? []) {
    if (Array.isArray(a) && a.length === 1 && !s.hidden) top.push({ name: a[0]!, short: s.short });
  }
  top.sort((a, b) => a.name.localeCompare(b.name));
  const mgmt = groups.filter((g) => !g.hidden).map((g) => ({ name: g.name, short: g.short })).sort((a, b) => a.name.localeCompare(b.name));
  return `Usage:  ${PROG} [OPTIONS] COMMAND

A self-sufficient runtime for containers

Management Commands:
${listing(mgmt)}

Commands:
${listing(top)}

Global Options:
  -D, --debug              Enable debug mode
  -H, --host string        Daemon socket to connect to
  -l, --log-level string   Set the logging level ("debug", "info", "warn", "error", "fatal") (default "info")
  -v, --version            Print version information and quit

Run '${PROG} COMMAND --help' for more information on a command.
`;
}

function groupHelp(g: GroupSpec, specs: CommandSpec[]): string {
  const subs = specs.filter((s) => s.path.length === 2 && s.path[0] === g.name && !s.hidden)
    .map((s) => ({ name: s.path[1]!, short: s.short })).sort((a, b) => a.name.localeCompare(b.name));
  return `Usage:  ${PROG} ${g.name} COMMAND

${g.short}

Commands:
${listing(subs)}

Run '${PROG} ${g.name} COMMAND --help' for more information on a command.
`;
}
