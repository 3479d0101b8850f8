// netavark's side of bridge networking (network.ts drives it): where netavark and aardvark-dns are installed,
// running a command with its JSON on stdin, what berth records of the options a container was set up with (so
// that teardown replays them), and the wait for aardvark-dns to listen.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { accessSync, constants } from 'node:fs';
import { failedPrecondition, internal } from '../errors/index.ts';

export function aardvarkPath(): string {
  for (const p of ['/usr/libexec/podman/aardvark-dns', '/usr/lib/podman/aardvark-dns', '/usr/bin/aardvark-dns']) {
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return '/usr/lib/podman/aardvark-dns';
}

export function netavarkPath(): string {
  for (const p of ['/usr/libexec/podman/netavark', '/usr/lib/podman/netavark', '/usr/bin/netavark']) {
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  throw failedPrecondition('netavark not found (install netavark for bridge networking)', { code: 'NETAVARK_MISSING' });
}

/** flock(1)'s lock file serialising netavark across every berthd on the host (see Networks.netavark). */
export const HOST_NETAVARK_LOCK = '/run/berth-netavark.lock';

export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (c) => (c === 0 ? resolve(out) : reject(internal(`${cmd} ${args.join(' ')}: ${err.trim() || out.trim() || `exit ${c}`}`))));
    // a command that fails before reading its input: its exit status and output are the error, not EPIPE
    p.stdin.on('error', () => {});
    p.stdin.end(input ?? '');
  });
}

/** Whether recorded options are a veth.ts fast-path endpoint (no netavark state). */
export function isVeth(options: unknown): boolean {
  return !!(options as { berth_veth?: string }).berth_veth;
}

/** The keeper endpoint's id for a bridge (64 hex, like a container's). */
export function keeperId(bridge: string): string {
  return createHash('sha256').update(`berth keeper ${bridge}`).digest('hex');
}

/** The bridge interface of a network's recorded netavark options (its IPAM file's key). */
export function bridgeOf(options: unknown, name: string): string {
  return (options as { network_info?: Record<string, { network_interface?: string }> }).network_info?.[name]?.network_interface ?? name;
}

/** The host ports a network's recorded netavark options publish. */
export function portsOf(options: unknown): { port: number; proto: 'tcp' | 'udp' }[] {
  return ((options as { port_mappings?: { host_port: number; protocol: string }[] }).port_mappings ?? [])
    .map((p) => ({ port: p.host_port, proto: p.protocol === 'udp' ? 'udp' as const : 'tcp' as const }));
}

/** What ctr-<id>.json holds: the netavark options of every network the container joined, replayed at teardown. */
export interface CtrRecord { networks: Record<string, unknown>; network?: string; options?: unknown }

/**
 * netavark 1.4 returns as soon as it has spawned aardvark-dns; a second setup right after sends it SIGHUP
 * (reload) before it has a handler, which kills it. So a dns setup returns once aardvark listens on
 * <gateway>:53 (/proc/net/udp of this, the host's, namespace), or after 5 s (left to the container's retries).
 */
export async function dnsReady(gateway: string): Promise<void> {
  const hex = gateway.split('.').map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase()).reverse().join('') + ':0035';
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    const udp = await readFile('/proc/net/udp', 'utf8').catch(() => '');
    if (udp.includes(` ${hex} `)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
