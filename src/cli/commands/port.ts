// `berth port` / `berth container port` (docker/cli cli/command/container/port.go): the published ports from
// inspect's NetworkSettings.Ports — every mapping as "80/tcp -> 0.0.0.0:8080", or for one private port its
// host addresses alone.
import { defineCommand } from '../spec.ts';
import { StatusError } from '../errors.ts';

type Bindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

/** Go's net.JoinHostPort: IPv6 literals in brackets. */
const joinHostPort = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/**
 * docker sorts the lines with sortorder.NaturalLess: runs of digits compared as numbers, everything else byte
 * by byte (so "0.0.0.0" sorts before "[::]", which localeCompare inverts).
 */
export function natural(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i]!, y[i]!];
    const digits = /^\d/.test(p) && /^\d/.test(q);
    if (digits && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (!digits && p !== q) return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

export const port = defineCommand({
  path: ['container', 'port'], aliases: [['port']], use: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container', args: { min: 1, max: 2 },
  async run(ctx, _o, args) {
    const [name, want] = args as [string, string?];
    const client = await ctx.client();
    const c = await client.json<{ NetworkSettings?: { Ports?: Bindings | null } }>('GET', `/containers/${encodeURIComponent(name)}/json`);
    const ports = c?.NetworkSettings?.Ports ?? {};
    const out: string[] = [];
    if (want !== undefined) {
      let [p, proto = 'tcp'] = want.split('/') as [string, string?];
      const n = Number(p);
      if (!/^\d+$/.test(p) || n > 65535) throw new StatusError(`Error: invalid port (${p}): invalid syntax`, 1);
      p = String(n);
      const key = `${p}/${proto}`;
      const b = ports[key];
      if (!b || b.length === 0) throw new StatusError(`Error: No public port '${want}' published for ${name}`, 1);
      for (const x of b) out.push(joinHostPort(x.HostIp ?? '', x.HostPort ?? ''));
    } else {
      for (const [key, b] of Object.entries(ports)) for (const x of b ?? []) out.push(`${key} -> ${joinHostPort(x.HostIp ?? '', x.HostPort ?? '')}`);
      out.sort(natural);
    }
    await ctx.out(out.map((l) => `${l}\n`).join(''));
  },
});
