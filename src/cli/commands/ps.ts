// `berth ps` / `berth container ls` (docker/cli cli/command/container/list.go, formatter/container.go).
import { parseNormalizedNamed, familiar } from '../../reference/index.ts';
import { renderRows, contextJSON, truncateID, since, humanSizeWithPrecision } from '../format/index.ts';
import { defineCommand } from '../spec.ts';
import { parseFilters, goTimeString } from '../util.ts';
import { ellipsis } from './history.ts';
import { FORMAT_HELP } from './flags.ts';

/** swagger: ContainerSummary (what `ps` reads of it). */
export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State: string;
  Status: string;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts?: Array<{ Name?: string; Source?: string; Driver?: string }> | null;
}

const TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const HEADER: Record<string, string> = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS',
};

/** docker's DisplayablePorts: "0.0.0.0:80->9090/tcp, 9988/tcp", consecutive ports grouped into ranges. */
export function displayablePorts(ports: NonNullable<ContainerSummary['Ports']>): string {
  // Go's byte-wise string order (docker's comparePorts): "0.0.0.0" before "::", which localeCompare inverts
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const sorted = [...ports].sort((a, b) => a.PrivatePort - b.PrivatePort || cmp(a.IP ?? '', b.IP ?? '')
    || (a.PublicPort ?? 0) - (b.PublicPort ?? 0) || cmp(a.Type, b.Type));
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const hostPort = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const form = (key: string, g: { first: number; last: number }) => {
    const [a, b] = key.split('/') as [string, string?];
    const type = b ?? a;
    const ip = b !== undefined ? a : '';
    let s = g.first === g.last ? String(g.first) : `${g.first}-${g.last}`;
    if (ip) s = `${hostPort(ip, s)}->${s}`;
    return `${s}/${type}`;
  };
  for (const p of sorted) {
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== p.PrivatePort) { hostMappings.push(`${hostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`); continue; }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) { groups.set(key, { first: p.PrivatePort, last: p.PrivatePort }); continue; }
    if (p.PrivatePort === g.last + 1) { g.last = p.PrivatePort; continue; }
    result.push(form(key, g));
    groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
  }
  for (const [k, g] of groups) result.push(form(k, g));
  return [...result, ...hostMappings].join(', ');
}

/** One row of `ps`: docker's formatter.ContainerContext. */
export class ContainerRow {
  static goType = '*formatter.ContainerContext';
  constructor(private readonly c: ContainerSummary, private readonly trunc: boolean) {}
  get ID(): string { return this.trunc ? truncateID(this.c.Id) : this.c.Id; }
  get Names(): string {
    const names = (this.c.Names ?? []).map((n) => n.replace(/^\//, ''));
    if (this.trunc) return names.find((n) => !n.includes('/')) ?? '';
    return names.join(',');
  }
  get Image(): string {
    const img = this.c.Image;
    if (!img) return '<no image>';
    if (!this.trunc) return img;
    if (truncateID(this.c.ImageID ?? '') === truncateID(img)) return truncateID(img);
    try {
      const r = parseNormalizedNamed(img);
      return familiar(r.digest ? { domain: r.domain, path: r.path, ...(r.tag !== undefined ? { tag: r.tag } : {}) } : r);
    } catch {
      return img;
    }
  }
  get Command(): string { return JSON.stringify(this.trunc ? ellipsis(this.c.Command ?? '', 20) : this.c.Command ?? ''); }
  get CreatedAt(): string { return goTimeString(this.c.Created); }
  get RunningFor(): string { return since(this.c.Created); }
  get Ports(): string { return displayablePorts(this.c.Ports ?? []); }
  get State(): string { return this.c.State; }
  get Status(): string { return this.c.Status; }
  get Size(): string {
    const rw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    return (this.c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSizeWithPrecision(this.c.SizeRootFs!, 3)})` : rw;
  }
  get Labels(): string {
    return Object.entries(this.c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
  }
  Label(name: string): string { return this.c.Labels?.[name] ?? ''; }
  get Mounts(): string {
    return (this.c.Mounts ?? []).map((m) => { const n = m.Name || m.Source || ''; return this.trunc ? ellipsis(n, 15) : n; }).join(',');
  }
  get LocalVolumes(): string { return String((this.c.Mounts ?? []).filter((m) => m.Driver === 'local').length); }
  get Networks(): string { return Object.keys(this.c.NetworkSettings?.Networks ?? {}).join(','); }
  /** The image manifest's platform; null until the daemon reports ImageManifestDescriptor. */
  get Platform(): string | null {
    const p = (this.c as { ImageManifestDescriptor?: { platform?: { os: string; architecture: string; variant?: string } } }).ImageManifestDescriptor?.platform;
    return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : null;
  }
  toJSON(): Record<string, unknown> { return contextJSON(this, [...Object.keys(HEADER), 'Platform']); }
}

export const ps = defineCommand({
  path: ['container', 'ls'],
  aliases: ['list', 'ps', ['ps']],
  use: '[OPTIONS]',
  short: 'List containers',
  args: 'none',
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', valueName: 'string', help: FORMAT_HELP },
    { name: 'last', short: 'n', type: 'int', valueName: 'int', default: -1, help: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
  async run(ctx, opts) {
    const filters = parseFilters(opts.list('filter'), ctx.commandPath, this.use);
    let format = opts.str('format') || 'table';
    const quiet = opts.bool('quiet');
    // docker asks for sizes (costly) only when the template reads .Size — {{json .}} does, `--format json` not
    const size = opts.bool('size') || (!quiet && (format.includes('.Size') || /\{\{-?\s*json\s+\.\s*-?\}\}/.test(format)));
    if (format === 'table') format = quiet ? '{{.ID}}' : size ? `${TABLE}\t{{.Size}}` : TABLE;
    else if (quiet) format = '{{.ID}}';
    let limit = opts.int('last');
    if (opts.bool('latest') && limit === -1) limit = 1;
    const client = await ctx.client();
    const list = await client.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: opts.bool('all') || undefined, limit: limit > 0 ? limit : undefined, size: size || undefined, filters },
    });
    const rows = (list ?? []).map((c) => new ContainerRow(c, !opts.bool('no-trunc')));
    await ctx.out(renderRows(format, rows, HEADER));
  },
});
