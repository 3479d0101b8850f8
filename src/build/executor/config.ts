// What the metadata instructions do to the image config, and the `created_by` text docker's classic builder
// writes into history for every instruction (moby builder/dockerfile/dispatchers.go). Pure functions over a
// stage's state; the builder calls them with already-expanded instructions.
import type { ContainerConfig } from '../../images/index.ts';
import type { Command, HealthConfig } from '../dockerfile/instructions.ts';
import { goQuote } from '../shell/lex.ts';

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Go's %q of a []string: ["a" "b"]. */
export function goQuoteList(l: readonly string[] | null | undefined): string {
  return `[${(l ?? []).map(goQuote).join(' ')}]`;
}

/** Go's time.Duration String(): 1h2m3.5s, 500ms, 0s. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e3) out = `${n}ns`;
  else if (n < 1e6) out = `${trimZeros(n / 1e3)}µs`;
  else if (n < 1e9) out = `${trimZeros(n / 1e6)}ms`;
  else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    out = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trimZeros(n / 1e9)}s`;
  }
  return neg ? `-${out}` : out;
}
const trimZeros = (x: number): string => String(Number(x.toFixed(9)));

/** Docker's HealthConfig JSON (durations in ns; zero values omitted). */
export function healthJSON(h: HealthConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { Test: h.test };
  if (h.interval) o.Interval = h.interval;
  if (h.timeout) o.Timeout = h.timeout;
  if (h.startPeriod) o.StartPeriod = h.startPeriod;
  if (h.startInterval) o.StartInterval = h.startInterval;
  if (h.retries) o.Retries = h.retries;
  return o;
}

