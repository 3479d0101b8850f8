// Network routes (swagger tag "Network"): list, inspect, create, remove, prune, connect/disconnect. The
// built-in networks are docker's three (bridge through netavark, host, none); a container without --network is
// on `bridge`, as with docker. User networks are bridges too (br-<12 hex of the id>), each its own /24 of the
// pools, recorded in <data-root>/networks.json. A container joins its network when it is created (joinNetwork:
// the namespace exists before the runtime starts it); connect/disconnect attach it to one more network. What a
// container is on is kept in its record (ContainerRecord.Net), which inspect and ps read (network-views.ts).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJSON, atomicWriteJSON } from '../../fsutil/index.ts';
import { conflict, invalidArgument, notFound, notImplemented } from '../../errors/index.ts';
import { Networks, bridgeNameFor, type NetworkDef, type PortMapping, type Attached } from '../../runtime/index.ts';
import type { Router, Context } from '../router.ts';
import type { Services } from '../services.ts';
import { containerStore, onLoad, stateOf, type ContainerRecord, type CreateBody, type HostConfig } from './container-store.ts';
import { netOf, HOST_ID, NONE_ID } from './network-views.ts';

interface UserNetwork extends NetworkDef { created: string; labels: Record<string, string>; driver: 'bridge' }

interface State { nets: Networks; user: UserNetwork[]; file: string }
const states = new WeakMap<Services, Promise<State>>();

function state(s: Services): Promise<State> {
  let p = states.get(s);
  if (!p) {
    const file = join(s.layout.root, 'networks.json');
    // daemon.json bip / default-address-pools choose the bridges' subnets (runtime Networks options); the
    // default bridge's interface is per data root (or daemon.json `bridge`), so daemons side by side never share one
    const pools = s.config['default-address-pools']?.length ? s.config['default-address-pools'] : undefined;
    const named = bridgeNameFor(s.layout.root);
    const netOpts = {
      bip: s.config.bip || undefined, defaultSubnet: pools?.[0] ? `${pools[0].base.split('/')[0]}/${pools[0].size}` : undefined, pools,
      bridge: s.config.bridge || named.bridge, seed: named.seed,
    };
    p = readJSON<UserNetwork[]>(file).then((user) => {
      const nets = new Networks(process.env.BERTH_EXEC_ROOT ?? '/run/berth', netOpts);
      // daemon stop: finish the teardowns still running, then let the default bridge go (keepAlive)
      s.hooks.close.push(async () => { await Promise.all([...leaving]); await nets.dropKeepers(); });
      return { nets, user: user ?? [], file };
    });
    states.set(s, p);
  }
  return p;
}

onLoad.push(async (s, store) => {
  // a keeper left by a killed daemon on this data root is ours to drop at stop, and so are endpoints on our
  // bridges whose container is gone (it died during a background teardown)
  const st = await state(s);
  await st.nets.adoptKeeper(st.nets.defaultBridge());
  await st.nets.sweepOrphans(new Set([st.nets.defaultBridge().bridge, ...st.user.map((u) => u.bridge)]), new Set(store.all().map((r) => r.Id)));
  // and one left by a killed daemon on another data root, once nothing runs on its bridge, is swept (in the background)
  st.nets.sweepKeepers(st.nets.defaultBridge().bridge).catch((e) => s.log.error(`keeper sweep: ${String(e)}`));
  // docker info's "Default Address Pools" when daemon.json sets them (dockerd shows only configured pools)
  s.hooks.info.push((info) => {
    const pools = s.config['default-address-pools'];
    if (pools?.length) Object.assign(info, { DefaultAddressPools: pools.map((p) => ({ Base: p.base, Size: p.size })) });
  });
});

/** One network a container is on, as inspect's NetworkSettings.Networks shows it (docker's EndpointSettings). */
export interface Endpoint {
  NetworkID: string; EndpointID: string; Gateway: string; IPAddress: string; IPPrefixLen: number; MacAddress: string;
  Aliases: string[] | null; DNSNames: string[] | null;
}

