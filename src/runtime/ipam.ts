// Address management for berth's bridges: which address of a network's subnet each container holds, in
// <dir>/ipam-<bridge>.json (keyed by the bridge interface, unique per network and daemon). berthd is the only
// writer of its bridges' files, so a promise chain serialises the read-modify-write within the process.
import { join } from 'node:path';
import { atomicWriteJSON, readJSON } from '../fsutil/index.ts';
import { conflict, failedPrecondition, invalidArgument } from '../errors/index.ts';
import type { NetworkDef } from './nettypes.ts';
import { ipToInt, intToIp } from './subnets.ts';

export class Ipam {
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string) {}

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const p = this.lock.then(run, run);
    this.lock = p.catch(() => {});
    return p;
  }

  /**
   * An address of `net` for the container: `wanted` (InvalidArgument outside the subnet, Conflict when another
   * holds it) or the lowest free one after the gateway; FailedPrecondition when the subnet is full.
   */
  allocate(net: NetworkDef, containerId: string, wanted?: string): Promise<string> {
    const run = async (): Promise<string> => {
      const file = join(this.dir, `ipam-${net.bridge}.json`);
      const used = (await readJSON<Record<string, string>>(file)) ?? {};
      const [base, lenS] = net.subnet.split('/');
      const len = Number(lenS);
      const first = ipToInt(base!) + 2;
      const last = ipToInt(base!) + 2 ** (32 - len) - 2;
      let ip: string | undefined;
      if (wanted) {
        const w = ipToInt(wanted);
        if (w < first - 1 || w > last) throw invalidArgument(`no configured subnet contains IP address ${wanted}`, { code: 'IP_INVALID' });
        if (used[wanted] && used[wanted] !== containerId) throw conflict(`Address already in use`, { code: 'IP_IN_USE' });
        ip = wanted;
      } else {
        for (let n = first; n <= last; n++) if (!used[intToIp(n)] && intToIp(n) !== net.gateway) { ip = intToIp(n); break; }
      }
      if (!ip) throw failedPrecondition(`no available IPv4 addresses on network ${net.name}`, { code: 'IPAM_EXHAUSTED' });
      used[ip] = containerId;
      await atomicWriteJSON(file, used);
      return ip;
    };
    return this.serial(run);
  }

  /** Frees every address the container holds on the bridge. */
  release(bridge: string, containerId: string): Promise<void> {
    const run = async (): Promise<void> => {
      const file = join(this.dir, `ipam-${bridge}.json`);
      const used = (await readJSON<Record<string, string>>(file)) ?? {};
      for (const [ip, id] of Object.entries(used)) if (id === containerId) delete used[ip];
      await atomicWriteJSON(file, used);
    };
    return this.serial(run);
  }
}
