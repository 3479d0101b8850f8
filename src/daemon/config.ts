// berthd's configuration: dockerd's daemon.json (same key names) merged with command-line flags, with dockerd's
// rules (daemon/config/config.go): a key set both as a flag and in the file is an error, an unknown key in the
// file is an error, a missing *default* file is fine. Other parts add their keys to KEYS and DaemonConfig
// (registry-mirrors, insecure-registries, max-concurrent-*, bip, …) — one line each.
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../errors/index.ts';
import { defaultDataRoot, defaultSocketPath } from '../layout/index.ts';

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

export interface DaemonConfig {
  'data-root': string;
  /** Listen addresses, `unix:///path.sock`. */
  hosts: string[];
  debug: boolean;
  'log-level': string;
  pidfile: string;
  labels: string[];
  experimental: boolean;
  'registry-mirrors': string[];
  'insecure-registries': string[];
  /** Per-registry mirrors (beyond docker, which mirrors only docker.io): {"host:port": ["http://mirror:5000"]}. */
  'registry-mirrors-for': Record<string, string[]>;
  'max-concurrent-downloads': number;
  'max-concurrent-uploads': number;
  /** Unpack layers into snapshots during a pull, as docker (default); false: at first use (a pull then only stores and verifies blobs). */
  'unpack-on-pull': boolean;
  /** Default bridge network address (CIDR). */
  bip: string;
  'default-address-pools': { base: string; size: number }[];
  /** The default bridge's interface name (dockerd's `bridge`; berth creates it): default berth0, or per data root. */
  bridge: string;
  'default-runtime': string;
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  'live-restore': boolean;
  /** Group owning the socket (dockerd's --group); the socket is 0660. */
  group: string;
}

/** daemon.json keys and the kind of value each takes (checked on load). */
const KEYS: Record<keyof DaemonConfig, 'string' | 'boolean' | 'number' | 'string[]' | 'object'> = {
  'data-root': 'string',
  hosts: 'string[]',
  debug: 'boolean',
  'log-level': 'string',
  pidfile: 'string',
  labels: 'string[]',
  experimental: 'boolean',
  'registry-mirrors': 'string[]',
  'insecure-registries': 'string[]',
  'registry-mirrors-for': 'object',
  'max-concurrent-downloads': 'number',
  'max-concurrent-uploads': 'number',
  'unpack-on-pull': 'boolean',
  bip: 'string',
  'default-address-pools': 'object',
  bridge: 'string',
  'default-runtime': 'string',
  runtimes: 'object',
  'live-restore': 'boolean',
  group: 'string',
};

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const root = process.getuid?.() === 0;
  return {
    'data-root': defaultDataRoot(env),
    hosts: [`unix://${defaultSocketPath(env)}`],
    debug: false,
    'log-level': 'info',
    pidfile: root ? '/run/berth/berthd.pid' : `${defaultSocketPath(env).replace(/berth\.sock$/, '')}berthd.pid`,
    labels: [],
    experimental: false,
    'registry-mirrors': [],
    'insecure-registries': [],
    'registry-mirrors-for': {},
    'max-concurrent-downloads': 3,
    'max-concurrent-uploads': 5,
    'unpack-on-pull': true,
    bip: '',
    'default-address-pools': [],
    bridge: '',
    'default-runtime': 'crun',
    runtimes: {},
    'live-restore': false,
    group: '',
  };
}

function checkType(key: string, v: unknown, want: string): void {
  const ok = want === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
    : want === 'object' ? typeof v === 'object' && v !== null
    : typeof v === want;
  if (!ok) throw invalidArgument(`invalid value for "${key}" in the configuration file: expected ${want}`);
}

/** Parses daemon.json text; InvalidArgument for unknown keys or wrongly typed values (dockerd's wording). */
export function parseConfigFile(text: string, path: string): Partial<DaemonConfig> {
  let j: unknown;
  try { j = JSON.parse(text); } catch (e) {
    throw invalidArgument(`unable to configure the berth daemon with file ${path}: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) {
    throw invalidArgument(`unable to configure the berth daemon with file ${path}: not a JSON object`);
  }
  const unknown = Object.keys(j).filter((k) => !(k in KEYS));
  if (unknown.length) {
    throw invalidArgument(`unable to configure the berth daemon with file ${path}: the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  for (const [k, v] of Object.entries(j)) checkType(k, v, KEYS[k as keyof DaemonConfig]);
  return j as Partial<DaemonConfig>;
}

/** Reads the file; a missing file is empty config when it is the default path, an error when given explicitly. */
export async function loadConfigFile(path: string, explicit: boolean): Promise<Partial<DaemonConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return {};
    throw invalidArgument(`unable to configure the berth daemon with file ${path}: ${(e as Error).message}`);
  }
  return parseConfigFile(text, path);
}

/**
 * defaults ← file ← flags. Flags and file naming the same key is dockerd's conflict error (for list flags,
 * too: dockerd does not merge `-H` with "hosts").
 */
export function mergeConfig(file: Partial<DaemonConfig>, flags: Partial<DaemonConfig>, path: string,
  env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const conflicts = Object.keys(flags).filter((k) => k in file)
    .map((k) => `${k}: (from flag: ${fmt(flags[k as keyof DaemonConfig])}, from file: ${fmt(file[k as keyof DaemonConfig])})`);
  if (conflicts.length) {
    throw invalidArgument(`unable to configure the berth daemon with file ${path}: the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  const cfg = { ...defaultConfig(env), ...file, ...flags };
  for (const h of cfg.hosts) {
    if (!h.startsWith('unix://') && !h.startsWith('/')) throw invalidArgument(`invalid host ${h}: only unix:// sockets are supported`);
  }
  return cfg;
}

function fmt(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(' ')}]` : String(v);
}

/** The socket path of a `unix://` host. */
export function socketPathOf(host: string): string {
  return host.startsWith('unix://') ? host.slice(7) : host;
}
