// `berth run` and `berth create` (docker/cli cli/command/container/run.go, create.go): create the container
// (pulling a missing image first, "Unable to find image … locally"), then for run: attach (hijacked stream;
// raw with -t, multiplexed without), wait for the next exit, start, relay, and exit with the container's code.
// Daemon errors exit 125 as docker's ("berth: Error response from daemon: …").
import type { EngineClient } from '../../api/index.ts';
import { isKind } from '../../errors/index.ts';
import { parseNormalizedNamed, withDefaultTag, familiar } from '../../reference/index.ts';
import { defineCommand, type CliContext, type Opts } from '../spec.ts';
import { StatusError, UsageError, describeError } from '../errors.ts';
import { displayJSONMessages } from '../progress.ts';
import { RUN_FLAGS, createRequest } from '../runopts.ts';
import { demux, pumpStdin, parseDetachKeys, rawTerminal, watchTerminalSize } from '../stdio.ts';

/** docker's run/create failure: "<prog>: <message>\n\nRun '<path> --help' for more information", exit 125/126/127. */
function runError(e: unknown, verb: 'run' | 'create'): Error {
  if (e instanceof StatusError || e instanceof UsageError) return e;
  const text = describeError(e).text;
  // docker's toStatusError reads the runtime's message: 127 command not found, 126 not executable
  const code = /executable file not found|no such file or directory/.test(text) ? 127
    : /permission denied|is a directory/.test(text) ? 126 : 125;
  // docker's withHelp: always "docker run" / "docker create", whichever path was used
  return new StatusError(`berth: ${text}\n\nRun 'berth ${verb} --help' for more information`, code);
}

/** POST /containers/create, pulling the image once when the daemon does not have it. Returns the ID. */
async function createContainer(ctx: CliContext, client: EngineClient, o: Opts, args: string[], path: string, use: string): Promise<string> {
  const [image, ...cmd] = args as [string, ...string[]];
  const req = createRequest(o, image, cmd, path, use);
  const create = () => client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
    query: { name: req.name, platform: req.platform }, body: req.body,
  });
  let r;
  try {
    r = await create();
  } catch (e) {
    if (!isKind(e, 'NotFound') || !/image/i.test(describeError(e).text)) throw e;
    let ref;
    try { ref = withDefaultTag(parseNormalizedNamed(image)); } catch { throw e; }
    ctx.err(`Unable to find image '${familiar(ref)}' locally\n`);
    const res = await client.request('POST', '/images/create', {
      query: { fromImage: familiar({ domain: ref.domain, path: ref.path }), tag: ref.digest ?? ref.tag, platform: req.platform },
    });
    // pull progress goes to stderr, as docker's run shows it
    const errCtx = { stdout: Object.assign(ctx.stderr, { isTTY: false }), out: async (s: string) => { ctx.err(s); } } as unknown as CliContext;
    await displayJSONMessages(errCtx, res);
    r = await create();
  }
  for (const w of r.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
  return r.Id;
}

export const create = defineCommand({
  path: ['container', 'create'],
  aliases: [['create']],
  use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  args: { min: 1 },
  interspersed: false,
  flags: RUN_FLAGS.filter((f) => !['detach', 'rm', 'detach-keys'].includes(f.name)),
  async run(ctx, o, args) {
    const client = await ctx.client();
    try {
      await ctx.out(`${await createContainer(ctx, client, o, args, ctx.commandPath, this.use)}\n`);
    } catch (e) {
      throw runError(e, 'create');
    }
  },
});

export const run = defineCommand({
  path: ['container', 'run'],
  aliases: [['run']],
  use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  args: { min: 1 },
  interspersed: false,
  flags: RUN_FLAGS,
  async run(ctx, o, args) {
    const client = await ctx.client();
    const detach = o.bool('detach');
    const tty = o.bool('tty');
    const interactive = o.bool('interactive');
    let id: string;
    try {
      id = await createContainer(ctx, client, o, args, ctx.commandPath, this.use);
    } catch (e) {
      throw runError(e, 'run');
    }
    const cid = encodeURIComponent(id);
    if (detach) {
      try {
        await client.request('POST', `/containers/${cid}/start`).then((r) => r.resume());
      } catch (e) {
        throw runError(e, 'run');
      }
      await ctx.out(`${id}\n`);
      return 0;
    }
    // attach and register the wait (both sent at once), then start: no output and no exit is missed. As docker's
    // CLI, start goes out only once the wait's headers came back (the daemon sends them when the wait is set up):
    // a container that ends and is removed (--rm) before its wait is registered would be a 404.
    const waitRes = client.request('POST', `/containers/${cid}/wait`, {
      query: { condition: o.bool('rm') ? 'removed' : 'next-exit' },
    });
    waitRes.catch(() => {});
    const att = await client.hijack('POST', `/containers/${cid}/attach`, {
      query: { stream: true, stdin: interactive || undefined, stdout: true, stderr: true },
    });
    const waited = waitRes.then(async (res) => {
      let text = '';
      for await (const c of res) text += c;
      return (text.trim() ? JSON.parse(text) : undefined) as { StatusCode: number; Error?: { Message?: string } | null } | undefined;
    });
    waited.catch(() => {});
    await waitRes.catch(() => {});
    try {
      await client.request('POST', `/containers/${cid}/start`).then((r) => r.resume());
    } catch (e) {
      att.socket.destroy();
      throw runError(e, 'run');
    }
    const restore = tty && interactive ? rawTerminal(ctx.stdin as never) : () => {};
    const stopResize = tty ? watchTerminalSize(ctx.stdout as never, (h, w) => {
      client.request('POST', `/containers/${cid}/resize`, { query: { h, w } }).then((r) => r.resume(), () => {});
    }) : () => {};
    try {
      let detached = false;
      if (interactive) {
        const keys = parseDetachKeys(o.str('detach-keys') || undefined);
        pumpStdin(ctx.stdin as AsyncIterable<Buffer>, att.socket, tty ? keys : null)
          .then((r) => { if (r === 'detached') { detached = true; att.socket.destroy(); } }, () => {});
      } else {
        att.socket.end();
      }
      const output = tty
        ? (async () => { if (att.head.length) ctx.stdout.write(att.head); for await (const c of att.socket) ctx.stdout.write(c as Buffer); })()
        : demux(att.socket as AsyncIterable<Buffer>, ctx.stdout, ctx.stderr, att.head);
      await output.catch(() => {});
      if (detached) return 0;
      const r = await waited;
      if (r?.Error?.Message) throw new StatusError(`berth: ${r.Error.Message}`, 125);
      return r?.StatusCode ?? 0;
    } finally {
      stopResize();
      restore();
      // stop reading the terminal: an open stdin would keep the process alive after the container is gone
      if (interactive) (ctx.stdin as { destroy?(): void }).destroy?.();
    }
  },
});
