// Read-only views of containers: `GET /containers/json` (docker's ContainerSummary, with all/limit/size/
// filters), `GET /containers/{id}/json` (ContainerInspect), and the container parts of /info and /system/df.
import { dirBytes } from '../../fsutil/index.ts';
import type { ContainerState } from '../../runtime/index.ts';
import type { Context } from '../router.ts';
import type { Services } from '../services.ts';
import { containerStore, onLoad, stateOf, type ContainerRecord } from './container-store.ts';
import { dockerContainerInspect, psCommand } from './container-inspect.ts';
import { networkSettings, portSummaries, netOf, portFilter } from './network-views.ts';
import { healthOf, healthSuffix, healthMatches } from './health.ts';

const ZERO = '0001-01-01T00:00:00Z';

/** `ps -s`: the writable layer, and it plus the image (SizeRootFs). */
async function sizes(s: Services, r: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const rw = await dirBytes(s.runtime.upperDir(r.Id));
  const img = s.images.records().find((x) => x.id === r.Image)?.size ?? 0;
  return { SizeRw: rw, SizeRootFs: rw + img };
}

function dockerStatus(st: ContainerState): string {
  switch (st.status) {
    case 'created': return 'Created';
    case 'running': return `Up ${ago(st.startedAt)}`;
    case 'paused': return `Up ${ago(st.startedAt)} (Paused)`;
    default: return `Exited (${st.exitCode}) ${ago(st.finishedAt)} ago`;
  }
}

