// `GET /containers/{id}/json` key for key as dockerd sends it: moby's ContainerJSON field order, HostConfig with
// every field of the Go struct (the defaults dockerd fills in at create: json-file logs, private IPC, 64 MiB
// /dev/shm, the masked and read-only /proc paths, null for an unset swappiness or pids limit), Config in
// container.Config's order, GraphDriver as overlay2 reports it. The record keeps the create body as the client
// sent it; this file only shapes it. NetworkSettings passes through as network-views.ts builds it (docker 28's),
// reordered into docker 20.10's fields below API 1.44.
//   ≥ 1.44  ConsoleSize and Annotations follow VolumesFrom (docker 25+'s struct); KernelMemory/KernelMemoryTCP
//           are left out when zero (omitempty since docker 25)
import type { Services } from '../services.ts';
import type { ContainerRecord } from './container-store.ts';
import { legacyConfig, overlayData } from './image-inspect.ts';
import { versionBefore } from '../version.ts';

type Json = Record<string, unknown>;

const MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** HostConfig keys in docker 20.10's order with the value dockerd shows when the client sent nothing. */
function hostDefaults(runtime: string, privileged: boolean): [string, unknown, 'always' | 'omitempty'][] {
  return [
    ['Binds', null, 'always'], ['ContainerIDFile', '', 'always'], ['LogConfig', { Type: 'json-file', Config: {} }, 'always'],
    ['NetworkMode', 'default', 'always'], ['PortBindings', null, 'always'], ['RestartPolicy', { Name: 'no', MaximumRetryCount: 0 }, 'always'],
    ['AutoRemove', false, 'always'], ['VolumeDriver', '', 'always'], ['VolumesFrom', null, 'always'],
    ['Annotations', null, 'omitempty'],
    ['CapAdd', null, 'always'], ['CapDrop', null, 'always'], ['CgroupnsMode', 'host', 'always'], ['Dns', null, 'always'],
    ['DnsOptions', null, 'always'], ['DnsSearch', null, 'always'], ['ExtraHosts', null, 'always'], ['GroupAdd', null, 'always'],
    ['IpcMode', 'private', 'always'], ['Cgroup', '', 'always'], ['Links', null, 'always'], ['OomScoreAdj', 0, 'always'],
    ['PidMode', '', 'always'], ['Privileged', false, 'always'], ['PublishAllPorts', false, 'always'], ['ReadonlyRootfs', false, 'always'],
    ['SecurityOpt', null, 'always'], ['StorageOpt', null, 'omitempty'], ['Tmpfs', null, 'omitempty'], ['UTSMode', '', 'always'],
    ['UsernsMode', '', 'always'], ['ShmSize', 67108864, 'always'], ['Sysctls', null, 'omitempty'], ['Runtime', runtime, 'always'],
    ['ConsoleSize', [0, 0], 'always'], ['Isolation', '', 'always'],
    ['CpuShares', 0, 'always'], ['Memory', 0, 'always'], ['NanoCpus', 0, 'always'], ['CgroupParent', '', 'always'],
    ['BlkioWeight', 0, 'always'], ['BlkioWeightDevice', null, 'always'], ['BlkioDeviceReadBps', null, 'always'],
    ['BlkioDeviceWriteBps', null, 'always'], ['BlkioDeviceReadIOps', null, 'always'], ['BlkioDeviceWriteIOps', null, 'always'],
    ['CpuPeriod', 0, 'always'], ['CpuQuota', 0, 'always'], ['CpuRealtimePeriod', 0, 'always'], ['CpuRealtimeRuntime', 0, 'always'],
    ['CpusetCpus', '', 'always'], ['CpusetMems', '', 'always'], ['Devices', null, 'always'], ['DeviceCgroupRules', null, 'always'],
    ['DeviceRequests', null, 'always'], ['KernelMemory', 0, 'always'], ['KernelMemoryTCP', 0, 'always'], ['MemoryReservation', 0, 'always'],
    ['MemorySwap', 0, 'always'], ['MemorySwappiness', null, 'always'], ['OomKillDisable', false, 'always'], ['PidsLimit', null, 'always'],
    ['Ulimits', null, 'always'], ['CpuCount', 0, 'always'], ['CpuPercent', 0, 'always'], ['IOMaximumIOps', 0, 'always'],
    ['IOMaximumBandwidth', 0, 'always'], ['Mounts', null, 'omitempty'],
    ['MaskedPaths', privileged ? null : MASKED, 'always'], ['ReadonlyPaths', privileged ? null : READONLY, 'always'], ['Init', null, 'omitempty'],
  ];
}

