// Parser nodes → typed instructions and stages, with the checks and messages of BuildKit's
// instructions/parse.go (which the classic builder shares): argument counts, flags, forms, stage names.
// Every error names the instruction's first line: "dockerfile parse error on line N: ...".
import { parseFlags, type FlagType, type ParsedFlags } from './flags.ts';
import { parseMount } from './mount.ts';
import { parseGoDuration } from './duration.ts';
import { parseError } from './errors.ts';
import { parse, parseHeredoc, chompHeredocContent, nodeFromLine, type Node } from './parser.ts';
import {
  type ArgInstruction, type Dockerfile, type HealthConfig, type Instruction,
  type KeyValue, type SourceContent, type Stage,
} from './instructions.ts';

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const atLeastOne = (c: string): Error => new Error(`${c} requires at least one argument`);
const exactlyOne = (c: string): Error => new Error(`${c} requires exactly one argument`);
const noDest = (c: string): Error =>
  new Error(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);

/** Parses Dockerfile text into stages; throws InvalidArgument (code DOCKERFILE_PARSE) with the line. */
export function parseDockerfile(source: string | Uint8Array): Dockerfile {
  const result = parse(source);
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of result.nodes) {
    const inst = toInstruction(node);
    if (inst.kind === 'FROM') {
      stages.push({ index: stages.length, name: inst.name, from: inst, commands: [] });
    } else if (stages.length === 0) {
      if (inst.kind !== 'ARG') throw parseError('no build stage in current context', node.line, node.endLine);
      metaArgs.push(inst);
    } else {
      stages[stages.length - 1]!.commands.push(inst);
    }
  }
  return { metaArgs, stages, escapeToken: result.escapeToken, directives: result.directives, warnings: result.warnings };
}

/** One node → instruction; errors carry the node's line. */
export function toInstruction(node: Node): Instruction {
  try {
    return convert(node);
  } catch (e) {
    if ((e as { code?: string }).code === 'DOCKERFILE_PARSE') throw e;
    throw parseError((e as Error).message, node.line, node.endLine);
  }
}

/** Parses an ONBUILD trigger expression read from a base image (one instruction, no heredoc bodies). */
export function parseTrigger(expression: string, escapeToken = '\\'): Instruction {
  const node = nodeFromLine(expression, escapeToken);
  return toInstruction(node);
}

function flags(node: Node, spec: Record<string, FlagType>): ParsedFlags {
  return parseFlags(node.flags, spec);
}