/** docker's units.HumanDuration. */
function ago(t: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(t)) / 1000);
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${Math.floor(s)} second${Math.floor(s) === 1 ? '' : 's'}`;
  const m = s / 60;
  if (m < 60) return m < 2 ? 'About a minute' : `${Math.floor(m)} minutes`;
  const h = m / 60;
  if (h < 48) return h < 2 ? 'About an hour' : `${Math.round(h)} hours`;
  return `${Math.floor(h / 24)} days`;
}

function dockerState(st: ContainerState): string {
  return st.status === 'dead' ? 'dead' : st.status;
}

export async function list(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const all = ctx.bool('all');
  const limit = ctx.int('limit', -1);
  const filters = ctx.filters(['id', 'name', 'status', 'label', 'ancestor', 'exited', 'before', 'since', 'is-task', 'health', 'network', 'volume', 'publish', 'expose']);
  const out: unknown[] = [];
  const recs = store.all().sort((a, b) => b.Created.localeCompare(a.Created));
  for (const r of recs) {
    let st: ContainerState;
    try { st = await stateOf(s, r.Id); } catch { continue; }
    // moby's list: without -a only running containers, filters or not; a status filter or -n widens it to all
    if (!all && limit <= 0 && !filters.has('status') && st.status !== 'running' && st.status !== 'paused') continue;
    if (!matches(r, st, filters)) continue;
    out.push({
      Id: r.Id, Names: [r.Name], Image: r.ImageName, ImageID: r.Image, Command: psCommand(r.Path, r.Args),
      Created: Math.floor(Date.parse(r.Created) / 1000), Ports: portSummaries(r, st.status === 'running' || st.status === 'paused'), Labels: r.Config.Labels ?? {}, State: dockerState(st),
      Status: dockerStatus(st) + (st.status === 'running' ? healthSuffix(r.Id) : ''), HostConfig: { NetworkMode: r.HostConfig.NetworkMode ?? 'default' },
      NetworkSettings: { Networks: (networkSettings(r, st.status === 'running' || st.status === 'paused') as { Networks?: Record<string, unknown> }).Networks ?? {} }, Mounts: r.Mounts.map((m) => ({ ...m })),
      ...(ctx.bool('size') ? await sizes(s, r) : {}),
    });
    if (limit > 0 && out.length >= limit) break;
  }
  ctx.json(out);
}

function matches(r: ContainerRecord, st: ContainerState, f: Map<string, string[]>): boolean {
  const any = (k: string, fn: (v: string) => boolean): boolean => { const v = f.get(k); return !v || v.some(fn); };
  return any('id', (v) => r.Id.startsWith(v))
    && any('name', (v) => r.Name.slice(1).includes(v.replace(/^\//, '')))
    && any('status', (v) => v === dockerState(st))
    && any('exited', (v) => st.status === 'exited' && Number(v) === st.exitCode)
    && any('ancestor', (v) => r.ImageName === v || r.Image === v || r.Image.startsWith(`sha256:${v}`))
    && any('health', (v) => healthMatches(r.Id, v))
    && any('network', (v) => Object.entries(netOf(r).endpoints).some(([n, e]) => n === v || e.NetworkID.startsWith(v)) || r.HostConfig.NetworkMode === v)
    && any('publish', (v) => portFilter(r, st.status === 'running' || st.status === 'paused', 'publish', v))
    && any('expose', (v) => portFilter(r, st.status === 'running' || st.status === 'paused', 'expose', v))
    && (f.get('label') ?? []).every((l) => { const [k, val] = l.split('=', 2); const have = (r.Config.Labels ?? {})[k!]; return val === undefined ? have !== undefined : have === val; });
}

export async function inspectBody(s: Services, r: ContainerRecord): Promise<Record<string, unknown>> {
  const st = await stateOf(s, r.Id);
  return {
    Id: r.Id, Created: r.Created, Path: r.Path, Args: r.Args,
    State: {
      Status: dockerState(st), Running: st.status === 'running' || st.status === 'paused', Paused: st.status === 'paused',
      Restarting: false, OOMKilled: st.oomKilled, Dead: st.status === 'dead', Pid: st.status === 'running' || st.status === 'paused' ? st.pid : 0,
      ExitCode: st.exitCode, Error: st.error, StartedAt: st.startedAt || ZERO, FinishedAt: st.finishedAt || ZERO,
      ...(healthOf(r.Id) ? { Health: healthOf(r.Id) } : {}),
    },
    Image: r.Image, ResolvConfPath: `${s.runtime.dir(r.Id)}/resolv.conf`, HostnamePath: `${s.runtime.dir(r.Id)}/hostname`,
    HostsPath: `${s.runtime.dir(r.Id)}/hosts`, LogPath: s.runtime.logPath(r.Id), Name: r.Name, RestartCount: r.RestartCount,
    Driver: 'overlay2', Platform: 'linux', MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ExecIDs: null,
    HostConfig: r.HostConfig, GraphDriver: { Name: 'overlay2', Data: { UpperDir: s.runtime.upperDir(r.Id), WorkDir: s.runtime.workDir(r.Id), MergedDir: s.runtime.rootfs(r.Id) } },
    Mounts: r.Mounts, Config: { ...r.Config, Image: r.ImageName },
    NetworkSettings: networkSettings(r, st.status === 'running' || st.status === 'paused'),
  };
}

export async function inspect(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  ctx.json(await dockerContainerInspect(s, r, await inspectBody(s, r), ctx.version));
}

/** /info's container counts and /system/df's containers. */
onLoad.push(async (s, store) => {
  s.hooks.info.push(async (info) => {
    let running = 0, paused = 0, stopped = 0;
    for (const r of store.all()) {
      const st = await stateOf(s, r.Id).catch(() => undefined);
      if (st?.status === 'running') running++; else if (st?.status === 'paused') paused++; else stopped++;
    }
    Object.assign(info, { Containers: running + paused + stopped, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: stopped });
  });
  s.hooks.df.push(async (df, types) => {
    if (types.size && !types.has('container')) return;
    df.Containers = [];
    for (const r of store.all()) {
      const st = await stateOf(s, r.Id).catch(() => undefined);
      if (!st) continue;
      df.Containers.push({
        Id: r.Id, Names: [r.Name], Image: r.ImageName, ImageID: r.Image, Command: psCommand(r.Path, r.Args),
        Created: Math.floor(Date.parse(r.Created) / 1000), Ports: [], Labels: r.Config.Labels ?? {}, State: dockerState(st),
        Status: dockerStatus(st), ...(await sizes(s, r)), Mounts: r.Mounts,
      });
    }
  });
});

