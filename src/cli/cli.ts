// The CLI's driver: parses argv like docker's CLI, runs one command, answers docker's exit code.
import { parseArgv, PROG } from './program.ts';
import { COMMANDS, GROUPS } from './commands/index.ts';
import { Context, type Streams } from './context.ts';
import { describeError, UsageError } from './errors.ts';
import { VERSION, GIT_COMMIT } from './version.ts';

/** Runs the CLI on `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[], io: Streams = process, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let ctx: Context | undefined;
  try {
    const parsed = await parseArgv(argv, COMMANDS, GROUPS);
    if (parsed.kind === 'version') {
      io.stdout.write(`${PROG} version ${VERSION}, build ${GIT_COMMIT}\n`);
      return 0;
    }
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text);
      return 0;
    }
    const { inv } = parsed;
    ctx = new Context(inv, io, env);
    const code = await inv.spec.run(ctx, inv.opts, inv.args);
    return code ?? 0;
  } catch (e) {
    const { text, code } = describeError(e);
    if (text) io.stderr.write(text.endsWith('\n') ? text : text + '\n');
    // -D/--debug (or BERTH_DEBUG_STACK=1) adds where it failed, for bug reports
    if ((ctx?.debug || env.BERTH_DEBUG_STACK) && e instanceof Error && !(e instanceof UsageError)) io.stderr.write(`${e.stack}\n`);
    return code;
  } finally {
    ctx?.close();
  }
}
