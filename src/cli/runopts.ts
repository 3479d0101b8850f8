// `run` / `create` flags → the body of POST /containers/create (docker/cli cli/command/container/opts.go,
// swagger ContainerConfig + HostConfig). Only what berth's runtime (issue 6) understands is mapped; values are
// validated with docker's messages (exit 125, as flag errors are).
import { readFileSync } from 'node:fs';
import type { FlagSpec, Opts } from './spec.ts';
import { UsageError, StatusError } from './errors.ts';
import { HEALTH_FLAGS, healthcheck } from './healthopts.ts';

export const RUN_FLAGS: FlagSpec[] = ([
  { name: 'add-host', type: 'list', valueName: 'list', help: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'cap-add', type: 'list', valueName: 'list', help: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', valueName: 'list', help: 'Drop Linux capabilities' },
  { name: 'cpus', type: 'string', valueName: 'decimal', help: 'Number of CPUs' },
  { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
  { name: 'detach-keys', type: 'string', valueName: 'string', help: 'Override the key sequence for detaching a container' },
  { name: 'entrypoint', type: 'string', valueName: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', valueName: 'list', help: 'Set environment variables' },
  { name: 'env-file', type: 'list', valueName: 'list', help: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', valueName: 'list', help: 'Expose a port or a range of ports' },
  { name: 'hostname', short: 'h', type: 'string', valueName: 'string', help: 'Container host name' },
  { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { name: 'label', short: 'l', type: 'list', valueName: 'list', help: 'Set meta data on a container' },
  { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', help: 'Memory limit' },
  { name: 'mount', type: 'list', valueName: 'mount', help: 'Attach a filesystem mount to the container' },
  { name: 'name', type: 'string', valueName: 'string', help: 'Assign a name to the container' },
  { name: 'network', type: 'string', valueName: 'network', help: 'Connect a container to a network' },
  { name: 'pids-limit', type: 'int', valueName: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'platform', type: 'string', valueName: 'string', help: 'Set platform if server is multi-platform capable' },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', valueName: 'list', help: "Publish a container's port(s) to the host" },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', valueName: 'string', default: 'no', help: 'Restart policy to apply when a container exits' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', type: 'string', valueName: 'string', help: 'Runtime to use for this container' },
  { name: 'security-opt', type: 'list', valueName: 'list', help: 'Security Options' },
  { name: 'stop-signal', type: 'string', valueName: 'string', help: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', valueName: 'int', help: 'Timeout (in seconds) to stop a container' },
  { name: 'tmpfs', type: 'list', valueName: 'list', help: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', valueName: 'ulimit', help: 'Ulimit options' },
  { name: 'user', short: 'u', type: 'string', valueName: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'volume', short: 'v', type: 'list', valueName: 'list', help: 'Bind mount a volume' },
  { name: 'workdir', short: 'w', type: 'string', valueName: 'string', help: 'Working directory inside the container' },
  ...HEALTH_FLAGS,
] satisfies FlagSpec[]).sort((a, b) => (a.name < b.name ? -1 : 1));

function invalid(flag: string, value: string, why: string, path: string, use: string): UsageError {
  return new UsageError(`invalid argument "${value}" for "${flag}" flag: ${why}\n\nUsage:  ${path} ${use}\n\nRun '${path} --help' for more information`, 125);
}

/** go-units RAMInBytes: "512m", "1g", "1024" (binary multiples); the error names the bad size or suffix. */
export function ramInBytes(s: string): number | string {
  const m = /^(\d+(?:\.\d+)?)(.*)$/.exec(s);
  if (!m) return `invalid size: '${s}'`;
  const suffix = m[2]!.replace(/^ /, '');
  const u = /^([kmgtp]?)i?b?$/i.exec(suffix);
  if (!u) return `invalid suffix: '${suffix}'`;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[u[1]!.toLowerCase() as '' | 'k'];
  return Math.trunc(Number(m[1]) * mult);
}

/** "[ip:][hostPort:]containerPort[/proto]" → exposed key and binding (docker's nat.ParsePortSpec, single ports). */
export function parsePublish(spec: string): { key: string; binding: { HostIp: string; HostPort: string } } | string {
  const [main, proto = 'tcp'] = spec.split('/') as [string, string?];
  let ip = '';
  let rest = main;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(main);
  if (v6) { ip = v6[1]!; rest = v6[2]!; }
  const parts = rest.split(':');
  let hostPort = '';
  let ctr: string;
  if (parts.length === 1) ctr = parts[0]!;
  else if (parts.length === 2) { hostPort = parts[0]!; ctr = parts[1]!; }
  else if (parts.length === 3 && !v6) { ip = parts[0]!; hostPort = parts[1]!; ctr = parts[2]!; }
  else return `invalid port specification: "${spec}"`;
  const port = (p: string) => /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
  if (!/^(tcp|udp|sctp)$/.test(proto)) return `invalid proto: ${proto}`;
  if (!port(ctr)) return `invalid containerPort: ${ctr}`;
  if (hostPort && !port(hostPort)) return `invalid hostPort: ${hostPort}`;
  return { key: `${ctr}/${proto}`, binding: { HostIp: ip, HostPort: hostPort } };
}

function envFile(path: string): string[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { throw new UsageError(`open ${path}: no such file or directory`, 125); }
  return text.split(/\r?\n/).map((l) => l.replace(/^\s+/, '')).filter((l) => l && !l.startsWith('#'))
    .map((l) => (l.includes('=') ? l : process.env[l] !== undefined ? `${l}=${process.env[l]}` : l));
}

export interface CreateRequest {
  name?: string;
  platform?: string;
  body: Record<string, unknown>;
}

/** Builds the create request from the parsed flags, the image and the command after it. */
export function createRequest(o: Opts, image: string, cmd: string[], path: string, use: string): CreateRequest {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of o.list('publish')) {
    const r = parsePublish(p);
    // docker's withHelp names `docker run` / `docker create` whatever path was used
    if (typeof r === 'string') throw new StatusError(`berth: ${r}\n\nRun 'berth ${path.endsWith('create') ? 'create' : 'run'} --help' for more information`, 125);
    exposed[r.key] = {};
    (bindings[r.key] ??= []).push(r.binding);
  }
  for (const e of o.list('expose')) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  let memory = 0;
  if (o.str('memory')) {
    const m = ramInBytes(o.str('memory'));
    if (typeof m === 'string') throw invalid('-m, --memory', o.str('memory'), m, path, use);
    memory = m;
  }
  let nanoCpus = 0;
  if (o.str('cpus')) {
    const c = Number(o.str('cpus'));
    if (!Number.isFinite(c) || c < 0) throw invalid('--cpus', o.str('cpus'), 'failed to parse as a rational number', path, use);
    nanoCpus = Math.round(c * 1e9);
  }
  const [policy = 'no', retries] = o.str('restart').split(':');
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of o.list('volume')) {
    const parts = v.split(':');
    if (parts.length === 1) { volumes[v] = {}; continue; }
    // relative host paths and bad names are the daemon's to refuse, with docker's message
    binds.push(v);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of o.list('tmpfs')) { const i = t.indexOf(':'); tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1); }
  const ulimits = o.list('ulimit').map((u) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
    if (!m) throw invalid('--ulimit', u, `invalid ulimit argument: ${u}`, path, use);
    return { Name: m[1], Soft: Number(m[2]), Hard: Number(m[3] ?? m[2]) };
  });
  const mounts = o.list('mount').map((spec) => {
    const kv = Object.fromEntries(spec.split(',').map((p) => { const i = p.indexOf('='); return i < 0 ? [p, 'true'] : [p.slice(0, i), p.slice(i + 1)]; }));
    return {
      Type: kv.type ?? 'volume', Source: kv.source ?? kv.src, Target: kv.target ?? kv.destination ?? kv.dst,
      ReadOnly: kv.readonly === 'true' || kv.ro === 'true' || kv.readonly === '1',
    };
  });
  const labels: Record<string, string> = {};
  for (const l of o.list('label')) { const i = l.indexOf('='); labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1); }
  const env = [...o.list('env-file').flatMap(envFile), ...o.list('env').map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`))];
  const detach = o.bool('detach');
  const interactive = o.bool('interactive');
  const config: Record<string, unknown> = {
    Hostname: o.str('hostname'), User: o.str('user'), AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach,
    Tty: o.bool('tty'), OpenStdin: interactive, StdinOnce: interactive && !detach, Env: env, Cmd: cmd.length ? cmd : null, Image: image,
    WorkingDir: o.str('workdir'), Labels: labels, ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Volumes: Object.keys(volumes).length ? volumes : undefined, Healthcheck: healthcheck(o, path, use),
    ...(o.changed('entrypoint') ? { Entrypoint: o.str('entrypoint') ? [o.str('entrypoint')] : [] } : {}),
    ...(o.str('stop-signal') ? { StopSignal: o.str('stop-signal') } : {}),
    ...(o.changed('stop-timeout') ? { StopTimeout: o.int('stop-timeout') } : {}),
  };
  const hostConfig: Record<string, unknown> = {
    Binds: binds.length ? binds : null, NetworkMode: o.str('network') || 'default', PortBindings: bindings, PublishAllPorts: o.bool('publish-all'),
    RestartPolicy: { Name: policy, MaximumRetryCount: retries ? Number(retries) : 0 }, AutoRemove: o.bool('rm'),
    Privileged: o.bool('privileged'), CapAdd: o.list('cap-add'), CapDrop: o.list('cap-drop'), ReadonlyRootfs: o.bool('read-only'),
    SecurityOpt: o.list('security-opt'), ExtraHosts: o.list('add-host'), Memory: memory, NanoCpus: nanoCpus,
    ...(o.changed('pids-limit') ? { PidsLimit: o.int('pids-limit') } : {}),
    ...(o.bool('init') ? { Init: true } : {}), ...(o.str('runtime') ? { Runtime: o.str('runtime') } : {}),
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined, Ulimits: ulimits.length ? ulimits : undefined, Mounts: mounts.length ? mounts : undefined,
  };
  return { name: o.str('name') || undefined, platform: o.str('platform') || undefined, body: { ...config, HostConfig: hostConfig } };
}
