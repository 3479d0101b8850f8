// Volume routes (swagger tag "Volume"): create, list, inspect, remove, prune — local volumes from
// src/runtime's Volumes under <data-root>/volumes. "In use" is any container (running or not) whose record
// mounts the volume, as docker counts it.
import { Volumes, type VolumeInfo } from '../../runtime/index.ts';
import type { Router, Context } from '../router.ts';
import type { Services } from '../services.ts';
import { containerStore } from './container-store.ts';
import { versionBefore } from '../version.ts';

const vols = new WeakMap<Services, Volumes>();

/** The daemon's volume store. */
export function volumesOf(s: Services): Volumes {
  let v = vols.get(s);
  if (!v) { v = new Volumes(s.layout); vols.set(s, v); }
  return v;
}

/**
 * `docker rm -v` and `--rm`: a removed container's anonymous volumes (64-hex names: from -v /path or the image's
 * VOLUMEs) go with it unless another container still mounts them; named volumes stay, as dockerd.
 */
export async function removeAnonymousVolumes(s: Services, mounts: readonly { Type?: string; Name?: string }[]): Promise<void> {
  const used = await usage(s);
  for (const m of mounts) {
    if (m.Type !== 'volume' || !m.Name || !/^[0-9a-f]{64}$/.test(m.Name) || used.has(m.Name)) continue;
    await volumesOf(s).remove(m.Name, { force: true }).catch(() => {});
    s.events.publish({ Type: 'volume', Action: 'destroy', id: m.Name, attributes: { driver: 'local' } });
  }
}

/** Container IDs using each volume name. */
async function usage(s: Services): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of (await containerStore(s)).all()) {
    for (const m of r.Mounts) if (m.Type === 'volume' && m.Name) out.set(m.Name, [...(out.get(m.Name) ?? []), r.Id]);
  }
  return out;
}

function labelMatch(filters: Map<string, string[]>, labels: Record<string, string>): boolean {
  const want = (l: string) => { const [k, v] = l.split('=', 2); return v === undefined ? k! in labels : labels[k!] === v; };
  return (filters.get('label') ?? []).every(want) && !(filters.get('label!') ?? []).some(want);
}

/** As dockerd's volume store hands a volume out: no labels or options is null, not {}. */
function view(v: VolumeInfo): VolumeInfo {
  const empty = (m: Record<string, string> | null | undefined) => !m || Object.keys(m).length === 0;
  return { ...v, Labels: empty(v.Labels) ? null : v.Labels, Options: empty(v.Options) ? null : v.Options } as VolumeInfo;
}

/** `/system/df`'s volumes: each with its size and how many containers mount it (moby's UsageData). */
export async function volumesDf(s: Services): Promise<VolumeInfo[]> {
  const used = await usage(s);
  const vs = volumesOf(s);
  const out: VolumeInfo[] = [];
  for (const v of await vs.list()) {
    out.push({ ...view(v), UsageData: { Size: await vs.size(v.Name), RefCount: used.get(v.Name)?.length ?? 0 } } as VolumeInfo);
  }
  return out;
}

async function list(ctx: Context): Promise<void> {
  const s = ctx.services;
  const f = ctx.filters(['name', 'label', 'label!', 'dangling', 'driver']);
  const used = await usage(s);
  const out: VolumeInfo[] = [];
  for (const v of await volumesOf(s).list()) {
    if (f.get('name') && !f.get('name')!.some((n) => v.Name.includes(n))) continue;
    if (f.get('driver') && !f.get('driver')!.includes(v.Driver)) continue;
    const dangling = f.get('dangling')?.[0];
    if (dangling !== undefined && (['true', '1'].includes(dangling) === used.has(v.Name))) continue;
    if (!labelMatch(f, v.Labels ?? {})) continue;
    out.push(view(v));
  }
  ctx.json({ Volumes: out, Warnings: [] });
}

async function create(ctx: Context): Promise<void> {
  const b = (await ctx.readJSON<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }>()) ?? {};
  const v = await volumesOf(ctx.services).create({ name: b.Name, driver: b.Driver, options: b.DriverOpts ?? undefined, labels: b.Labels ?? undefined });
  ctx.services.events.publish({ Type: 'volume', Action: 'create', id: v.Name, attributes: { driver: 'local' } });
  ctx.json(view(v), 201);
}

async function inspect(ctx: Context): Promise<void> {
  ctx.json(view(await volumesOf(ctx.services).get(ctx.params.name!)));
}

async function remove(ctx: Context): Promise<void> {
  const s = ctx.services;
  const name = ctx.params.name!;
  await volumesOf(s).remove(name, { usedBy: (await usage(s)).get(name), force: ctx.bool('force') });
  s.events.publish({ Type: 'volume', Action: 'destroy', id: name, attributes: { driver: 'local' } });
  ctx.empty();
}

async function prune(ctx: Context): Promise<void> {
  const s = ctx.services;
  const f = ctx.filters(['label', 'label!', 'all']);
  // before API 1.42 prune removed every unused volume; since, only anonymous ones unless all=true
  const all = versionBefore(ctx.version, '1.42') || ['true', '1'].includes(f.get('all')?.[0] ?? '');
  const r = await volumesOf(s).prune((await usage(s)).keys(), { all, labels: (l) => labelMatch(f, l) });
  for (const n of r.VolumesDeleted) s.events.publish({ Type: 'volume', Action: 'destroy', id: n, attributes: { driver: 'local' } });
  ctx.json(r);
}

export default function register(r: Router): void {
  r.get('/volumes', list);
  r.post('/volumes/create', create);
  r.post('/volumes/prune', prune);
  r.get('/volumes/{name}', inspect);
  r.delete('/volumes/{name}', remove);
}