const unset = (v: unknown): boolean => v === undefined || v === null || v === '';

/** HostConfig as dockerd stores it: the client's values, dockerd's defaults where the client left a field unset. */
export function dockerHostConfig(hc: Json, version: string, defaultRuntime: string): Json {
  const out: Json = {};
  const old = versionBefore(version, '1.44');
  const order = hostDefaults((hc.Runtime as string) || defaultRuntime, !!hc.Privileged);
  // docker 25+ moved ConsoleSize (and the new Annotations) up next to VolumesFrom
  if (!old) {
    const i = order.findIndex(([k]) => k === 'ConsoleSize');
    const [cs] = order.splice(i, 1);
    order.splice(order.findIndex(([k]) => k === 'Annotations'), 0, cs!);
  }
  for (const [k, dflt, mode] of order) {
    let v = hc[k];
    if (k === 'LogConfig') {
      const lc = (v ?? {}) as Json;
      v = { Type: lc.Type || 'json-file', Config: lc.Config ?? {} };
    } else if (k === 'RestartPolicy') {
      const rp = (v ?? {}) as Json;
      v = { Name: rp.Name || 'no', MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
    } else if (k === 'MemorySwappiness' && (v === -1 || v === undefined)) v = null;
    else if (k === 'PidsLimit' && (typeof v !== 'number' || v <= 0)) v = null;
    else if (k === 'ShmSize' && !v) v = dflt;
    // moby's adaptContainerSettings: a memory limit without a swap limit allows as much swap again
    else if (k === 'MemorySwap' && !v && typeof hc.Memory === 'number' && hc.Memory > 0) v = hc.Memory * 2;
    else if (['CgroupnsMode', 'IpcMode', 'NetworkMode', 'Runtime'].includes(k) && unset(v)) v = dflt;
    else if ((k === 'MaskedPaths' || k === 'ReadonlyPaths') && v == null) v = dflt;
    else if (v === undefined) v = dflt;
    if (mode === 'omitempty' && (v === null || v === undefined || (Array.isArray(v) && !v.length) || (typeof v === 'object' && v !== null && !Object.keys(v).length))) continue;
    if (!old && (k === 'KernelMemory' || k === 'KernelMemoryTCP') && !v) continue;
    out[k] = v;
  }
  return out;
}

/**
 * moby's MountPoint order (Type, Name, Source, Destination, Driver, Mode, RW, Propagation; Name and Driver only
 * for volumes). An anonymous volume (from Config.Volumes or the image) has no mode: dockerd shows "".
 */
function dockerMount(m: Json): Json {
  const out: Json = { Type: m.Type };
  if (m.Name) out.Name = m.Name;
  out.Source = m.Source ?? '';
  out.Destination = m.Destination;
  if (m.Driver) out.Driver = m.Driver;
  out.Mode = m.Type === 'volume' && /^[0-9a-f]{64}$/.test(String(m.Name)) ? '' : m.Mode ?? '';
  out.RW = m.RW;
  out.Propagation = m.Propagation ?? '';
  for (const [k, v] of Object.entries(m)) if (!(k in out)) out[k] = v;
  return out;
}

const pick = (src: Json, keys: [string, unknown][]): Json => Object.fromEntries(keys.map(([k, d]) => [k, k in src ? src[k] : d]));

/**
 * NetworkSettings as docker 20.10 (API < 1.44) orders it: the deprecated per-container fields between the sandbox
 * ones, and EndpointSettings without the fields later APIs added (GwPriority, DNSNames).
 */
function legacyNetworkSettings(ns: Json | undefined): Json | undefined {
  if (!ns) return ns;
  const out = pick(ns, [['Bridge', ''], ['SandboxID', ''], ['HairpinMode', false], ['LinkLocalIPv6Address', ''], ['LinkLocalIPv6PrefixLen', 0],
    ['Ports', {}], ['SandboxKey', ''], ['SecondaryIPAddresses', null], ['SecondaryIPv6Addresses', null], ['EndpointID', ''], ['Gateway', ''],
    ['GlobalIPv6Address', ''], ['GlobalIPv6PrefixLen', 0], ['IPAddress', ''], ['IPPrefixLen', 0], ['IPv6Gateway', ''], ['MacAddress', '']]);
  const nets = (ns.Networks ?? {}) as Record<string, Json>;
  out.Networks = Object.fromEntries(Object.entries(nets).map(([name, e]) => [name, pick(e, [['IPAMConfig', null], ['Links', null], ['Aliases', null],
    ['NetworkID', ''], ['EndpointID', ''], ['Gateway', ''], ['IPAddress', ''], ['IPPrefixLen', 0], ['IPv6Gateway', ''], ['GlobalIPv6Address', ''],
    ['GlobalIPv6PrefixLen', 0], ['MacAddress', ''], ['DriverOpts', null]])]));
  return out;
}

/** The inspect body (from container-views.ts inspectBody) in dockerd's shape for API `version`. */
export async function dockerContainerInspect(s: Services, r: ContainerRecord, body: Json, version: string): Promise<Json> {
  const { HostConfig: _h, NetworkingConfig: _n, ...own } = (body.Config ?? {}) as Json;
  const config = legacyConfig(own);
  // dockerd keeps the CLI's empty Volumes map as null
  if (config.Volumes && typeof config.Volumes === 'object' && !Object.keys(config.Volumes).length) config.Volumes = null;
  let graph: Json = body.GraphDriver as Json;
  try {
    const img = await s.images.configOf(r.Image as never);
    const lower = overlayData(img.rootfs?.diff_ids ?? [], (c) => s.snapshots.fsPath(c));
    graph = {
      Data: {
        ...(lower ? { LowerDir: [lower.UpperDir, lower.LowerDir].filter(Boolean).join(':') } : {}),
        MergedDir: s.runtime.rootfs(r.Id), UpperDir: s.runtime.upperDir(r.Id), WorkDir: s.runtime.workDir(r.Id),
      },
      Name: 'overlay2',
    };
  } catch { /* the image is gone (rmi -f): keep what the view built */ }
  const out: Json = {};
  // dockerd sets the resolv.conf/hostname/hosts/log paths when the container first starts: "" until then
  const neverStarted = (body.State as Json | undefined)?.StartedAt === '0001-01-01T00:00:00Z';
  for (const k of ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath', 'HostsPath', 'LogPath', 'Node', 'Name',
    'RestartCount', 'Driver', 'Platform', 'ImageManifestDescriptor', 'MountLabel', 'ProcessLabel', 'AppArmorProfile', 'ExecIDs']) {
    if (k in body) out[k] = neverStarted && ['ResolvConfPath', 'HostnamePath', 'HostsPath', 'LogPath'].includes(k) ? '' : body[k];
  }
  out.HostConfig = dockerHostConfig((body.HostConfig ?? {}) as Json, version, s.config['default-runtime'] || 'runc');
  out.GraphDriver = graph;
  for (const k of ['SizeRw', 'SizeRootFs']) if (k in body) out[k] = body[k];
  out.Mounts = ((body.Mounts ?? []) as Json[]).map(dockerMount);
  out.Config = config;
  out.NetworkSettings = versionBefore(version, '1.44') ? legacyNetworkSettings(body.NetworkSettings as Json | undefined) : body.NetworkSettings;
  // anything the view adds that docker's struct does not name stays visible, at the end
  for (const [k, v] of Object.entries(body)) if (!(k in out) && k !== 'Config') out[k] = v;
  return out;
}

/** ContainerSummary.Command as moby's daemon/list.go writes it: arguments holding a space in single quotes. */
export function psCommand(path: string, args: readonly string[]): string {
  return [path, ...args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}