/** `EXPOSE 80 53/udp 8000-8001` → {"80/tcp":{}, "53/udp":{}, "8000/tcp":{}, "8001/tcp":{}} (nat.ParsePortSpecs). */
export function exposedPorts(ports: readonly string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const spec of ports) {
    const [range, proto = 'tcp'] = spec.split('/');
    const m = /^(\d+)(?:-(\d+))?$/.exec(range ?? '');
    if (!m) throw new Error(`invalid containerPort: ${range}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (hi < lo || hi > 65535) throw new Error(`invalid range specified for container port: ${range}`);
    for (let p = lo; p <= hi; p++) out[`${p}/${proto.toLowerCase()}`] = {};
  }
  return out;
}

/** WORKDIR relative to the current one, cleaned. */
export function normalizeWorkdir(current: string, path: string): string {
  const joined = path.startsWith('/') ? path : `${current || '/'}/${path}`;
  const parts: string[] = [];
  for (const p of joined.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return '/' + parts.join('/');
}

/** Mutable per-stage state the metadata instructions change. */
export interface ConfigState {
  config: ContainerConfig;
  /** Image-level author (MAINTAINER). */
  author?: string;
  shell: string[];
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

/**
 * Applies a metadata instruction (ENV LABEL MAINTAINER EXPOSE USER VOLUME STOPSIGNAL CMD ENTRYPOINT HEALTHCHECK
 * SHELL ONBUILD WORKDIR ARG) to `s` and returns the `#(nop)` comment docker records. Notes for the output
 * stream (e.g. "overriding previous HEALTHCHECK") go to `note`.
 */
export function applyMetadata(s: ConfigState, inst: Command, note: (line: string) => void = () => {}): string {
  const c = s.config;
  switch (inst.kind) {
    case 'ENV': {
      const env = [...(c.Env ?? [])];
      for (const { key, value } of inst.env) {
        const i = env.findIndex((e) => e === key || e.startsWith(key + '='));
        if (i >= 0) env[i] = `${key}=${value}`;
        else env.push(`${key}=${value}`);
      }
      c.Env = env;
      return `ENV ${inst.env.map((e) => `${e.key}=${e.value}`).join(' ')}`;
    }
    case 'LABEL':
      c.Labels = { ...(c.Labels ?? {}) };
      for (const { key, value } of inst.labels) c.Labels[key] = value;
      return `LABEL ${inst.labels.map((e) => `${e.key}=${e.value}`).join(' ')}`;
    case 'MAINTAINER':
      s.author = inst.maintainer;
      return `MAINTAINER ${inst.maintainer}`;
    case 'EXPOSE':
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...exposedPorts(inst.ports) };
      // docker prints the specs as written, sorted ("EXPOSE 53/udp 80").
      return `EXPOSE ${[...inst.ports].sort().join(' ')}`;
    case 'USER':
      c.User = inst.user;
      return `USER ${inst.user}`;
    case 'VOLUME':
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of inst.volumes) c.Volumes[v] = {};
      return `VOLUME [${inst.volumes.join(' ')}]`;
    case 'STOPSIGNAL':
      c.StopSignal = inst.signal;
      return `STOPSIGNAL ${inst.signal}`;
    case 'CMD':
      c.Cmd = inst.prependShell ? [...s.shell, inst.cmd.join(' ')] : [...inst.cmd];
      s.cmdSet = true;
      return `CMD ${goQuoteList(c.Cmd)}`;
    case 'ENTRYPOINT':
      c.Entrypoint = inst.cmd.length === 0 ? null : inst.prependShell ? [...s.shell, inst.cmd.join(' ')] : [...inst.cmd];
      if (!s.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${goQuoteList(c.Entrypoint)}`;
    case 'HEALTHCHECK': {
      const old = (c.Healthcheck as { Test?: string[] } | undefined)?.Test;
      if (old && old.length > 0 && old[0] !== 'NONE') note(`Note: overriding previous HEALTHCHECK: [${old.join(' ')}]\n`);
      c.Healthcheck = healthJSON(inst.health);
      const h = inst.health;
      const retries = `'\\x${(h.retries ?? 0).toString(16).padStart(2, '0')}'`;
      // Go's %v of the HealthConfig struct: dockerd 20.10 (the classic builder compared in test/build-parity)
      // has no StartInterval field; it is printed only when --start-interval was given (docker 25+'s shape)
      const start = h.startInterval ? ` ${goQuote(goDuration(h.startInterval))}` : '';
      return `HEALTHCHECK &{${goQuoteList(h.test)} ${goQuote(goDuration(h.interval ?? 0))} ${goQuote(goDuration(h.timeout ?? 0))} ${goQuote(goDuration(h.startPeriod ?? 0))}${start} ${retries}}`;
    }
    case 'SHELL':
      s.shell = [...inst.shell];
      c.Shell = [...inst.shell];
      return `SHELL [${inst.shell.join(' ')}]`;
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), inst.expression];
      return `ONBUILD ${inst.expression}`;
    case 'WORKDIR':
      c.WorkingDir = normalizeWorkdir(c.WorkingDir ?? '', inst.path);
      return `WORKDIR ${c.WorkingDir}`;
    case 'ARG':
      return `ARG ${inst.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' ')}`;
    default:
      throw new Error(`${inst.kind} is not a metadata instruction`);
  }
}

/**
 * history `created_by` of a metadata step: `/bin/sh -c #(nop)  ENV A=1` (two spaces, as moby joins
 * "#(nop) " and the comment), except WORKDIR, which docker writes with one.
 */
export function nopCreatedBy(shell: readonly string[], comment: string): string {
  if (comment.startsWith('WORKDIR ')) return [...shell, `#(nop) ${comment}`].join(' ');
  return [...shell, '#(nop) ', comment].join(' ');
}

/** history `created_by` of a COPY/ADD: `/bin/sh -c #(nop) COPY file:<hex> in /dst `. */
export function copyCreatedBy(shell: readonly string[], cmd: 'COPY' | 'ADD', srcHash: string, dest: string): string {
  return [...shell, `#(nop) ${cmd} ${srcHash} in ${dest} `].join(' ');
}

/** history `created_by` of a RUN: `|2 A=1 B=2 /bin/sh -c make` (args only when there are some). */
export function runCreatedBy(shell: readonly string[], cmd: readonly string[], prependShell: boolean, args: readonly string[]): string {
  const argv = prependShell ? [...shell, cmd.join(' ')] : [...cmd];
  return [...(args.length ? [`|${args.length}`, ...args] : []), ...argv].join(' ');
}