/** What berth keeps of a container's networking in its record (ContainerRecord.Net). */
export interface NetRecord {
  /** Network name → endpoint, in the order joined. */
  endpoints: Record<string, Endpoint>;
  /** Published ports as set up (random host ports resolved). */
  ports: PortMapping[];
}

/**
 * What a container's NetworkMode means: a bridge definition to join, the host's or an empty namespace, or
 * another container's (`container:NAME|ID`, joined when the container starts: joinedNetns()).
 */
export async function networkFor(s: Services, mode: string | undefined): Promise<{ kind: 'none' | 'host' } | { kind: 'container'; target: string } | { kind: 'bridge'; def: NetworkDef; nets: Networks }> {
  const st = await state(s);
  const m = mode || 'default';
  if (m === 'host') return { kind: 'host' };
  if (m === 'none') return { kind: 'none' };
  if (m === 'default' || m === 'bridge') return { kind: 'bridge', def: st.nets.defaultBridge(), nets: st.nets };
  if (m.startsWith('container:')) {
    if (m.length === 10) throw invalidArgument('Invalid network mode: invalid container format container:<name|id>');
    return { kind: 'container', target: m.slice(10) };
  }
  const u = st.user.find((n) => n.name === m || n.id === m || (m.length >= 3 && n.id.startsWith(m)));
  if (!u) throw notFound(`network ${m} not found`, { code: 'NETWORK_UNKNOWN' });
  return { kind: 'bridge', def: u, nets: st.nets };
}

/**
 * -p / -P: HostConfig.PortBindings (HostPort "" = a random host port) plus, with PublishAllPorts, every exposed
 * port (image EXPOSE and --expose) that has no binding, on a random host port — docker's rules.
 */
export function portMappings(hc: HostConfig, exposed: Record<string, unknown> | null | undefined): PortMapping[] {
  const out: PortMapping[] = [];
  const bindings = { ...(hc.PortBindings ?? {}) };
  if (hc.PublishAllPorts) for (const k of Object.keys(exposed ?? {})) if (!bindings[k]?.length) bindings[k] = [{ HostIp: '', HostPort: '' }];
  for (const [k, binds] of Object.entries(bindings)) {
    const [port, proto] = k.split('/');
    for (const b of binds ?? []) {
      const hostPort = Number(b.HostPort || 0);
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) throw invalidArgument(`invalid port specification: "${b.HostPort}"`);
      out.push({ containerPort: Number(port), hostPort, protocol: proto === 'udp' ? 'udp' : 'tcp', ...(b.HostIp ? { hostIp: b.HostIp } : {}) });
    }
  }
  return out;
}

function endpoint(net: NetworkDef, a: Attached, name: string, id: string): Endpoint {
  return {
    NetworkID: net.id, EndpointID: randomBytes(32).toString('hex'), Gateway: a.gateway, IPAddress: a.ip, IPPrefixLen: a.prefixLen,
    MacAddress: a.mac, Aliases: net.name === 'bridge' ? null : [], DNSNames: net.dns ? [name, id.slice(0, 12)] : null,
  };
}

/**
 * docker's checks of a container that joins another's namespace (moby runconfig validateNetContainerMode, in
 * its order): what would configure a network it does not own is refused, with docker's words.
 */
function checkContainerMode(body: CreateBody, hc: HostConfig): void {
  const conflicting = (what: string) => invalidArgument(`conflicting options: ${what}`);
  if (body.Hostname) throw conflicting('hostname and the network mode');
  if ((hc.Links as unknown[] | null | undefined)?.length) throw conflicting("container type network can't be used with links. This would result in undefined behavior");
  if ((hc.Dns as unknown[] | null | undefined)?.length) throw conflicting('dns and the network mode');
  if (hc.ExtraHosts?.length) throw conflicting('custom host-to-IP mapping and the network mode');
  if (body.MacAddress) throw conflicting('mac-address and the network mode');
  if (Object.keys(hc.PortBindings ?? {}).length || hc.PublishAllPorts) throw conflicting('port publishing and the container type network mode');
  if (Object.keys((body.ExposedPorts as object | null | undefined) ?? {}).length) throw conflicting('port exposing and the container type network mode');
}

