// Bridge networking through netavark (podman's network backend, Debian package): berth creates the network
// namespace and does IPAM; `netavark setup <netns>` builds the bridge, veth, addresses and port forwarding
// from a JSON description on stdin, `netavark teardown` undoes it from the same JSON. Verified here: a
// container on 10.88.x.0/24 answers on its own address, on 127.0.0.1:<hostPort> and on the host's address.
// netavark.ts finds and runs netavark and reads the options recorded per container.
//
// <stateDir>/networks/ipam-<bridge>.json       allocated addresses → container ids (until reboot, as netns);
//                                              keyed by the bridge interface, unique per network and daemon
// <stateDir>/networks/ctr-<container id>.json  the netavark options used at setup (replayed at teardown)
// <stateDir>/networks/ports/<proto>-<port>     a published host port → container id, created exclusively, so
//                                              daemons sharing the host never hand out the same port
// <stateDir>/networks/keeper-<bridge>.json     the daemon holding a default bridge's keeper (keepAlive)
// <stateDir>/networks/pool-<id>.json          {pid, bridge}: an endpoint made ahead (bridgepool.ts; same files as a
//                                              container's otherwise), until a container takes it
// /run/netns/berth-<container id>              the namespace (bind mount made by `ip netns add`)
import { createHash } from 'node:crypto';
import { mkdir, rm, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { atomicWriteJSON, readJSON } from '../fsutil/index.ts';
import { failedPrecondition, conflict, notFound } from '../errors/index.ts';
import type { NetworkDef, NetworksOptions, PortMapping, Attached } from './nettypes.ts';
import { PortClaims } from './ports.ts';
import { Ipam } from './ipam.ts';
import { attachVeth, detachVeth, dropNetns, bridgeUp, hostVeth } from './veth.ts';
import { bridgeNameFor, hostRoutes, defaultBridge, subnetsOverlap, chooseDefaultBridge, nextFreeSubnet, ipToInt, intToIp } from './subnets.ts';
import { BridgePool, type Prepared } from './bridgepool.ts';
import { aardvarkPath, netavarkPath, HOST_NETAVARK_LOCK, run, isVeth, keeperId, bridgeOf, portsOf, dnsReady, type CtrRecord } from './netavark.ts';

export { bridgeNameFor, hostRoutes, defaultBridge, subnetsOverlap };

export type { NetworkDef, NetworksOptions, PortMapping, Attached } from './nettypes.ts';

export class Networks {
  private readonly dir: string;

  private readonly opts: NetworksOptions;

  private readonly ports: PortClaims;
  private readonly ipam: Ipam;

  constructor(stateDir: string, opts: NetworksOptions = {}) {
    this.dir = join(stateDir, 'networks');
    this.opts = opts;
    this.ports = new PortClaims(join(this.dir, 'ports'));
    this.ipam = new Ipam(this.dir);
  }

  private chosen?: NetworkDef;

  /**
   * The default bridge: daemon.json `bip` or the first default-address-pool when configured; else the subnet its
   * interface already routes (a restarted daemon keeps it); else the first /16 (10.88.0.0/16 for an unseeded
   * daemon) or, seeded, a /24 of 10.128.0.0/9 from the seed on, that no host route overlaps. Chosen once.
   */
  defaultBridge(): NetworkDef {
    if (this.chosen) return this.chosen;
    const def = chooseDefaultBridge(this.opts, this.routes());
    // an ID of its own per bridge (docker's is random per daemon), stable across restarts
    return (this.chosen = { ...def, id: createHash('sha256').update(`berth network ${def.bridge}`).digest('hex') });
  }



  private routes(): { iface: string; subnet: string }[] {
    return (this.opts.hostRoutes ?? hostRoutes)();
  }

  /**
   * The first subnet of the configured pools overlapping none of `taken` (existing networks' subnets; the
   * default bridge's is always avoided) nor a host route. With the default pool a seeded daemon starts at its
   * seed's /24, so two daemons creating networks at once do not pick the same. FailedPrecondition with
   * docker's text when the pools are used up.
   */
  nextSubnet(taken: string[]): string {
    const avoid = [...taken, this.defaultBridge().subnet, ...this.routes().map((r) => r.subnet)];
    const cand = nextFreeSubnet(this.opts.pools ?? [{ base: '10.89.0.0/16', size: 24 }], this.opts.pools ? 0 : this.opts.seed ?? 0, avoid);
    if (cand) return cand;
    throw failedPrecondition('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network', { code: 'POOLS_EXHAUSTED' });
  }


  netnsPath(containerId: string): string { return `/run/netns/berth-${containerId}`; }

  private ctrFile(containerId: string): string { return join(this.dir, `ctr-${containerId}.json`); }

  private async record(containerId: string): Promise<CtrRecord> {
    const r = await readJSON<CtrRecord>(this.ctrFile(containerId));
    if (!r) return { networks: {} };
    // Written before connect existed: one network.
    if (!r.networks && r.network) return { networks: { [r.network]: r.options } };
    return r;
  }

  /** One netavark at a time per daemon: two setups racing on a new bridge both try to create it. */
  private nvLock: Promise<unknown> = Promise.resolve();

  /**
   * netavark also runs one at a time per host, under flock(1) on one lock file for every berthd: the iptables
   * chains it appends to (NETAVARK-*) are shared by all of them, and one daemon's teardown of its last network
   * deletes chains another daemon's setup is appending to ("No chain/target/match by that name", seen with
   * parallel test daemons). `-o`: the lock fd is not handed to netavark, whose aardvark-dns outlives it.
   */
  private netavark(cmd: 'setup' | 'teardown', containerId: string, options: unknown): Promise<string> {
    const go = () => run('flock', ['-o', HOST_NETAVARK_LOCK, netavarkPath(), '--config', join(this.dir, 'netavark'),
      '--aardvark-binary', this.opts.aardvark ?? aardvarkPath(), cmd, this.netnsPath(containerId)], JSON.stringify(options));
    const p = this.nvLock.then(go, go);
    this.nvLock = p.catch(() => {});
    return p;
  }

  private keepers = new Map<string, Promise<void>>();
  /** Bridges whose keeper is in place: joins without ports or DNS take the veth fast path. */
  private readonly kept = new Set<string>();

  /**
   * Keeps `net`'s bridge up between containers, as docker0 stays: netavark deletes a bridge (and rebuilds its
   * firewall chains next time) when its last endpoint leaves, which costs a container's setup + teardown
   * ~200 ms more. The keeper is an endpoint of berth's own (a namespace holding the subnet's last address) that
   * stays until dropKeepers() (daemon shutdown), so netavark's own teardown then cleans the bridge and rules.
   */
  keepAlive(net: NetworkDef): Promise<void> {
    let p = this.keepers.get(net.bridge);
    if (!p) {
      const id = keeperId(net.bridge);
      const [base, len] = net.subnet.split('/');
      const last = intToIp(ipToInt(base!) + 2 ** (32 - Number(len)) - 2);
      p = existsSync(this.netnsPath(id)) ? Promise.resolve()
        : this.setup(id, net, { name: `${net.bridge}-keeper`, ip: last }).then(() => {});
      // who holds it: sweepKeepers() of another daemon removes a keeper whose owner died and left no containers
      p = p.then(() => atomicWriteJSON(this.ownerFile(net.bridge), { pid: process.pid }))
        .then(() => { this.kept.add(net.bridge); }, (e) => { this.keepers.delete(net.bridge); throw e; });
      this.keepers.set(net.bridge, p);
    }
    return p;
  }

  /**
   * Daemon start: takes over the keeper a previous daemon on this data root left (killed before its stop),
   * so that this daemon's stop removes it. A no-op when there is none.
   */
  async adoptKeeper(net: NetworkDef): Promise<void> {
    if (existsSync(this.netnsPath(keeperId(net.bridge)))) await this.keepAlive(net).catch(() => {});
  }

  private ownerFile(bridge: string): string { return join(this.dir, `keeper-${bridge}.json`); }

  /**
   * Daemon start: removes keepers whose daemon is gone (killed, never restarted on its data root) when their
   * bridge holds nothing else — no container of that daemon is still running on it. `except`: this daemon's.
   */
  async sweepKeepers(except: string): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const n of names) {
      const m = /^keeper-(.+)\.json$/.exec(n);
      if (!m || m[1] === except) continue;
      const bridge = m[1]!;
      const owner = await readJSON<{ pid: number }>(join(this.dir, n));
      const alive = !!owner && (await readFile(`/proc/${owner.pid}/cmdline`, 'utf8').catch(() => '')).includes('berthd');
      if (alive) continue;
      await this.sweepPrepared((b) => b === bridge, new Set());
      const ports = await readdir(`/sys/class/net/${bridge}/brif`).catch(() => [] as string[]);
      if (ports.length > 1) continue;
      await this.teardown(keeperId(bridge)).catch(() => {});
      await rm(join(this.dir, n), { force: true });
    }
  }

  /**
   * Daemon start: tears down endpoints on `bridges` (this daemon's) whose container is not in `known` — left
   * when the daemon died while a background teardown (rm) was still running. Keepers are not touched.
   */
  async sweepOrphans(bridges: Set<string>, known: Set<string>): Promise<void> {
    const keepers = new Set([...bridges].map(keeperId));
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      const m = /^ctr-([0-9a-f]{64})\.json$/.exec(n);
      if (!m || known.has(m[1]!) || keepers.has(m[1]!)) continue;
      const rec = await this.record(m[1]!);
      const on = Object.entries(rec.networks).map(([name, o]) => bridgeOf(o, name));
      if (on.length && on.every((b) => bridges.has(b))) await this.teardown(m[1]!).catch(() => {});
    }
    await this.sweepPrepared((b) => bridges.has(b), known);
  }

  /** Tears down prepared endpoints (pool-<id>.json) left on bridges `mine` accepts, except `known` ids. */
  private async sweepPrepared(mine: (bridge: string) => boolean, known: Set<string>): Promise<void> {
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      const m = /^pool-([0-9a-f]{64})\.json$/.exec(n);
      const rec = m && !known.has(m[1]!) ? await readJSON<{ bridge: string }>(join(this.dir, n)) : undefined;
      if (rec && mine(rec.bridge)) await this.teardown(m![1]!).catch(() => {});
    }
  }

  private readonly pools = new Map<string, BridgePool>();

  /**
   * Keeps `size` (2) endpoints on `net` ready for containers without ports or DNS (bridgepool.ts: a prepared
   * endpoint's id becomes its container's); call once keepAlive(net) resolved. Once per bridge: after that the
   * pool refills itself after each take.
   */
  prepare(net: NetworkDef, o: { size?: number; onError?: (e: unknown) => void } = {}): void {
    if (this.pools.has(net.bridge)) return;
    const fastPath = (n: NetworkDef) => !n.dns && this.kept.has(n.bridge) && bridgeUp(n.bridge);
    // marked first: whoever finds it after a crash knows it is no container's (sweepPrepared)
    const setup = async (id: string, n: NetworkDef, opts: { name?: string }) => {
      await atomicWriteJSON(this.poolFile(id), { pid: process.pid, bridge: n.bridge });
      return this.setup(id, n, opts);
    };
    const p = new BridgePool({ setup, teardown: (id) => this.teardown(id), fastPath }, net, o.size, o.onError);
    this.pools.set(net.bridge, p);
    p.fill();
  }

  private poolFile(id: string): string { return join(this.dir, `pool-${id}.json`); }

  /** A prepared endpoint on `net` (create the container with its id), or undefined; refilled in the background. */
  async takePrepared(net: NetworkDef): Promise<Prepared | undefined> {
    const p = this.pools.get(net.bridge)?.take();
    if (p) await rm(this.poolFile(p.id), { force: true });
    return p;
  }

  /** Tears down the endpoints prepare() made and nobody took; a bridge's last endpoints go before its keeper. */
  async dropPrepared(): Promise<void> {
    for (const p of this.pools.values()) await p.close();
    this.pools.clear();
  }

  /** Tears down the prepared endpoints, then the keepers keepAlive() made or found (daemon shutdown). */
  async dropKeepers(): Promise<void> {
    await this.dropPrepared();
    for (const [bridge, p] of this.keepers) {
      await p.catch(() => {});
      await this.teardown(keeperId(bridge)).catch(() => {});
      await rm(this.ownerFile(bridge), { force: true });
    }
    this.keepers.clear();
    this.kept.clear();
  }

  /**
   * Creates the container's network namespace and attaches it to `net` with the given port mappings.
   * Resolves with the namespace path (for the runtime spec) and the address given.
   */
  async setup(containerId: string, net: NetworkDef, opts: { name?: string; aliases?: string[]; ports?: PortMapping[]; ip?: string } = {}): Promise<Attached> {
    netavarkPath();
    // netavark creates <config>/aardvark-dns but not <config> itself
    await mkdir(join(this.dir, 'netavark'), { recursive: true });
    // the veth fast path creates the namespace in its own `ip -batch` (one process fewer)
    const nsPending = !opts.ports?.length && !net.dns && this.kept.has(net.bridge);
    if (!nsPending) await run('ip', ['netns', 'add', `berth-${containerId}`]);
    try {
      return await this.join(containerId, net, opts, nsPending);
    } catch (e) {
      await this.teardown(containerId).catch(() => {});
      throw e;
    }
  }

  /**
   * docker network connect: attaches a container whose namespace setup() made to one more network (the next
   * ethN). Conflict when it is already on `net`; FailedPrecondition when it has no berth namespace (none/host).
   */
  async connect(containerId: string, net: NetworkDef, opts: { name?: string; aliases?: string[]; ip?: string } = {}): Promise<Attached> {
    if (!existsSync(this.netnsPath(containerId))) {
      throw failedPrecondition('container sharing network namespace with another container or host cannot be connected to any other network', { code: 'NETNS_MISSING' });
    }
    const rec = await this.record(containerId);
    if (rec.networks[net.name]) throw conflict(`endpoint with name ${opts.name ?? containerId.slice(0, 12)} already exists in network ${net.name}`, { code: 'ENDPOINT_EXISTS' });
    return this.join(containerId, net, opts);
  }

  /** docker network disconnect: detaches the container from `netName` only. NotFound when it is not on it. */
  async disconnect(containerId: string, netName: string): Promise<void> {
    const rec = await this.record(containerId);
    const options = rec.networks[netName];
    if (!options) throw notFound(`container ${containerId} is not connected to network ${netName}`, { code: 'NOT_CONNECTED' });
    if (isVeth(options)) await detachVeth(containerId);
    else await this.netavark('teardown', containerId, options).catch(() => {});
    await this.ipam.release(bridgeOf(options, netName), containerId);
    await this.ports.release(containerId, portsOf(options));
    delete rec.networks[netName];
    await atomicWriteJSON(this.ctrFile(containerId), { networks: rec.networks });
  }

  /** The networks a container is attached to (names). */
  async attachedTo(containerId: string): Promise<string[]> {
    return Object.keys((await this.record(containerId)).networks);
  }

  private async join(containerId: string, net: NetworkDef, opts: { name?: string; aliases?: string[]; ports?: PortMapping[]; ip?: string }, nsPending = false): Promise<Attached> {
    const rec = await this.record(containerId);
    const used = new Set(Object.values(rec.networks).map((o) => Object.values((o as { networks: Record<string, { interface_name: string }> }).networks)[0]?.interface_name));
    let n = 0;
    while (used.has(`eth${n}`)) n++;
    const ip = await this.ipam.allocate(net, containerId, opts.ip);
    const len = Number(net.subnet.split('/')[1]);
    const name = opts.name ?? containerId.slice(0, 12);
    const ports: PortMapping[] = [];
    try {
      for (const p of opts.ports ?? []) {
        const proto = p.protocol ?? 'tcp';
        // one host port for both address families and for a repeated -p of the same container port
        const same = ports.find((q) => q.containerPort === p.containerPort && q.protocol === proto && !p.hostPort);
        ports.push({ ...p, protocol: proto, hostPort: same?.hostPort ?? await this.ports.claim(containerId, p.hostPort, proto, p.hostIp) });
      }
    } catch (e) {
      await this.ports.release(containerId, ports.map((p) => ({ port: p.hostPort, proto: p.protocol ?? 'tcp' })));
      await this.ipam.release(net.bridge, containerId);
      throw e;
    }
    // a bridge its keeper holds up, no ports, no DNS: a veth pair is all it takes (veth.ts)
    if (!ports.length && !net.dns && n === 0 && this.kept.has(net.bridge) && bridgeUp(net.bridge)) {
      return this.joinVeth(containerId, net, rec, ip, len, nsPending);
    }
    if (nsPending) await run('ip', ['netns', 'add', `berth-${containerId}`]);
    const options = {
      container_id: containerId,
      container_name: name,
      port_mappings: ports.map((p) => ({ host_ip: p.hostIp ?? '', container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol ?? 'tcp' })),
      // aardvark answers for the container's name and aliases (docker adds the short id as an alias too)
      networks: { [net.name]: { static_ips: [ip], interface_name: `eth${n}`, aliases: net.dns ? [...new Set([name, containerId.slice(0, 12), ...(opts.aliases ?? [])])] : opts.aliases ?? [] } },
      network_info: {
        [net.name]: {
          name: net.name, id: net.id, driver: 'bridge', network_interface: net.bridge,
          subnets: [{ subnet: net.subnet, gateway: net.gateway }], ipv6_enabled: false, internal: !!net.internal,
          dns_enabled: !!net.dns, ipam_options: { driver: 'host-local' },
        },
      },
    };
    rec.networks[net.name] = options;
    await atomicWriteJSON(this.ctrFile(containerId), { networks: rec.networks });
    try {
      const out = JSON.parse(await this.netavark('setup', containerId, options)) as
        Record<string, { interfaces: Record<string, { mac_address: string; subnets: { ipnet: string; gateway: string }[] }>; dns_server_ips?: string[] }>;
      const iface = out[net.name]?.interfaces[`eth${n}`];
      const gateway = iface?.subnets[0]?.gateway ?? net.gateway;
      const dnsServers = net.dns ? (out[net.name]?.dns_server_ips?.length ? out[net.name]!.dns_server_ips! : [gateway]) : [];
      if (net.dns) await dnsReady(gateway);
      return {
        netnsPath: this.netnsPath(containerId), ip, prefixLen: len, gateway, mac: iface?.mac_address ?? '', dnsServers,
        resolvConf: dnsServers.length ? `search dns.podman\n${dnsServers.map((d) => `nameserver ${d}`).join('\n')}\n` : undefined,
        ports,
      };
    } catch (e) {
      // netavark may have made the bridge or veth before failing: undo what it did
      await this.netavark('teardown', containerId, options).catch(() => {});
      delete rec.networks[net.name];
      await atomicWriteJSON(this.ctrFile(containerId), { networks: rec.networks });
      await this.ipam.release(net.bridge, containerId);
      await this.ports.release(containerId, portsOf(options));
      throw e;
    }
  }

  private async joinVeth(containerId: string, net: NetworkDef, rec: CtrRecord, ip: string, len: number, createNs: boolean): Promise<Attached> {
    // netavark-shaped, so the interface-name bookkeeping reads it; berth_veth tells teardown there is no netavark state
    const options = { berth_veth: hostVeth(containerId), container_id: containerId, port_mappings: [], networks: { [net.name]: { static_ips: [ip], interface_name: 'eth0' } }, network_info: { [net.name]: { network_interface: net.bridge } } };
    rec.networks[net.name] = options;
    await atomicWriteJSON(this.ctrFile(containerId), { networks: rec.networks });
    try {
      const mac = await attachVeth({ ns: `berth-${containerId}`, containerId, bridge: net.bridge, ifname: 'eth0', ip, prefixLen: len, gateway: net.gateway, defaultRoute: true, createNs });
      return { netnsPath: this.netnsPath(containerId), ip, prefixLen: len, gateway: net.gateway, mac, dnsServers: [], ports: [] };
    } catch (e) {
      delete rec.networks[net.name];
      await atomicWriteJSON(this.ctrFile(containerId), { networks: rec.networks });
      await this.ipam.release(net.bridge, containerId);
      throw e;
    }
  }

  /** Undoes setup and every connect (port forwarding, veth, address, DNS entry, namespace). Safe to call twice. */
  async teardown(containerId: string): Promise<void> {
    const rec = await this.record(containerId);
    for (const [name, options] of Object.entries(rec.networks)) {
      // a veth pair goes with the namespace below; netavark's endpoints are undone by netavark
      if (!isVeth(options)) await this.netavark('teardown', containerId, options).catch(() => {});
      await this.ipam.release(bridgeOf(options, name), containerId);
      await this.ports.release(containerId, portsOf(options));
    }
    await rm(this.ctrFile(containerId), { force: true });
    await dropNetns(`berth-${containerId}`, Object.values(rec.networks).filter(isVeth).map((o) => (o as { berth_veth: string }).berth_veth));
    await rm(this.poolFile(containerId), { force: true });
  }

  /** The aardvark-dns process netavark started for this state dir, if any (to stop it when the state dir goes). */
  async aardvarkPid(): Promise<number | undefined> {
    try {
      const pid = Number((await readFile(join(this.dir, 'netavark', 'aardvark-dns', 'aardvark.pid'), 'utf8')).trim());
      return pid > 0 ? pid : undefined;
    } catch { return undefined; }
  }
}
