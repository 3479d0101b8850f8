// `berth build` / `berth image build` (docker/cli cli/command/image/build.go, the classic builder protocol the
// docker CLI uses without BuildKit): the context as a tar stream to POST /build, the daemon's JSON messages
// printed as they come; -q prints only the image ID; --iidfile writes it.
import { writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { defineCommand } from '../spec.ts';
import { StatusError } from '../errors.ts';
import { displayJSONMessages, StreamError } from '../progress.ts';

/** KEY=VALUE flags → a map; a bare KEY takes its value from the environment (docker's build-arg rule). */
function keyValues(list: string[], env: NodeJS.ProcessEnv, fromEnv: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i >= 0) out[kv.slice(0, i)] = kv.slice(i + 1);
    else if (fromEnv) { if (env[kv] !== undefined) out[kv] = env[kv]!; else out[kv] = null; } else out[kv] = '';
  }
  return out;
}

/**
 * --secret id=NAME,src=PATH (buildx's form; `source=` and `type=file` accepted): id → absolute path. The file
 * must exist now; berthd bind-mounts it read-only for RUN --mount=type=secret and never stores it.
 */
function parseSecrets(specs: string[], cwd: string): Record<string, string> | undefined {
  if (!specs.length) return undefined;
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const f: Record<string, string> = {};
    for (const part of spec.split(',')) {
      const i = part.indexOf('=');
      if (i < 0) throw new StatusError(`could not parse secrets: [${spec}]: invalid field '${part}' must be a key=value pair`, 1);
      f[part.slice(0, i).toLowerCase()] = part.slice(i + 1);
    }
    if (f.type && f.type !== 'file') throw new StatusError(`could not parse secrets: [${spec}]: secret type ${f.type} is not supported (only type=file)`, 1);
    const src = f.src ?? f.source;
    const id = f.id ?? (src ? basename(src) : '');
    if (!id || !src) throw new StatusError(`could not parse secrets: [${spec}]: id and src are required`, 1);
    const abs = resolve(cwd, src);
    try { statSync(abs); } catch (e) {
      throw new StatusError(`could not parse secrets: [${spec}]: failed to stat ${abs}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, 1);
    }
    out[id] = abs;
  }
  return out;
}

async function readStdin(stdin: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stdin) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts);
}

export const build = defineCommand({
  path: ['image', 'build'],
  aliases: [['build']],
  use: '[OPTIONS] PATH | URL | -',
  short: 'Build an image from a Dockerfile',
  args: { exact: 1 },
  flags: [
    { name: 'add-host', type: 'list', valueName: 'list', help: 'Add a custom host-to-IP mapping ("host:ip")' },
    { name: 'build-arg', type: 'list', valueName: 'list', help: 'Set build-time variables' },
    { name: 'cache-from', type: 'list', valueName: 'strings', help: 'Images to consider as cache sources' },
    { name: 'file', short: 'f', type: 'string', valueName: 'string', help: "Name of the Dockerfile (Default is 'PATH/Dockerfile')" },
    { name: 'force-rm', type: 'bool', help: 'Always remove intermediate containers' },
    { name: 'iidfile', type: 'string', valueName: 'string', help: 'Write the image ID to the file' },
    { name: 'label', type: 'list', valueName: 'list', help: 'Set metadata for an image' },
    { name: 'network', type: 'string', valueName: 'string', default: 'default', help: 'Set the networking mode for the RUN instructions during build' },
    { name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
    { name: 'no-cache-filter', type: 'list', valueName: 'stringArray', help: 'Do not cache specified stages' },
    { name: 'output', short: 'o', type: 'list', valueName: 'stringArray', help: 'Output destination (format: "type=local,dest=path")' },
    { name: 'platform', type: 'string', valueName: 'string', help: 'Set platform if server is multi-platform capable' },
    { name: 'progress', type: 'string', valueName: 'string', help: 'Set type of progress output ("auto", "plain", "tty", "quiet"); without it, the classic builder\'s output' },
    { name: 'pull', type: 'bool', help: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the build output and print image ID on success' },
    { name: 'rm', type: 'bool', default: true, help: 'Remove intermediate containers after a successful build' },
    { name: 'secret', type: 'list', valueName: 'stringArray', help: 'Secret to expose to the build (format: "id=mysecret,src=/local/secret")' },
    { name: 'tag', short: 't', type: 'list', valueName: 'list', help: 'Name and optionally a tag in the "name:tag" format' },
    { name: 'target', type: 'string', valueName: 'string', help: 'Set the target build stage to build.' },
  ],
  async run(ctx, opts, args) {
    const source = args[0]!;
    const mode = opts.str('progress');
    if (mode && !['auto', 'plain', 'tty', 'quiet'].includes(mode)) throw new StatusError(`ERROR: invalid progress mode "${mode}" (auto, plain, tty, quiet)`, 1);
    // BuildKit-style step lines on stderr; `tty` and `auto` print them the same way (no live redraw here)
    const stepEvents = !!mode && mode !== 'quiet' && !opts.bool('quiet');
    const noCacheFilter = opts.list('no-cache-filter').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    const outputs = opts.list('output').map(parseOutput);
    if (outputs.length > 1) throw new StatusError('ERROR: multiple outputs currently unsupported', 1);
    const isURL = /^(https?:\/\/|git@|github\.com\/)/.test(source) || /\.git(#|$)/.test(source);
    let body: NodeJS.ReadableStream | undefined;
    let dockerfile = opts.str('file');
    let session: string | undefined;
    if (source === '-' || !isURL) {
      const { prepareContext } = await import('../buildcontext.ts');
      if (source === '-') {
        if (dockerfile) throw new StatusError('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles', 1);
        // stdin holds a Dockerfile (no context) — a tar on stdin is sent as it is
        const data = await readStdin(ctx.stdin as AsyncIterable<Buffer>);
        const isTar = data.length >= 262 && data.subarray(257, 262).toString() === 'ustar';
        if (isTar) {
          const { Readable } = await import('node:stream');
          body = Readable.from([data]);
        } else {
          const { mkdtemp, rm } = await import('node:fs/promises');
          const { tmpdir } = await import('node:os');
          const { join } = await import('node:path');
          const empty = await mkdtemp(join(tmpdir(), 'berth-build-'));
          const c = await prepareContext(empty, { content: data });
          const tar = c.tar; // (a getter: each read starts a new stream)
          tar.once('close', () => { rm(empty, { recursive: true, force: true }).catch(() => {}); });
          body = tar;
          dockerfile = c.dockerfile;
        }
      } else {
        const c = await prepareContext(source, dockerfile || undefined);
        dockerfile = c.dockerfile;
        // berthd keeps the last context of this directory: send only what changed (not with --no-cache, which
        // should trust nothing kept; not against a daemon without the endpoint, e.g. dockerd)
        const client = await ctx.client();
        const { resolve: abs } = await import('node:path');
        const { hostname } = await import('node:os');
        const synced = opts.bool('no-cache') || ctx.env.BERTH_BUILD_CONTEXT_SYNC === '0' ? undefined
          : await client.json<{ session: string; want: number[] }>('POST', '/build/context', {
            query: { key: `${hostname()}\0${process.getuid?.() ?? ''}\0${abs(source)}`, dockerfile }, body: c.manifest,
          }).catch(() => undefined);
        body = synced ? c.partial(synced.want) : c.tar;
        if (synced) session = synced.session;
      }
    }
    const labels = keyValues(opts.list('label'), ctx.env, false);
    const query = {
      // --output exports the result instead of loading it: nothing is tagged
      t: opts.list('tag').length && !outputs.length ? opts.list('tag') : undefined,
      remote: isURL ? source : undefined,
      dockerfile: dockerfile || undefined,
      q: opts.bool('quiet') || undefined,
      nocache: opts.bool('no-cache') || undefined,
      rm: opts.bool('rm'),
      forcerm: opts.bool('force-rm') || undefined,
      pull: opts.bool('pull') || undefined,
      target: opts.str('target') || undefined,
      networkmode: opts.str('network'),
      platform: opts.str('platform').toLowerCase() || undefined,
      buildargs: opts.list('build-arg').length ? keyValues(opts.list('build-arg'), ctx.env, true) : undefined,
      labels: Object.keys(labels).length ? labels : undefined,
      cachefrom: opts.list('cache-from').length ? JSON.stringify(opts.list('cache-from')) : undefined,
      extrahosts: opts.list('add-host').length ? opts.list('add-host') : undefined,
      secrets: parseSecrets(opts.list('secret'), process.cwd()),
      contextsession: session,
      nocachefilter: noCacheFilter.length ? JSON.stringify(noCacheFilter) : undefined,
      berthprogress: stepEvents || undefined,
      berthexport: outputs.length ? true : undefined,
      version: '1',
    };
    const client = await ctx.client();
    const quiet = opts.bool('quiet') || mode === 'quiet';
    query.q = quiet || undefined;
    // docker's legacy path reports the context it sent (stdout, before the daemon's stream): "Sending build
    // context to Docker daemon  2.048kB" — the wording kept, as scripts match it
    const counted = body && !quiet && !stepEvents ? countBytes(body as AsyncIterable<Uint8Array>, (n) => ctx.out(`Sending build context to Docker daemon  ${humanSize(n)}\r\r\n`)) : body;
    const res = counted
      ? await client.upload('POST', '/build', counted as AsyncIterable<Uint8Array>, { query })
      : await client.request('POST', '/build', { query });
    let imageID = '';
    // -q: the daemon says nothing but the ID; keep the output for an error report, as docker does
    const sink = quiet || stepEvents ? ({ stdout: ctx.stdout, out: async () => {} } as unknown as typeof ctx) : ctx;
    const plain = stepEvents ? await stepRenderer(ctx, mode, localDockerfile(source, dockerfile, opts.str('file'))) : undefined;
    try {
      await displayJSONMessages(sink, res, {
        onMessage(m) {
          if (plain?.handle(m as { id?: string; aux?: unknown })) return;
          if (plain && m.stream) ctx.err(m.stream);
          const aux = m.aux as { ID?: string } | undefined;
          if (aux?.ID) imageID = aux.ID;
          else if (quiet && m.stream && /^sha256:[0-9a-f]{64}\s*$/.test(m.stream)) imageID = m.stream.trim();
        },
      });
    } catch (e) {
      // buildx: the failed step's summary, "ERROR: failed to solve: …", exit status 1
      if (e instanceof StreamError && plain) { plain.finish(e.message); throw new StatusError('', 1); }
      // docker: a failed step exits with its code and prints the bare message
      if (e instanceof StreamError) throw new StatusError(e.message, e.code || 1);
      throw e;
    }
    plain?.finish();
    if (outputs.length) {
      await exportImage(client, imageID, outputs[0]!, ctx.stdout);
      return;
    }
    if (quiet) await ctx.out(`${imageID}\n`);
    if (opts.str('iidfile')) await writeFile(opts.str('iidfile'), imageID);
  },
});

/**
 * The step lines' renderer: BuildKit's live view on a terminal (`tty`, and `auto` there), its plain lines
 * otherwise (docker buildx's rule for auto: a console on stderr or not).
 */
async function stepRenderer(
  ctx: { stderr: NodeJS.WritableStream; err(t: string): void }, mode: string, dockerfile: string | undefined,
): Promise<{ handle(m: { id?: string; aux?: unknown }): boolean; finish(failure?: string): void }> {
  const { PlainProgress, TtyProgress } = await import('../build-progress.ts');
  const term = ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  if ((mode === 'tty' || mode === 'auto') && term.isTTY) {
    const t = new TtyProgress((s) => ctx.err(s), term.columns || 80, dockerfile);
    return { handle: (m) => t.handle(m), finish: (f) => t.end(f) };
  }
  const p = new PlainProgress((s) => ctx.err(s), dockerfile);
  return { handle: (m) => p.handle(m), finish: (f) => { if (f !== undefined) p.fail(f); } };
}

/** The Dockerfile on this machine, for the excerpt of a failed step (none for stdin or a URL context). */
function localDockerfile(source: string, sent: string | undefined, flag: string): string | undefined {
  if (source === '-' || /^(https?:\/\/|git@)/.test(source)) return flag && flag !== '-' ? resolve(flag) : undefined;
  if (flag) return resolve(flag);
  return resolve(source, sent || 'Dockerfile');
}

interface Output { type: 'local' | 'tar' | 'oci'; dest: string }

/** docker buildx's -o syntax: `type=local,dest=DIR`, `type=tar[,dest=F|-]`, `type=oci,dest=F`, or a bare DIR / `-`. */
export function parseOutput(v: string): Output {
  if (!v.includes('=')) return v === '-' ? { type: 'tar', dest: '-' } : { type: 'local', dest: v };
  const kv = new Map(v.split(',').map((f) => { const i = f.indexOf('='); return [f.slice(0, i).trim(), f.slice(i + 1).trim()] as [string, string]; }));
  const type = kv.get('type') ?? 'local';
  if (type !== 'local' && type !== 'tar' && type !== 'oci') {
    throw new StatusError(`ERROR: output type ${type} is not supported by berth build (local, tar, oci)`, 1);
  }
  const dest = kv.get('dest') ?? (type === 'local' ? '' : '-');
  if (!dest) throw new StatusError('ERROR: dest is required for local exporter', 1);
  return { type, dest };
}

/**
 * --output: the built image's filesystem (local: extracted into dest; tar: one tar) or the image as an OCI
 * layout tar (oci), then the image is removed again (it was never tagged). The filesystem comes from berthd's
 * `GET /build/rootfs` (layers merged), the OCI layout from `images/get` (docker 25+'s combined archive is a
 * valid OCI layout).
 */
async function exportImage(
  client: Awaited<ReturnType<Parameters<typeof build.run>[0]['client']>>, id: string, out: Output, stdout: NodeJS.WritableStream,
): Promise<void> {
  const { createWriteStream } = await import('node:fs');
  const { mkdir } = await import('node:fs/promises');
  const { pipeline } = await import('node:stream/promises');
  const { spawn } = await import('node:child_process');
  const sink = async (body: NodeJS.ReadableStream): Promise<void> => {
    if (out.type === 'local') {
      await mkdir(out.dest, { recursive: true });
      const tar = spawn('tar', ['-x', '-C', out.dest, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      tar.stderr.on('data', (d) => { err += d; });
      const done = new Promise<number | null>((r) => tar.on('close', r));
      await pipeline(body, tar.stdin);
      if ((await done) !== 0) throw new StatusError(`ERROR: failed to write the output to ${out.dest}: ${err.trim()}`, 1);
    } else if (out.dest === '-') {
      await pipeline(body, stdout, { end: false });
    } else {
      await pipeline(body, createWriteStream(out.dest));
    }
  };
  try {
    if (out.type === 'oci') {
      await sink(await client.raw('GET', '/images/get', { query: { names: [id] } }));
      return;
    }
    await sink(await client.raw('GET', '/build/rootfs', { query: { image: id } }));
  } finally {
    await client.request('DELETE', `/images/${id}`).then((r) => r.resume(), () => {});
  }
}

async function* countBytes(src: AsyncIterable<Uint8Array>, done: (n: number) => Promise<void>): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of src) { n += chunk.length; yield chunk; }
  await done(n);
}

/** go-units HumanSize: decimal units, four significant digits ("2.048kB", "54.29MB", "512B"). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}
