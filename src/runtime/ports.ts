// Published host ports (docker's portallocator): `-p 8080:80` claims 8080, `-p 80` the first free port of the
// kernel's ephemeral range (ip_local_port_range, 32768–60999 by default), as dockerd does. A claim is a file
// created exclusively under <dir>/<proto>-<port> holding the container id, so every berthd on the host (they
// share the exec root) sees the others' claims; a claim whose container has no namespace any more is stale
// (daemon killed, host rebooted) and is taken over.
import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { conflict, failedPrecondition } from '../errors/index.ts';

export type Proto = 'tcp' | 'udp';

/** The kernel's ephemeral port range. */
export function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (a && b && a <= b) return [a, b];
  } catch { /* not Linux */ }
  return [32768, 60999];
}

/** Whether nothing on the host listens on `port` (a DNAT'ed port would steal that listener's traffic). */
function bindable(port: number, proto: Proto): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => { s.close(); resolve(false); });
      s.bind(port, '0.0.0.0', () => s.close(() => resolve(true)));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export class PortClaims {
  constructor(private readonly dir: string, private readonly alive: (containerId: string) => boolean = (id) => existsSync(`/run/netns/berth-${id}`)) {}

  private file(port: number, proto: Proto): string { return join(this.dir, `${proto}-${port}`); }

  /** Claims `port` for the container; false when someone else holds it (a stale claim is taken over). */
  private async tryClaim(port: number, proto: Proto, containerId: string): Promise<boolean> {
    const f = this.file(port, proto);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const h = await open(f, 'wx');
        await h.writeFile(containerId);
        await h.close();
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = (await readFile(f, 'utf8').catch(() => '')).trim();
        if (holder === containerId) return true;
        if (holder && this.alive(holder)) return false;
        await rm(f, { force: true });
      }
    }
    return false;
  }

  /**
   * Claims a host port: `port` itself (Conflict with docker's "port is already allocated" when taken) or, for 0,
   * the first free one of the ephemeral range nothing on the host listens on.
   */
  async claim(containerId: string, port: number, proto: Proto, hostIp = ''): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    if (port) {
      if (await this.tryClaim(port, proto, containerId)) return port;
      throw conflict(`Bind for ${hostIp || '0.0.0.0'}:${port} failed: port is already allocated`, { code: 'PORT_ALLOCATED' });
    }
    const [lo, hi] = ephemeralRange();
    for (let p = lo; p <= hi; p++) {
      if (existsSync(this.file(p, proto))) {
        const holder = (await readFile(this.file(p, proto), 'utf8').catch(() => '')).trim();
        if (holder && this.alive(holder)) continue;
      }
      if (!(await bindable(p, proto))) continue;
      if (await this.tryClaim(p, proto, containerId)) return p;
    }
    throw failedPrecondition('all ports are allocated', { code: 'PORTS_EXHAUSTED' });
  }

  /** Drops the container's claims on `ports` (those it holds; another holder's stay). */
  async release(containerId: string, ports: { port: number; proto: Proto }[]): Promise<void> {
    await Promise.all(ports.map(async ({ port, proto }) => {
      const f = this.file(port, proto);
      if ((await readFile(f, 'utf8').catch(() => '')).trim() === containerId) await rm(f, { force: true });
    }));
  }
}
