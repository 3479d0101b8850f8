// POST /build query parameters (Engine API v1.51, classic builder) → BuildOptions, with moby's parsing rules
// (router/build/build_routes.go): booleans are true unless "", "0", "no", "false" or "none"; buildargs and
// labels are JSON objects, cachefrom a JSON array, `t` repeats. The daemon route unpacks the body with
// receiveContext and passes these on; unsupported inputs are refused here with a clear message.
import { invalidArgument, notImplemented } from '../errors/index.ts';
import { formatPlatform, hostPlatform } from './args.ts';
import type { BuildOptions } from './executor/builder.ts';

export interface BuildQuery {
  /** Everything of BuildOptions the query decides. */
  options: Omit<BuildOptions, 'contextDir' | 'dockerfile' | 'onEvent' | 'signal'>;
  /** The `dockerfile` parameter (path inside the context), '' for the default. */
  dockerfile: string;
  /** forcerm/rm are accepted for compatibility: intermediate containers are always removed. */
  pull: boolean;
  cacheFrom: string[];
  networkMode: string;
}

export function boolValue(v: string | null | undefined): boolean {
  const s = (v ?? '').trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

function json<T>(q: URLSearchParams, name: string, what: string, check: (v: unknown) => v is T, empty: T): T {
  const raw = q.get(name);
  if (!raw) return empty;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw invalidArgument(`error reading ${what}: ${(e as Error).message}`);
  }
  if (v === null) return empty;
  if (!check(v)) throw invalidArgument(`error reading ${what}: unexpected JSON value`);
  return v;
}

const isStringMap = (nullable: boolean) => (v: unknown): v is Record<string, string | null> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string' || (nullable && x === null));

/** Parses the query of POST /build. InvalidArgument / NotImplemented with docker-like messages. */
export function parseBuildQuery(q: URLSearchParams): BuildQuery {
  const version = q.get('version');
  if (version && version !== '1') throw notImplemented(`builder version ${JSON.stringify(version)} is not supported: this daemon has the classic builder (1) only`);
  if (q.get('remote')) throw notImplemented('building from a remote context (URL or git) is not supported yet');
  const outputs = q.get('outputs');
  if (outputs && outputs !== '[]' && outputs !== 'null') throw notImplemented('--output is not supported by the classic builder');
  const platform = q.get('platform') ?? '';
  if (platform) {
    const host = hostPlatform();
    const ok = [formatPlatform(host), formatPlatform({ ...host, variant: undefined }), host.os].includes(platform.toLowerCase());
    if (!ok) throw invalidArgument(`"${platform}": this daemon builds for ${formatPlatform(host)} only`);
  }
  const buildArgs = json(q, 'buildargs', 'build args', isStringMap(true), {});
  const labels = json(q, 'labels', 'labels', isStringMap(false), {}) as Record<string, string>;
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const cacheFrom = json(q, 'cachefrom', 'cache-from', isStrings, []);
  // berth's own: --no-cache-filter's stage names (JSON array), and structured step events for --progress
  const noCacheFilter = json(q, 'nocachefilter', 'no-cache-filter', isStrings, []);
  return {
    options: {
      tags: q.getAll('t').filter(Boolean),
      buildArgs,
      target: q.get('target') || undefined,
      labels,
      noCache: boolValue(q.get('nocache')),
      ...(noCacheFilter.length ? { noCacheFilter } : {}),
      ...(boolValue(q.get('berthprogress')) ? { progress: true } : {}),
      // berth's own: an export (--output) records no intermediate images
      ...(boolValue(q.get('berthexport')) ? { intermediates: false } : {}),
      quiet: boolValue(q.get('q')),
    },
    dockerfile: q.get('dockerfile') ?? '',
    pull: boolValue(q.get('pull')),
    cacheFrom,
    networkMode: q.get('networkmode') || 'default',
  };
}
