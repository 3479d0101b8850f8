// `berth image inspect` and `berth inspect` (docker/cli cli/command/inspect/inspector.go,
// cli/command/system/inspect.go): the daemon's JSON, indented by 4 like json.Indent, compact with
// `--format json`, or a Go template per object. Errors are collected: what was found is still printed.
import type { EngineClient } from '../../api/index.ts';
import { isKind } from '../../errors/index.ts';
import { compile, run, TemplateError, FUNCS, GoNil, GO_MAP } from '../format/index.ts';
import { defineCommand, type CliContext } from '../spec.ts';
import { StatusError, describeError } from '../errors.ts';
import { readAllText, platformOf } from '../util.ts';
import { INSPECT_FORMAT_HELP } from './flags.ts';

type Getter = (client: EngineClient, ref: string) => Promise<string>;

// docker runs inspect templates over its Go types first. The JSON loses two things those types know: which
// null is a nil map or slice (printed "map[]" / "[]"), and which objects are maps (a missing key is
// <no value>) rather than structs (docker's raw fallback says `map has no entry for key`). Names from the
// Engine API's image and container inspect types.
const NIL_MAPS = new Set(['Labels', 'ExposedPorts', 'Volumes', 'Data', 'Options', 'Attributes', 'Annotations', 'DriverOpts',
  'Ports', 'Networks', 'PortBindings', 'Sysctls', 'StorageOpt', 'Tmpfs']);
const NIL_SLICES = new Set(['Env', 'Cmd', 'Entrypoint', 'OnBuild', 'Shell', 'RepoTags', 'RepoDigests', 'Layers', 'Mounts', 'Binds',
  'Links', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'CapAdd', 'CapDrop', 'SecurityOpt', 'Devices', 'Ulimits', 'Args',
  'Aliases', 'Test', 'VolumesFrom', 'GroupAdd', 'MaskedPaths', 'ReadonlyPaths']);

/** container.Config's fields with their Go zero values: what a daemon may leave out of the JSON. */
const CONFIG_ZERO: Record<string, unknown> = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Image: '', WorkingDir: '', StopSignal: '',
  ExposedPorts: null, Env: null, Cmd: null, Volumes: null, Entrypoint: null, OnBuild: null, Labels: null, Shell: null, Healthcheck: null,
};

const CONFIG_ORDER = ['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty',
  'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint',
  'NetworkDisabled', 'MacAddress', 'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell'];
const goOrder = (k: string) => { const i = CONFIG_ORDER.indexOf(k); return i < 0 ? CONFIG_ORDER.length : i; };

/** An image's Config is docker 28's DockerOCIImageConfig: these fields, all omitempty, in this order. */
const OCI_ORDER = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped',
  'Healthcheck', 'OnBuild', 'Shell'];
const goEmpty = (x: unknown): boolean => x === '' || x === false || x === 0 || x === null || x instanceof GoNil
  || (Array.isArray(x) && x.length === 0) || (typeof x === 'object' && x !== null && Object.keys(x).length === 0);

/**
 * Decoded inspect JSON with Go's typed knowledge attached (see above). Only the top-level object is strict
 * about missing keys (docker's `{{.Nope}}` error); nested objects give <no value>, as the typed path mostly does.
 */