/** A default-bridge endpoint made ahead: the container is created with its id (runtime bridgepool.ts). */
export type Prepared = NonNullable<Awaited<ReturnType<Networks['takePrepared']>>>;

const empty = (v: unknown): boolean => v == null || v === '' || (Array.isArray(v) ? !v.length : typeof v === 'object' && !Object.keys(v as object).length);

/**
 * A prepared endpoint for a container that asks nothing else of its network: the default bridge, no published
 * port, no --ip, --mac-address, --dns(-search, -option), --add-host, --link or alias (those take joinNetwork's
 * own set-up, as does every create while none is ready). Pass it to joinNetwork; if create fails before, call
 * leaveNetwork(its id).
 */
export async function takePrepared(s: Services, body: CreateBody, hc: HostConfig, exposed: Record<string, unknown> | null | undefined): Promise<Prepared | undefined> {
  if (hc.NetworkMode && hc.NetworkMode !== 'default' && hc.NetworkMode !== 'bridge') return undefined;
  try { if (portMappings(hc, exposed).length) return undefined; } catch { return undefined; }
  if (!empty(body.MacAddress) || ['Dns', 'DnsSearch', 'DnsOptions', 'ExtraHosts', 'Links'].some((k) => !empty(hc[k]))) return undefined;
  const eps = (body.NetworkingConfig as { EndpointsConfig?: Record<string, Record<string, unknown> | null> } | null | undefined)?.EndpointsConfig ?? {};
  for (const [k, e] of Object.entries(eps)) {
    if (k !== 'bridge' && k !== 'default') return undefined;
    if (['IPAMConfig', 'Aliases', 'MacAddress', 'Links', 'DriverOpts'].some((f) => !empty(e?.[f]))) return undefined;
  }
  const st = await state(s);
  return st.nets.takePrepared(st.nets.defaultBridge());
}

/** What create hands the runtime for the container's network, and what the record keeps of it. */
export interface Joined {
  network: { netns: string } | 'host' | 'none';
  /** --network container: the runtime container is made at start (joinedNetns() names the namespace then). */
  deferLaunch?: boolean;
  /** The joined container's hostname and resolv.conf (docker shares both). */
  hostname?: string;
  resolvConf?: string;
  record: Partial<ContainerRecord>;
  undo(): Promise<void>;
}

/**
 * Container create: joins the container's network (the default bridge for NetworkMode "default", as docker)
 * with its published ports. Returns the runtime's network option, the resolv.conf for dns networks, and what
 * the container record keeps (Net plus the primary address fields). `undo` leaves the network again.
 */