function convert(node: Node): Instruction {
  const base = { line: node.line, endLine: node.endLine, original: node.original };
  const args = node.args;
  switch (node.keyword) {
    case 'from': {
      const name = stageName(args);
      const f = flags(node, { platform: 'string' });
      return { ...base, kind: 'FROM', image: args[0]!, name, platform: f.string('platform') || undefined };
    }
    case 'run': {
      const f = flags(node, { mount: 'strings', network: 'string', security: 'string' });
      const mounts = f.strings('mount');
      // Without variables the value is final: check it all now, so a bad mount fails before anything runs.
      for (const m of mounts) parseMount(m, m.includes('$') ? undefined : (w) => w);
      const network = f.string('network');
      if (network !== undefined && !['default', 'none', 'host'].includes(network)) {
        throw new Error(`unsupported network mode ${JSON.stringify(network)}`);
      }
      const security = f.string('security');
      if (security !== undefined && !['sandbox', 'insecure'].includes(security)) {
        throw new Error(`unsupported security mode ${JSON.stringify(security)}`);
      }
      return {
        ...base, kind: 'RUN', ...commandLine(node, false), mounts,
        network: network as 'default' | 'none' | 'host' | undefined, security: security as 'sandbox' | 'insecure' | undefined,
      };
    }
    case 'cmd':
      flags(node, {});
      return { ...base, kind: 'CMD', ...commandLine(node, false) };
    case 'entrypoint':
      flags(node, {});
      return { ...base, kind: 'ENTRYPOINT', ...commandLine(node, true) };
    case 'env':
      flags(node, {});
      if (args.length === 0) throw atLeastOne('ENV');
      if (args.length % 2 !== 0) throw new Error('Bad input to ENV, too many arguments');
      return { ...base, kind: 'ENV', env: pairs(args, 'ENV') };
    case 'label':
      flags(node, {});
      if (args.length === 0) throw atLeastOne('LABEL');
      if (args.length % 2 !== 0) throw new Error('Bad input to LABEL, too many arguments');
      return { ...base, kind: 'LABEL', labels: pairs(args, 'LABEL') };
    case 'maintainer':
      flags(node, {});
      if (args.length !== 1) throw exactlyOne('MAINTAINER');
      return { ...base, kind: 'MAINTAINER', maintainer: args[0]! };
    case 'expose':
      if (args.length === 0) throw atLeastOne('EXPOSE');
      flags(node, {});
      return { ...base, kind: 'EXPOSE', ports: [...args] };
    case 'copy': {
      if (args.length < 2) throw noDest('COPY');
      const f = flags(node, { chown: 'string', from: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' });
      const sd = sourcesAndDest(node, 'COPY');
      return {
        ...base, kind: 'COPY', ...sd, from: f.string('from') || undefined, chown: f.string('chown') || undefined,
        chmod: f.string('chmod') || undefined, link: f.bool('link'), parents: f.bool('parents'), exclude: f.strings('exclude'),
      };
    }
    case 'add': {
      if (args.length < 2) throw noDest('ADD');
      const f = flags(node, {
        chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'strings', unpack: 'bool',
      });
      const sd = sourcesAndDest(node, 'ADD');
      return {
        ...base, kind: 'ADD', ...sd, chown: f.string('chown') || undefined, chmod: f.string('chmod') || undefined,
        link: f.bool('link'), keepGitDir: f.bool('keep-git-dir'), checksum: f.string('checksum') || undefined,
        exclude: f.strings('exclude'), unpack: f.has('unpack') ? f.bool('unpack') : undefined,
      };
    }
    case 'volume': {
      flags(node, {});
      if (args.length === 0) throw atLeastOne('VOLUME');
      const volumes = args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) throw new Error('VOLUME specified can not be an empty string');
      return { ...base, kind: 'VOLUME', volumes };
    }
    case 'user':
      flags(node, {});
      if (args.length !== 1) throw exactlyOne('USER');
      return { ...base, kind: 'USER', user: args[0]! };
    case 'workdir':
      flags(node, {});
      if (args.length !== 1) throw exactlyOne('WORKDIR');
      return { ...base, kind: 'WORKDIR', path: args[0]! };
    case 'arg': {
      flags(node, {});
      if (args.length < 1) throw atLeastOne('ARG');
      const list = args.map((a) => {
        const eq = a.indexOf('=');
        if (eq < 0) return { key: a };
        if (eq === 0) throw new Error('ARG names can not be blank');
        return { key: a.slice(0, eq), value: a.slice(eq + 1) };
      });
      return { ...base, kind: 'ARG', args: list };
    }
    case 'onbuild': {
      if (args.length === 0) throw atLeastOne('ONBUILD');
      flags(node, {});
      const trigger = args[0]!.trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      if (node.sub) toInstruction({ ...node.sub, line: node.line, endLine: node.endLine });
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.sub?.heredocs ?? []) expression += '\n' + h.content + h.name;
      return { ...base, kind: 'ONBUILD', expression };
    }
    case 'stopsignal':
      flags(node, {});
      if (args.length !== 1) throw exactlyOne('STOPSIGNAL');
      return { ...base, kind: 'STOPSIGNAL', signal: args[0]! };
    case 'healthcheck':
      return { ...base, kind: 'HEALTHCHECK', health: healthcheck(node) };
    case 'shell': {
      flags(node, {});
      const cmd = jsonArgs(node);
      if (cmd.length === 0) throw atLeastOne('SHELL');
      if (!node.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { ...base, kind: 'SHELL', shell: cmd };
    }
    default:
      // dockerd 20.10's classic builder gives no "did you mean" hint (BuildKit's parser does)
      throw new Error(`unknown instruction: ${node.cmd}`);
  }
}

function stageName(args: string[]): string {
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    const name = args[2]!.toLowerCase();
    if (!VALID_STAGE_NAME.test(name)) {
      throw new Error(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
    }
    return name;
  }
  if (args.length !== 1) throw new Error('FROM requires either one or three arguments');
  return '';
}

/** Exec form keeps the items; shell form is the whole string as one item. */
function jsonArgs(node: Node): string[] {
  if (node.args.length === 0) return [];
  return node.json ? [...node.args] : [node.args.join(' ')];
}

function commandLine(node: Node, emptyAsNil: boolean): { cmd: string[]; prependShell: boolean; files: Node['heredocs'] } {
  const cmd = jsonArgs(node);
  void emptyAsNil; // an empty ENTRYPOINT clears it; the executor reads cmd.length === 0 as "unset"
  return { cmd, prependShell: !node.json, files: node.heredocs.map((h) => ({ ...h })) };
}

function pairs(args: string[], cmd: string): KeyValue[] {
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '') throw new Error(`${cmd} names can not be blank`);
    out.push({ key: args[i]!, value: args[i + 1]! });
  }
  return out;
}

function sourcesAndDest(node: Node, cmd: string): { sources: string[]; contents: SourceContent[]; dest: string } {
  const args = node.args;
  const dest = args[args.length - 1]!;
  if (!node.json && parseHeredoc(dest)) throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const contents: SourceContent[] = [];
  for (const src of args.slice(0, -1)) {
    const h = node.json ? undefined : parseHeredoc(src);
    if (h) {
      let data = byName.get(h.name)?.content ?? '';
      if (h.chomp) data = chompHeredocContent(data);
      contents.push({ path: h.name, data, expand: h.expand });
    } else {
      sources.push(src);
    }
  }
  return { sources, contents, dest };
}

function healthcheck(node: Node): HealthConfig {
  if (node.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const typ = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  if (typ === 'NONE') {
    if (rest.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    flags(node, {});
    return { test: ['NONE'] };
  }
  const f = flags(node, { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' });
  if (typ !== 'CMD') throw new Error(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = rest.length === 0 ? [] : node.json ? rest : [rest.join(' ')];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const health: HealthConfig = { test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const interval = (name: string): number | undefined => {
    const v = f.string(name);
    if (!v) return undefined;
    const ns = parseGoDuration(v);
    if (ns === 0) return undefined;
    if (ns < 1e6) throw new Error(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return ns;
  };
  health.interval = interval('interval');
  health.timeout = interval('timeout');
  health.startPeriod = interval('start-period');
  health.startInterval = interval('start-interval');
  const retries = f.string('retries');
  if (retries) {
    if (!/^[+-]?\d+$/.test(retries)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    health.retries = n;
  }
  return health;
}
