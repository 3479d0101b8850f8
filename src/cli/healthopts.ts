// `run` / `create` healthcheck and publish-all flags (docker/cli cli/command/container/opts.go): --health-*
// become Config.Healthcheck (durations in nanoseconds, Test ["CMD-SHELL", cmd]), --no-healthcheck Test
// ["NONE"]; docker's checks and messages (exit 125).
import type { FlagSpec, Opts } from './spec.ts';
import { UsageError, StatusError } from './errors.ts';

export const HEALTH_FLAGS: FlagSpec[] = [
  { name: 'health-cmd', type: 'string', valueName: 'string', help: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', valueName: 'duration', default: '0s', help: 'Time between running the check (ms|s|m|h)' },
  { name: 'health-retries', type: 'int', valueName: 'int', help: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', type: 'string', valueName: 'duration', default: '0s', help: 'Time between running the check during the start period (ms|s|m|h)' },
  { name: 'health-start-period', type: 'string', valueName: 'duration', default: '0s', help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)' },
  { name: 'health-timeout', type: 'string', valueName: 'duration', default: '0s', help: 'Maximum time to allow one check to run (ms|s|m|h)' },
  { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
];

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration → nanoseconds; a string (Go's message) when invalid. */
export function parseGoDuration(s: string): number | string {
  const bad = `time: invalid duration "${s}"`;
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) { sign = rest[0] === '-' ? -1 : 1; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (!rest) return bad;
  let total = 0;
  while (rest) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)([a-zµμ]+)/.exec(rest);
    if (!m) return m === null && /^[\d.]+$/.test(rest) ? `time: missing unit in duration "${s}"` : bad;
    const unit = UNIT_NS[m[2]!];
    if (unit === undefined) return `time: unknown unit "${m[2]}" in duration "${s}"`;
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Config.Healthcheck from the flags, or undefined when none is given. */
export function healthcheck(o: Opts, path: string, use: string): Record<string, unknown> | undefined {
  const dur = (name: string): number => {
    const v = o.str(name) || '0s';
    const n = parseGoDuration(v);
    if (typeof n === 'string') {
      throw new UsageError(`invalid argument "${v}" for "--${name}" flag: ${n}\n\nUsage:  ${path} ${use}\n\nRun '${path} --help' for more information`, 125);
    }
    return n;
  };
  const interval = dur('health-interval');
  const timeout = dur('health-timeout');
  const startPeriod = dur('health-start-period');
  const startInterval = dur('health-start-interval');
  const retries = o.int('health-retries');
  const cmd = o.str('health-cmd');
  const any = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || startInterval !== 0 || retries !== 0;
  const fail = (msg: string) => new StatusError(`berth: ${msg}\n\nRun 'berth ${path.endsWith('create') ? 'create' : 'run'} --help' for more information`, 125);
  if (o.bool('no-healthcheck')) {
    if (any) throw fail('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (interval < 0) throw fail('--health-interval cannot be negative');
  if (timeout < 0) throw fail('--health-timeout cannot be negative');
  if (retries < 0) throw fail('--health-retries cannot be negative');
  if (startPeriod < 0) throw fail('--health-start-period cannot be negative');
  if (startInterval < 0) throw fail('--health-start-interval cannot be negative');
  return {
    ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}),
    Interval: interval, Timeout: timeout, StartPeriod: startPeriod, StartInterval: startInterval, Retries: retries,
  };
}
