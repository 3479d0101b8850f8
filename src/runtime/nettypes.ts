// The nouns of bridge networking (network.ts drives them): a network, the daemon's network options, a published
// port, and what joining a network gave a container.

export interface NetworkDef {
  name: string;
  /** 64 hex. */
  id: string;
  /** The host bridge interface (≤ 15 chars). */
  bridge: string;
  /** IPv4 subnet "a.b.c.d/len" and its gateway. */
  subnet: string;
  gateway: string;
  internal?: boolean;
  /** Name resolution between its containers through aardvark-dns (docker: every user-defined network). */
  dns?: boolean;
}

export interface NetworksOptions {
  /** The default bridge's subnet (daemon.json `default-address-pools[0]`'s first subnet); default 10.88.0.0/16. */
  defaultSubnet?: string;
  /** daemon.json `bip` ("192.168.5.1/24"): the default bridge's gateway address and subnet; wins over defaultSubnet. */
  bip?: string;
  /** Pools user networks' subnets are cut from (daemon.json `default-address-pools`); default 10.89.0.0/16 in /24s. */
  pools?: { base: string; size: number }[];
  /** The aardvark-dns binary; default: podman's. */
  aardvark?: string;
  /** The default bridge's interface (daemon.json `bridge`); default `berth0` (see bridgeNameFor). */
  bridge?: string;
  /**
   * Where the default bridge's subnet and user networks' subnets are first looked for when nothing is
   * configured (bridgeNameFor's hash of the data root), so that daemons on different data roots start apart.
   * Undefined: 10.88.0.0/16 and the pools' first subnet, as before.
   */
  seed?: number;
  /** IPv4 routes on the host, avoided when choosing subnets (docker does the same); default /proc/net/route. */
  hostRoutes?: () => { iface: string; subnet: string }[];
}

export interface PortMapping {
  containerPort: number;
  /** 0: a free port of the ephemeral range (docker's `-p 80`), chosen at setup. */
  hostPort: number;
  protocol?: 'tcp' | 'udp';
  hostIp?: string;
}

export interface Attached {
  netnsPath: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  /** Name servers the container should use (the gateway, where aardvark-dns answers) when the network has dns. */
  dnsServers: string[];
  /** The container's resolv.conf for a dns network (pass as CreateOptions.resolvConf), else undefined. */
  resolvConf?: string;
  /** The port mappings as set up: random host ports (0) replaced by the ports chosen. */
  ports: PortMapping[];
}
