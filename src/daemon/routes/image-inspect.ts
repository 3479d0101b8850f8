// `GET /images/{name}/json` in the shape each API version's docker daemon sends, key for key and in moby's Go
// struct order (JSON consumers diff whole documents; `docker image inspect` prints them as they come):
//   < 1.44  VirtualSize after Size; an image without a created time says 0001-01-01T00:00:00Z
//   < 1.45  Container and ContainerConfig (the legacy container.Config, every field)
//   < 1.50  Config as the legacy container.Config (Hostname, AttachStdin, … all present, docker 20.10's order)
//   ≥ 1.50  Config as docker 28.3+ sends it: the OCI fields that are set plus eight always-present ones, keys sorted
//   (below 1.50 docker 28 sends the legacy fields as a sorted map too; berth follows dockerd 20.10's struct order
//   there, the reference these outputs are checked against)
//   ≥ 1.48  the target Descriptor
// GraphDriver is overlay2's: berth's snapshots are overlay layers keyed by chainID, so UpperDir is the top
// layer's unpacked tree and LowerDir the layers below it, top first, as moby's overlay2 driver reports them.
import { dirname, join } from 'node:path';
import { chainIds } from '../../image/index.ts';
import type { Digest } from '../../digest/index.ts';
import type { ImageInspect } from '../../api/index.ts';
import { versionBefore } from '../version.ts';

type Json = Record<string, unknown>;

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A Go map marshals with its keys sorted: Labels, ExposedPorts and Volumes come out that way from dockerd. */
function sorted(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || v === false || v === 0
  || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as Json).length === 0);

function mapsSorted(c: Json): Json {
  return { ...c, Labels: sorted(c.Labels), ExposedPorts: sorted(c.ExposedPorts), Volumes: sorted(c.Volumes) };
}

/**
 * moby api/types/container.Config as docker 20.10 marshals it: omitempty only where the Go struct says so
 * (ExposedPorts, Healthcheck, ArgsEscaped, NetworkDisabled, MacAddress, StopSignal, StopTimeout, Shell).
 */
export function legacyConfig(raw: Json | null | undefined): Json {
  const c = mapsSorted(raw ?? {});
  const out: Json = {
    Hostname: c.Hostname ?? '', Domainname: c.Domainname ?? '', User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false, AttachStdout: c.AttachStdout ?? false, AttachStderr: c.AttachStderr ?? false,
  };
  if (!isEmpty(c.ExposedPorts)) out.ExposedPorts = c.ExposedPorts;
  Object.assign(out, { Tty: c.Tty ?? false, OpenStdin: c.OpenStdin ?? false, StdinOnce: c.StdinOnce ?? false, Env: c.Env ?? null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = c.ArgsEscaped;
  Object.assign(out, { Image: c.Image ?? '', Volumes: c.Volumes ?? null, WorkingDir: c.WorkingDir ?? '', Entrypoint: c.Entrypoint ?? null });
  if (c.NetworkDisabled) out.NetworkDisabled = c.NetworkDisabled;
  if (c.MacAddress) out.MacAddress = c.MacAddress;
  Object.assign(out, { OnBuild: c.OnBuild ?? null, Labels: c.Labels ?? null });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (!isEmpty(c.Shell)) out.Shell = c.Shell;
  return out;
}

/**
 * docker 28's Config from API 1.50 on (moby's inspectCompatResponse): the DockerOCIImageConfig fields that are set
 * (OCI ImageConfig, then Healthcheck, OnBuild, Shell), merged into a map with the eight fields that never had
 * omitempty (moby issue 50134) — and a Go map marshals with its keys sorted.
 */
export function ociConfig(raw: Json | null | undefined): Json {
  const c = mapsSorted(raw ?? {});
  const out: Json = { Cmd: null, Entrypoint: null, Env: null, Labels: null, OnBuild: null, User: '', Volumes: null, WorkingDir: '' };
  for (const k of ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell']) {
    if (!isEmpty(c[k])) out[k] = c[k];
  }
  return sorted(out) as Json;
}

/** overlay2's GraphDriver.Data for an image whose layers are `diffIds` (keys sorted, as Go marshals a map). */
export function overlayData(diffIds: readonly Digest[], fsPath: (chainId: Digest) => string): Record<string, string> | null {
  const chains = chainIds(diffIds);
  const top = chains.at(-1);
  if (!top) return null;
  const dir = dirname(fsPath(top));
  const lower = chains.slice(0, -1).reverse().map(fsPath).join(':');
  return {
    ...(lower ? { LowerDir: lower } : {}),
    MergedDir: join(dir, 'merged'),
    UpperDir: fsPath(top),
    WorkDir: join(dir, 'work'),
  };
}

export interface InspectParts {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  parent: string;
  size: number;
  /** The image config blob, parsed. */
  config: Json & { rootfs: { type: string; diff_ids: Digest[] } };
  lastTagTime: string | undefined;
  descriptor: { mediaType: string; digest: string; size: number };
  graphData: Record<string, string> | null;
}

/** The whole ImageInspect document for API `version`, keys in moby's order. */
export function imageInspect(p: InspectParts, version: string): ImageInspect {
  const c = p.config as Json & { history?: { comment?: string }[] };
  const created = typeof c.created === 'string' ? c.created : versionBefore(version, '1.44') ? ZERO_TIME : undefined;
  const out: Json = {
    Id: p.id, RepoTags: p.repoTags, RepoDigests: p.repoDigests, Parent: p.parent,
    // moby's image inspect: an image without a config comment (docker commit) shows its last history comment
    Comment: (c.comment as string) || c.history?.at(-1)?.comment || '',
  };
  if (created !== undefined) out.Created = created;
  if (versionBefore(version, '1.45')) {
    out.Container = (c.container as string) ?? '';
    out.ContainerConfig = legacyConfig(c.container_config as Json);
  }
  out.DockerVersion = (c.docker_version as string) ?? '';
  out.Author = (c.author as string) ?? '';
  out.Config = versionBefore(version, '1.50') ? legacyConfig(c.config as Json) : ociConfig(c.config as Json);
  out.Architecture = (c.architecture as string) ?? '';
  if (c.variant) out.Variant = c.variant;
  out.Os = (c.os as string) ?? '';
  if (c['os.version']) out.OsVersion = c['os.version'];
  out.Size = p.size;
  if (versionBefore(version, '1.44')) out.VirtualSize = p.size;
  out.GraphDriver = { Data: p.graphData, Name: 'overlay2' };
  out.RootFS = { Type: p.config.rootfs.type, Layers: p.config.rootfs.diff_ids };
  // a time.Time in a struct is never omitted: an image never tagged shows Go's zero time
  out.Metadata = { LastTagTime: p.lastTagTime ?? ZERO_TIME };
  if (!versionBefore(version, '1.48')) out.Descriptor = p.descriptor;
  return out as unknown as ImageInspect;
}
