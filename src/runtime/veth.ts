// The default bridge's fast path: attaching a container without published ports to a bridge that is already up
// (its keeper holds it, so netavark has made the bridge, the addresses and the NAT/forward rules) needs only a
// veth pair — two `ip -batch` runs (~10 ms) instead of a netavark setup (~100 ms of iptables checks here). The
// namespace's deletion removes the pair, so there is nothing else to tear down. Ports still go through netavark
// (it owns the DNAT rules).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { internal } from '../errors/index.ts';

function ipBatch(args: string[], lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', [...args, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (c) => (c === 0 ? resolve() : reject(internal(`ip ${args.join(' ')} -batch: ${err.trim() || `exit ${c}`}`, { code: 'VETH' }))));
    p.stdin.on('error', () => {});
    p.stdin.end(lines.join('\n') + '\n');
  });
}

/** docker's MAC for an address: 02:42 then the IPv4 bytes (172.17.0.2 → 02:42:ac:11:00:02). */
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/** The host end's name for a container (≤ 15 chars, unique per container). */
export function hostVeth(containerId: string): string {
  return `vb${containerId.slice(0, 12)}`;
}

/** Whether the bridge interface exists (and so its firewall rules, which live as long as its keeper). */
export function bridgeUp(bridge: string): boolean {
  return existsSync(`/sys/class/net/${bridge}/bridge`);
}

/**
 * A veth pair: `ifname` in namespace `ns` (made first with `createNs`) with ip/prefix, default route via
 * `gateway`, MAC from the address; the host end enslaved to `bridge` and up. Undoes a half-made pair on failure
 * (the namespace is the caller's to delete).
 */
export async function attachVeth(o: { ns: string; containerId: string; bridge: string; ifname: string; ip: string; prefixLen: number; gateway: string; defaultRoute: boolean; createNs?: boolean }): Promise<string> {
  const host = hostVeth(o.containerId);
  const mac = macFor(o.ip);
  try {
    await ipBatch([], [
      ...(o.createNs ? [`netns add ${o.ns}`] : []),
      `link add ${host} type veth peer name ${o.ifname} address ${mac} netns ${o.ns}`,
      `link set ${host} master ${o.bridge}`,
      `link set ${host} up`,
    ]);
    await ipBatch(['-n', o.ns], [
      'link set lo up',
      `addr add ${o.ip}/${o.prefixLen} dev ${o.ifname}`,
      `link set ${o.ifname} up`,
      ...(o.defaultRoute ? [`route add default via ${o.gateway} dev ${o.ifname}`] : []),
    ]);
  } catch (e) {
    await ipBatch([], [`link del ${host}`]).catch(() => {});
    throw e;
  }
  return mac;
}

/**
 * Deletes namespace `ns` (`ip netns delete`), removing the host ends `hostEnds` first in the same `ip` run: a
 * namespace's own teardown runs later in the kernel (a workqueue after RCU grace periods, up to hundreds of ms
 * under load), and until then its veth pairs are still ports of the bridge — netavark would keep a bridge it
 * should delete, a keeper sweep would see a bridge in use. Resolves when done; errors (already gone) are ignored.
 */
export function dropNetns(ns: string, hostEnds: string[]): Promise<void> {
  return ipBatch(['-force'], [...hostEnds.map((h) => `link del ${h}`), `netns delete ${ns}`]).catch(() => {});
}

/** Removes the pair (disconnect; a namespace's deletion removes it anyway). */
export function detachVeth(containerId: string): Promise<void> {
  return ipBatch([], [`link del ${hostVeth(containerId)}`]).catch(() => {});
}
