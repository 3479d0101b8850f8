// Subnet arithmetic and choices for bridges: the default bridge's definition, overlap tests, the host's routes
// (subnets already in use, avoided as docker does), and the per-data-root bridge name and seed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NetworkDef, NetworksOptions } from './nettypes.ts';

export function ipToInt(ip: string): number { return ip.split('.').reduce((a, b) => a * 256 + Number(b), 0); }
export function intToIp(n: number): string { return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.'); }

/**
 * The default bridge's interface and subnet seed for a data root: `berth0` for the standard one, else
 * `berth` + 6 hex of the data root's sha256 (≤ 15 chars), so two daemons on one host never share a bridge.
 */
export function bridgeNameFor(dataRoot: string, standard = '/var/lib/berth'): { bridge: string; seed?: number } {
  if (dataRoot.replace(/\/+$/, '') === standard) return { bridge: 'berth0' };
  const h = createHash('sha256').update(dataRoot).digest();
  return { bridge: `berth${h.toString('hex').slice(0, 6)}`, seed: h.readUInt32BE(4) };
}

/** The host's IPv4 routes with a non-zero prefix (interface, "a.b.c.d/len"), from /proc/net/route. */
export function hostRoutes(): { iface: string; subnet: string }[] {
  let text = '';
  try { text = readFileSync('/proc/net/route', 'utf8'); } catch { return []; }
  const out: { iface: string; subnet: string }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // little-endian hex words
    const le = (h: string) => [6, 4, 2, 0].map((i) => parseInt(h.slice(i, i + 2), 16));
    const dst = le(f[1]!);
    const mask = le(f[7]!);
    const len = mask.reduce((a, b) => a + (b.toString(2).match(/1/g)?.length ?? 0), 0);
    if (len === 0) continue;
    out.push({ iface: f[0]!, subnet: `${dst.join('.')}/${len}` });
  }
  return out;
}

/**
 * The default bridge, like docker's `bridge` (subnet configurable through daemon.json by the daemon). With
 * `gateway` (daemon.json `bip`'s address) the subnet is the network `subnet` lies in.
 */
export function defaultBridge(subnet = '10.88.0.0/16', gateway?: string, bridge = 'berth0'): NetworkDef {
  const [base, lenS] = subnet.split('/');
  const len = Number(lenS);
  const net = intToIp(ipToInt(base!) - (ipToInt(base!) % 2 ** (32 - len)));
  return { name: 'bridge', id: 'b'.repeat(64), bridge, subnet: `${net}/${len}`, gateway: gateway ?? intToIp(ipToInt(net) + 1) };
}

/** Whether two "a.b.c.d/len" subnets overlap. */
export function subnetsOverlap(a: string, b: string): boolean {
  const [ab, al] = a.split('/');
  const [bb, bl] = b.split('/');
  const len = Math.min(Number(al), Number(bl));
  const m = 2 ** (32 - len);
  return Math.floor(ipToInt(ab!) / m) === Math.floor(ipToInt(bb!) / m);
}

/**
 * The default bridge for these options: `bip`, else the first default-address-pool, else the subnet its
 * interface already routes (a restarted daemon keeps it), else 10.88.0.0/16 for an unseeded daemon or a /24
 * of 10.128.0.0/9 from the seed on — the first that no host route overlaps.
 */
export function chooseDefaultBridge(opts: NetworksOptions, routes: { iface: string; subnet: string }[]): NetworkDef {
  const bridge = opts.bridge ?? 'berth0';
  if (opts.bip) {
    const [addr, len] = opts.bip.split('/');
    return defaultBridge(`${addr}/${len ?? '24'}`, addr, bridge);
  }
  if (opts.defaultSubnet) return defaultBridge(opts.defaultSubnet, undefined, bridge);
  const own = routes.find((r) => r.iface === bridge);
  if (own) return defaultBridge(own.subnet, undefined, bridge);
  const free = (c: string) => !routes.some((r) => subnetsOverlap(r.subnet, c));
  if (opts.seed === undefined && free('10.88.0.0/16')) return defaultBridge('10.88.0.0/16', undefined, bridge);
  const n = 2 ** 15;
  const start = (opts.seed ?? 0) % n;
  for (let i = 0; i < n; i++) {
    const cand = `${intToIp(ipToInt('10.128.0.0') + ((start + i) % n) * 256)}/24`;
    if (free(cand)) return defaultBridge(cand, undefined, bridge);
  }
  return defaultBridge('10.88.0.0/16', undefined, bridge);
}

/** The first subnet of `pools` (each cut into /size pieces, starting at piece `seed`) overlapping none of `avoid`. */
export function nextFreeSubnet(pools: { base: string; size: number }[], seed: number, avoid: string[]): string | undefined {
  for (const pool of pools) {
    const [base, lenS] = pool.base.split('/');
    const start = ipToInt(base!);
    const step = 2 ** (32 - pool.size);
    const count = 2 ** (32 - Number(lenS)) / step;
    const first = seed % count;
    for (let i = 0; i < count; i++) {
      const cand = `${intToIp(start + ((first + i) % count) * step)}/${pool.size}`;
      if (!avoid.some((t) => subnetsOverlap(t, cand))) return cand;
    }
  }
  return undefined;
}