export async function joinNetwork(s: Services, id: string, name: string, body: CreateBody, hc: HostConfig, exposed: Record<string, unknown> | null | undefined, prepared?: Prepared): Promise<Joined> {
  // docker 26+ (moby#47431) stores the mode "default" aliases: inspect shows "bridge"
  if (!hc.NetworkMode || hc.NetworkMode === 'default') hc.NetworkMode = 'bridge';
  const netw = await networkFor(s, hc.NetworkMode);
  if (netw.kind === 'container') {
    checkContainerMode(body, hc);
    // docker keeps the mode as `container:<full id>` when the container exists; a missing one fails at start
    const target = (await containerStore(s)).all().find((r) => r.Id === netw.target || r.Name === `/${netw.target}`)
      ?? (netw.target.length >= 3 ? (await containerStore(s)).all().find((r) => r.Id.startsWith(netw.target)) : undefined);
    if (!target) return { network: 'none', deferLaunch: true, record: {}, undo: async () => {} };
    hc.NetworkMode = `container:${target.Id}`;
    const resolvConf = await readFile(join(s.runtime.dir(target.Id), 'resolv.conf'), 'utf8').catch(() => undefined);
    return { network: 'none', deferLaunch: true, hostname: target.Config.Hostname, resolvConf, record: {}, undo: async () => {} };
  }
  const ports = portMappings(hc, exposed);
  if (netw.kind !== 'bridge') return { network: netw.kind, record: {}, undo: async () => {} };
  const a = prepared?.id === id ? prepared.attached : await netw.nets.setup(id, netw.def, { name, ports });
  // the default bridge stays up between containers (docker0 does): saves the next run netavark's bridge set-up;
  // then endpoints are made on it ahead of the next containers (takePrepared)
  if (netw.def.name === 'bridge') {
    const nets = netw.nets;
    nets.keepAlive(netw.def).then(() => nets.prepare(netw.def, { onError: (e) => s.log.error(`default bridge endpoint: ${String(e)}`) }),
      (e) => s.log.error(`default bridge keeper: ${String(e)}`));
  }
  const net: NetRecord = { endpoints: { [netw.def.name]: endpoint(netw.def, a, name, id) }, ports: a.ports };
  return {
    network: { netns: a.netnsPath }, resolvConf: a.resolvConf,
    record: { Net: net, NetworkIP: a.ip, NetworkGateway: a.gateway, NetworkMac: a.mac, NetworkPrefixLen: a.prefixLen },
    undo: () => leaveNetwork(s, id),
  };
}

/**
 * The network namespace a `--network container:X` container joins as it starts: X's, through its init process
 * (moby getNetworkedContainer: X must exist, be another container, and run). Undefined for other modes.
 */
export async function joinedNetns(s: Services, r: ContainerRecord): Promise<string | undefined> {
  const mode = r.HostConfig.NetworkMode ?? '';
  if (!mode.startsWith('container:')) return undefined;
  const want = mode.slice(10);
  const target = (await containerStore(s)).get(want);
  if (target.Id === r.Id) throw invalidArgument('cannot join own network');
  const st = await stateOf(s, target.Id);
  if ((st.status !== 'running' && st.status !== 'paused') || !st.pid) {
    throw conflict(`cannot join network of a non running container: ${want}`, { code: 'NOT_RUNNING' });
  }
  return `/proc/${st.pid}/ns/net`;
}

/** Teardowns in flight (leaveNetwork does not wait for them). */
const leaving = new Set<Promise<void>>();

/**
 * Removes a container's network namespace (rm). It runs in the background: the container is gone for the
 * API at once (`run --rm` returns ~50–130 ms sooner), its address and host ports stay claimed until the
 * teardown has finished, so nothing can reuse them early; daemon stop waits for it.
 */
export async function leaveNetwork(s: Services, id: string): Promise<void> {
  const nets = (await state(s)).nets;
  const p: Promise<void> = nets.teardown(id).catch((e) => s.log.error(`network teardown ${id}: ${String(e)}`)).finally(() => leaving.delete(p));
  leaving.add(p);
}

async function body(s: Services, n: { name: string; id: string; driver: string; subnet?: string; gateway?: string; created?: string; labels?: Record<string, string>; internal?: boolean; options?: Record<string, string> }): Promise<Record<string, unknown>> {
  const containers: Record<string, unknown> = {};
  for (const r of (await containerStore(s)).all()) {
    const e = netOf(r).endpoints[n.name];
    if (!e) continue;
    containers[r.Id] = { Name: r.Name.slice(1), EndpointID: e.EndpointID, MacAddress: e.MacAddress, IPv4Address: `${e.IPAddress}/${e.IPPrefixLen}`, IPv6Address: '' };
  }
  return {
    Name: n.name, Id: n.id, Created: n.created ?? '0001-01-01T00:00:00Z', Scope: 'local', Driver: n.driver, EnableIPv4: true, EnableIPv6: false,
    // dockerd: Options {} for a network created through the API, null for the built-in ones
    IPAM: { Driver: 'default', Options: n.labels ? {} : null, Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [] },
    Internal: !!n.internal, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: n.options ?? {}, Labels: n.labels ?? {},
  };
}

