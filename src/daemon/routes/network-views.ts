// A container's networking as the Engine API shows it: inspect's NetworkSettings (moby
// api/types/container NetworkSettings + network.EndpointSettings, in docker 28's field order) and the Ports of
// `GET /containers/json` (swagger Port). Both come from the container record (ContainerRecord.Net, written at
// create and by connect/disconnect), so listing needs no I/O.
import type { ContainerRecord } from './container-store.ts';
import type { Endpoint, NetRecord } from './networks.ts';

/** The built-in host and none networks' IDs (fixed: they are the same on every berth daemon). */
export const HOST_ID = 'a'.repeat(64);
export const NONE_ID = 'c'.repeat(64);

/** The record's networking; records written before Net existed had one bridge endpoint in NetworkIP/…. */
export function netOf(r: ContainerRecord): NetRecord {
  if (r.Net) return r.Net;
  const mode = r.HostConfig.NetworkMode ?? 'default';
  const endpoints: Record<string, Endpoint> = {};
  if (r.NetworkIP) {
    endpoints[mode === 'default' ? 'bridge' : mode] = {
      NetworkID: '', EndpointID: '', Gateway: r.NetworkGateway ?? '', IPAddress: r.NetworkIP, IPPrefixLen: r.NetworkPrefixLen ?? 0,
      MacAddress: r.NetworkMac ?? '', Aliases: null, DNSNames: null,
    };
  }
  const ports = Object.entries(r.HostConfig.PortBindings ?? {}).flatMap(([k, binds]) => (binds ?? []).map((b) => ({
    containerPort: Number(k.split('/')[0]), hostPort: Number(b.HostPort || 0), protocol: k.endsWith('/udp') ? 'udp' as const : 'tcp' as const,
    ...(b.HostIp ? { hostIp: b.HostIp } : {}),
  })));
  return { endpoints, ports };
}

/** Exposed ports (image EXPOSE, --expose, -p): docker lists them in NetworkSettings.Ports and ps even unpublished. */
function exposedKeys(r: ContainerRecord): string[] {
  const keys = new Set<string>(Object.keys((r.Config.ExposedPorts as Record<string, unknown> | undefined) ?? {}));
  for (const k of Object.keys(r.HostConfig.PortBindings ?? {})) keys.add(k);
  return [...keys];
}

/** A binding on every address (HostIp "") shows as 0.0.0.0 and :: in docker (both families are published). */
function hostIps(ip: string | undefined): string[] {
  return ip ? [ip] : ['0.0.0.0', '::'];
}

/** NetworkSettings.Ports: `{"80/tcp": [{HostIp, HostPort}], "53/udp": null}`; empty while the container is not running. */
export function portMap(r: ContainerRecord, running: boolean): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  if (!running) return out;
  for (const k of exposedKeys(r)) out[k] = null;
  for (const p of netOf(r).ports) {
    const k = `${p.containerPort}/${p.protocol ?? 'tcp'}`;
    const list = (out[k] ??= []);
    for (const ip of hostIps(p.hostIp)) list.push({ HostIp: ip, HostPort: String(p.hostPort) });
  }
  return out;
}

/** swagger Port[] for `GET /containers/json`. */
export function portSummaries(r: ContainerRecord, running: boolean): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  if (!running) return [];
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  const published = new Set<string>();
  for (const p of netOf(r).ports) {
    published.add(`${p.containerPort}/${p.protocol ?? 'tcp'}`);
    for (const ip of hostIps(p.hostIp)) out.push({ IP: ip, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol ?? 'tcp' });
  }
  for (const k of exposedKeys(r)) {
    if (published.has(k)) continue;
    const [port, proto] = k.split('/');
    out.push({ PrivatePort: Number(port), Type: proto ?? 'tcp' });
  }
  return out;
}

function endpointSettings(e: Endpoint | undefined, running: boolean): Record<string, unknown> {
  const live = running && e;
  return {
    IPAMConfig: null, Links: null, Aliases: e?.Aliases ?? null, MacAddress: live ? e.MacAddress : '', DriverOpts: null, GwPriority: 0,
    NetworkID: e?.NetworkID ?? '', EndpointID: live ? e.EndpointID : '', Gateway: live ? e.Gateway : '', IPAddress: live ? e.IPAddress : '',
    IPPrefixLen: live ? e.IPPrefixLen : 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: e?.DNSNames ?? null,
  };
}

/**
 * inspect's NetworkSettings. The default bridge's address also appears at the top level (docker's deprecated
 * fields, still filled for `bridge`); a stopped container keeps its networks but shows no addresses, as docker.
 */
export function networkSettings(r: ContainerRecord, running: boolean): Record<string, unknown> {
  const mode = r.HostConfig.NetworkMode ?? 'default';
  const net = netOf(r);
  const networks: Record<string, unknown> = {};
  if (mode === 'host' || mode === 'none') networks[mode] = endpointSettings({ ...blank(), NetworkID: mode === 'host' ? HOST_ID : NONE_ID }, false);
  for (const [name, e] of Object.entries(net.endpoints)) networks[name] = endpointSettings(e, running);
  const b = running ? net.endpoints.bridge : undefined;
  return {
    Bridge: '', SandboxID: running && Object.keys(net.endpoints).length ? r.Id : '', SandboxKey: Object.keys(net.endpoints).length && running ? `/run/netns/berth-${r.Id}` : '',
    Ports: portMap(r, running), HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null, EndpointID: b?.EndpointID ?? '', Gateway: b?.Gateway ?? '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    IPAddress: b?.IPAddress ?? '', IPPrefixLen: b?.IPPrefixLen ?? 0, IPv6Gateway: '', MacAddress: b?.MacAddress ?? '', Networks: networks,
  };
}

function blank(): Endpoint {
  return { NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', Aliases: null, DNSNames: null };
}

/**
 * `ps --filter publish=` / `expose=`: "80", "80/tcp", "8000-8080/udp" against the host ports published (while
 * running, as docker reads NetworkSettings.Ports) or the container ports exposed (its config).
 */
export function portFilter(r: ContainerRecord, running: boolean, kind: 'publish' | 'expose', v: string): boolean {
  const [range = '', proto] = v.split('/');
  const [a, b = a] = range.split('-').map(Number);
  if (!Number.isInteger(a) || !Number.isInteger(b)) return false;
  const hit = (port: number | undefined, type: string) => port !== undefined && port >= a! && port <= b! && (!proto || type === proto);
  if (kind === 'publish') return portSummaries(r, running).some((p) => p.IP !== undefined && hit(p.PublicPort, p.Type));
  return exposedKeys(r).some((k) => { const [p, t = 'tcp'] = k.split('/'); return hit(Number(p), t); });
}