export function typedView(v: unknown, key = '', top = true, image = false): unknown {
  if (v === null) return NIL_MAPS.has(key) ? new GoNil('map') : NIL_SLICES.has(key) ? new GoNil('slice') : null;
  if (Array.isArray(v)) return v.map((x) => typedView(x, '', false));
  if (typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const isGoMap = NIL_MAPS.has(key);
  // an image's document (it has RootFS) types its Config as docker 28's OCI config, a container's as container.Config
  const isImage = top && 'RootFS' in o;
  for (const k of Object.keys(o)) o[k] = isGoMap ? o[k] : typedView(o[k], k, false, isImage);
  if (key === 'Config' && image) {
    // {{json .Config}} shows only the OCI fields that are set, in the struct's order; the rest stays readable
    const entries = Object.entries(o);
    for (const k of Object.keys(o)) delete o[k];
    const shown = entries.filter(([k, x]) => OCI_ORDER.includes(k) && !goEmpty(x)).sort(([a], [b]) => OCI_ORDER.indexOf(a) - OCI_ORDER.indexOf(b));
    for (const [k, x] of shown) o[k] = x;
    for (const [k, x] of entries) if (!(k in o)) Object.defineProperty(o, k, { value: x, enumerable: false });
    for (const [k, z] of Object.entries(CONFIG_ZERO)) {
      if (!(k in o)) Object.defineProperty(o, k, { value: typedView(z, k, false), enumerable: false });
    }
  } else if (key === 'Config' || key === 'ContainerConfig') {
    // Go marshals a struct in field order: {{json .Config}} follows container.Config, not the wire's order
    const entries = Object.entries(o);
    for (const k of Object.keys(o)) delete o[k];
    entries.sort(([a], [b]) => goOrder(a) - goOrder(b));
    for (const [k, x] of entries) o[k] = x;
    // visible to templates, not to {{json .Config}} (docker's types omit empty fields there)
    for (const [k, z] of Object.entries(CONFIG_ZERO)) {
      if (!(k in o)) Object.defineProperty(o, k, { value: typedView(z, k, false), enumerable: false });
    }
  }
  if (!top) Object.defineProperty(o, GO_MAP, { value: true, enumerable: false });
  return o;
}

/**
 * docker's typed inspect types name the field `ID` (JSON "Id"), so a template reading `.Id` fails on them
 * and docker runs it again on the raw JSON decoded into Go maps: every object is a map, and {{json}} of a
 * map sorts its keys (`{{.Id}} {{json .RootFS}}` prints {"Layers":…,"Type":…}; checked with the docker 28
 * CLI against dockerd in test/parity-images.test.ts).
 */
export function rawView(v: unknown, top = true): unknown {
  if (Array.isArray(v)) return v.map((x) => rawView(x, false));
  if (v === null || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) o[k] = rawView((v as Record<string, unknown>)[k], false);
  if (!top) Object.defineProperty(o, GO_MAP, { value: true, enumerable: false });
  return o;
}

/** GET a JSON document and return its raw text (key order as the daemon wrote it). */
export async function getRaw(client: EngineClient, path: string, query?: Record<string, string | boolean | undefined>): Promise<string> {
  return readAllText(await client.raw('GET', path, { query }));
}

/**
 * Runs docker's Inspect over `refs`: prints what was found (JSON array or template lines), then fails with
 * every error joined by newlines (exit 1); a template that does not parse fails with exit 64.
 */
export async function inspectAll(ctx: CliContext, refs: string[], format: string, get: Getter): Promise<void> {
  let tmpl: ReturnType<typeof compile> | undefined;
  const raw = /\.Id\b/.test(format);
  if (format && format !== 'json') {
    try { tmpl = compile(format, FUNCS, { missingKey: 'error' }); } catch (e) { throw new StatusError((e as Error).message, 64); }
  }
  const client = await ctx.client();
  const errors: string[] = [];
  const found: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await get(client, ref));
    } catch (e) {
      errors.push(describeError(e).text);
    }
  }
  if (!tmpl) {
    if (found.length === 0) await ctx.out('[]\n');
    else {
      const arr = found.map((t) => JSON.parse(t) as unknown);
      await ctx.out((format === 'json' ? JSON.stringify(arr) : JSON.stringify(arr, null, 4)) + '\n');
    }
  } else {
    let out = '';
    for (const t of found) {
      try {
        out += run(tmpl, raw ? rawView(JSON.parse(t)) : typedView(JSON.parse(t))) + '\n';
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        errors.push(e.message);
      }
    }
    await ctx.out(out || '\n');
  }
  if (errors.length > 0) throw new StatusError(errors.join('\n'), 1);
}

const imageGetter: Getter = (client, ref) => getRaw(client, `/images/${encodeURIComponent(ref)}/json`);

export const imageInspect = defineCommand({
  path: ['image', 'inspect'],
  use: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', valueName: 'string', help: INSPECT_FORMAT_HELP },
    { name: 'platform', type: 'string', valueName: 'string', help: 'Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n\'os[/arch[/variant]]\': Explicit platform (eg. linux/amd64)' },
  ],
  async run(ctx, opts, args) {
    const platform = opts.str('platform');
    const get: Getter = platform
      ? (client, ref) => getRaw(client, `/images/${encodeURIComponent(ref)}/json`, { platform: JSON.stringify(platformOf(platform)) })
      : imageGetter;
    await inspectAll(ctx, args, opts.str('format'), get);
  },
});

const TYPES = ['container', 'image'] as const;

export const inspect = defineCommand({
  path: ['inspect'],
  use: '[OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on Docker objects',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', valueName: 'string', help: INSPECT_FORMAT_HELP },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', valueName: 'string', help: 'Only inspect objects of the given type' },
  ],
  async run(ctx, opts, args) {
    const type = opts.str('type');
    if (type && !(TYPES as readonly string[]).includes(type)) {
      throw new StatusError(`"${type}" is not a valid value for --type`, 1);
    }
    const size = opts.bool('size');
    const get: Getter = async (client, ref) => {
      if (type === 'image') return imageGetter(client, ref);
      if (type === 'container') return getRaw(client, `/containers/${encodeURIComponent(ref)}/json`, { size: size || undefined });
      for (const t of TYPES) {
        try {
          return t === 'image' ? await imageGetter(client, ref)
            : await getRaw(client, `/containers/${encodeURIComponent(ref)}/json`, { size: size || undefined });
        } catch (e) {
          if (!isKind(e, 'NotFound') && !isKind(e, 'InvalidArgument')) throw e;
        }
      }
      throw new StatusError(`Error: No such object: ${ref}`, 1);
    };
    await inspectAll(ctx, args, opts.str('format'), get);
  },
});

export const containerInspect = defineCommand({
  path: ['container', 'inspect'],
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', valueName: 'string', help: INSPECT_FORMAT_HELP },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
  async run(ctx, opts, args) {
    const size = opts.bool('size');
    await inspectAll(ctx, args, opts.str('format'),
      (client, ref) => getRaw(client, `/containers/${encodeURIComponent(ref)}/json`, { size: size || undefined }));
  },
});