async function all(s: Services): Promise<Record<string, unknown>[]> {
  const st = await state(s);
  const b = st.nets.defaultBridge();
  return Promise.all([
    body(s, {
      name: 'bridge', id: b.id, driver: 'bridge', subnet: b.subnet, gateway: b.gateway, created: new Date(s.startedAt).toISOString(),
      // docker's default-bridge options; bridge.name is this daemon's interface
      options: {
        'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': b.bridge, 'com.docker.network.driver.mtu': '1500',
      },
    }),
    body(s, { name: 'host', id: HOST_ID, driver: 'host', created: new Date(s.startedAt).toISOString() }),
    body(s, { name: 'none', id: NONE_ID, driver: 'null', created: new Date(s.startedAt).toISOString() }),
    ...st.user.map((u) => body(s, { ...u, driver: 'bridge' })),
  ]);
}

async function find(s: Services, idOrName: string): Promise<Record<string, unknown>> {
  const list = await all(s);
  const hit = list.find((n) => n.Name === idOrName || n.Id === idOrName) ?? list.filter((n) => (n.Id as string).startsWith(idOrName));
  if (Array.isArray(hit)) {
    if (hit.length === 1) return hit[0]!;
    throw notFound(`network ${idOrName} not found`, { code: 'NETWORK_UNKNOWN' });
  }
  return hit;
}

async function list(ctx: Context): Promise<void> {
  const f = ctx.filters(['name', 'id', 'driver', 'type', 'label', 'scope', 'dangling']);
  const out = (await all(ctx.services)).filter((n) =>
    (!f.get('name') || f.get('name')!.some((v) => (n.Name as string).includes(v)))
    && (!f.get('id') || f.get('id')!.some((v) => (n.Id as string).startsWith(v)))
    && (!f.get('driver') || f.get('driver')!.includes(n.Driver as string))
    && (!f.get('type') || f.get('type')!.includes(['bridge', 'host', 'none'].includes(n.Name as string) ? 'builtin' : 'custom')));
  ctx.json(out);
}

async function inspect(ctx: Context): Promise<void> {
  ctx.json(await find(ctx.services, ctx.params.id!));
}

async function create(ctx: Context): Promise<void> {
  const s = ctx.services;
  const st = await state(s);
  const b = (await ctx.readJSON<{ Name?: string; Driver?: string; Internal?: boolean; Labels?: Record<string, string>; IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] } }>()) ?? {};
  if (!b.Name) throw invalidArgument('network name cannot be empty');
  if (b.Driver && b.Driver !== 'bridge') throw notImplemented(`network driver "${b.Driver}" is not supported`);
  if (['bridge', 'host', 'none'].includes(b.Name) || st.user.some((n) => n.name === b.Name)) {
    throw conflict(`network with name ${b.Name} already exists`, { code: 'NETWORK_EXISTS' });
  }
  const subnet = b.IPAM?.Config?.[0]?.Subnet ?? st.nets.nextSubnet(st.user.map((u) => u.subnet));
  const o = subnet.split('/')[0]!.split('.').map(Number);
  const id = randomBytes(32).toString('hex');
  const net: UserNetwork = {
    name: b.Name, id, bridge: `br-${id.slice(0, 12)}`, subnet, gateway: b.IPAM?.Config?.[0]?.Gateway ?? `${o[0]}.${o[1]}.${o[2]}.${o[3]! + 1}`,
    internal: !!b.Internal, dns: true, created: new Date().toISOString(), labels: b.Labels ?? {}, driver: 'bridge',
  };
  st.user.push(net);
  await atomicWriteJSON(st.file, st.user);
  s.events.publish({ Type: 'network', Action: 'create', id, attributes: { name: net.name, type: 'bridge' } });
  ctx.json({ Id: id, Warning: '' }, 201);
}

async function removeNet(s: Services, st: State, n: UserNetwork): Promise<void> {
  const users = (await containerStore(s)).all().filter((r) => r.HostConfig.NetworkMode === n.name || netOf(r).endpoints[n.name]);
  if (users.length) throw conflict(`error while removing network: network ${n.name} id ${n.id} has active endpoints`, { code: 'NETWORK_IN_USE' });
  st.user = st.user.filter((u) => u.id !== n.id);
  await atomicWriteJSON(st.file, st.user);
  s.events.publish({ Type: 'network', Action: 'destroy', id: n.id, attributes: { name: n.name, type: 'bridge' } });
}

async function remove(ctx: Context): Promise<void> {
  const s = ctx.services;
  const st = await state(s);
  const want = ctx.params.id!;
  if (['bridge', 'host', 'none'].includes(want)) throw invalidArgument(`${want} is a pre-defined network and cannot be removed`);
  const n = st.user.find((u) => u.name === want || u.id === want || u.id.startsWith(want));
  if (!n) throw notFound(`network ${want} not found`, { code: 'NETWORK_UNKNOWN' });
  await removeNet(s, st, n);
  ctx.empty();
}

async function prune(ctx: Context): Promise<void> {
  const s = ctx.services;
  const st = await state(s);
  const deleted: string[] = [];
  for (const n of [...st.user]) {
    try { await removeNet(s, st, n); deleted.push(n.name); } catch { /* in use */ }
  }
  // dockerd's order is its store's map order (arbitrary); names sorted are at least the same from run to run
  ctx.json({ NetworksDeleted: deleted.sort() });
}

/** POST /networks/{id}/connect|disconnect: runtime Networks.connect/disconnect on the container's namespace. */
async function connection(ctx: Context, join_: boolean): Promise<void> {
  const s = ctx.services;
  const st = await state(s);
  const b = (await ctx.readJSON<{ Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null }>()) ?? {};
  const want = ctx.params.id!;
  const net = want === 'bridge' ? st.nets.defaultBridge() : st.user.find((u) => u.name === want || u.id === want || u.id.startsWith(want));
  if (!net) throw notFound(`network ${want} not found`, { code: 'NETWORK_UNKNOWN' });
  const store = await containerStore(s);
  const r = store.get(b.Container ?? '');
  if (join_ && r.HostConfig.NetworkMode?.startsWith('container:')) {
    throw invalidArgument('container sharing network namespace with another container or host cannot be connected to any other network');
  }
  // the record follows, so inspect and `network inspect` show the second network (or no longer do)
  const rec = netOf(r);
  if (join_) {
    const a = await st.nets.connect(r.Id, net, { name: r.Name.slice(1), aliases: b.EndpointConfig?.Aliases ?? undefined, ip: b.EndpointConfig?.IPAMConfig?.IPv4Address || undefined });
    const e = endpoint(net, a, r.Name.slice(1), r.Id);
    if (b.EndpointConfig?.Aliases) e.Aliases = [...b.EndpointConfig.Aliases];
    r.Net = { endpoints: { ...rec.endpoints, [net.name]: e }, ports: rec.ports };
  } else {
    await st.nets.disconnect(r.Id, net.name);
    const endpoints = { ...rec.endpoints };
    delete endpoints[net.name];
    r.Net = { endpoints, ports: rec.ports };
  }
  await store.put(r);
  s.events.publish({ Type: 'network', Action: join_ ? 'connect' : 'disconnect', id: net.id, attributes: { container: r.Id, name: net.name, type: 'bridge' } });
  ctx.empty(200);
}

export default function register(r: Router): void {
  r.get('/networks', list);
  r.post('/networks/create', create);
  r.post('/networks/prune', prune);
  r.get('/networks/{id}', inspect);
  r.delete('/networks/{id}', remove);
  r.post('/networks/{id}/connect', (ctx) => connection(ctx, true));
  r.post('/networks/{id}/disconnect', (ctx) => connection(ctx, false));
}
