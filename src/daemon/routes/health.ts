// Healthchecks in berthd (docker's daemon/health.go): one monitor per running container with a healthcheck
// (the image's HEALTHCHECK merged with --health-*), started by the container's start/restart event, stopped by
// die/destroy, resumed for running containers when berthd starts. Each probe's result updates State.Health
// (runtime/health.ts has the rules), kept in <container dir>/health.json so inspect and ps show it across a
// berthd restart; a change of status publishes docker's `health_status: <status>` event.
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readJSON, atomicWriteJSON } from '../../fsutil/index.ts';
import { applyResult, mergeHealth, probeArgs, probeDelay, runProbe, HEALTH_DEFAULTS, type Health, type HealthConfig } from '../../runtime/index.ts';
import type { Router } from '../router.ts';
import type { Services } from '../services.ts';
import { onLoad, stateOf, type ContainerRecord } from './container-store.ts';

interface Monitor { stop(): void }

const monitors = new WeakMap<Services, Map<string, Monitor>>();
/** Container id → its Health, for the synchronous views (ps, inspect). */
const healths = new Map<string, Health>();

/** The container's State.Health, or undefined when it has no healthcheck. */
export function healthOf(id: string): Health | undefined {
  return healths.get(id);
}

/** ps STATUS suffix: " (healthy)", " (unhealthy)", " (health: starting)" — docker's container.State.String(). */
export function healthSuffix(id: string): string {
  const h = healths.get(id);
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

/** `ps --filter health=`: starting, healthy, unhealthy, or none (no healthcheck). */
export function healthMatches(id: string, want: string): boolean {
  return (healths.get(id)?.Status ?? 'none') === want;
}

function file(s: Services, id: string): string { return join(s.runtime.dir(id), 'health.json'); }

async function configOf(s: Services, r: ContainerRecord): Promise<Required<HealthConfig> | undefined> {
  const img = await s.images.configOf(r.Image as `${string}:${string}`).catch(() => undefined);
  return mergeHealth(r.Config.Healthcheck as HealthConfig | undefined, (img?.config as { Healthcheck?: HealthConfig } | undefined)?.Healthcheck);
}

/**
 * Starts probing `r` (a no-op without a healthcheck). `resume` keeps the recorded Health (berthd restart);
 * otherwise it starts over as "starting", as docker does on every start.
 */
async function startMonitor(s: Services, r: ContainerRecord, resume: boolean): Promise<void> {
  const cfg = await configOf(s, r);
  let map = monitors.get(s);
  if (!map) { map = new Map(); monitors.set(s, map); }
  map.get(r.Id)?.stop();
  map.delete(r.Id);
  if (!cfg) { healths.delete(r.Id); return; }
  const st = await stateOf(s, r.Id);
  if (st.status !== 'running' && st.status !== 'paused') return;
  const startedAt = Date.parse(st.startedAt) || Date.now();
  // dockerd: a start begins again at "starting" but keeps the earlier results in Log
  const recorded = await readJSON<Health>(file(s, r.Id));
  let health: Health = (resume ? recorded : undefined) ?? { Status: 'starting', FailingStreak: 0, Log: recorded?.Log ?? [] };
  healths.set(r.Id, health);
  if (!resume) await atomicWriteJSON(file(s, r.Id), health).catch(() => {});
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const mon: Monitor = { stop: () => { stopped = true; if (timer) clearTimeout(timer); } };
  map.set(r.Id, mon);
  const tick = async (): Promise<void> => {
    const now = await stateOf(s, r.Id).catch(() => undefined);
    if (stopped || !now || (now.status !== 'running' && now.status !== 'paused')) return;
    // a paused container is not probed (the probe would hang in the frozen cgroup)
    if (now.status === 'running') {
      // dockerd runs the probe as an exec and says so in events
      const attrs = { ...(r.Config.Labels ?? {}), image: r.ImageName, name: r.Name.slice(1), execID: randomBytes(32).toString('hex') };
      const cmd = probeArgs(cfg.Test ?? []).join(' ');
      s.events.publish({ Type: 'container', Action: `exec_create: ${cmd}`, id: r.Id, attributes: attrs });
      s.events.publish({ Type: 'container', Action: `exec_start: ${cmd}`, id: r.Id, attributes: attrs });
      const res = await runProbe(s.runtime, r.Id, now.runtime, cfg.Test ?? [], cfg.Timeout ? cfg.Timeout / 1e6 : HEALTH_DEFAULTS.timeout);
      s.events.publish({ Type: 'container', Action: 'exec_die', id: r.Id, attributes: { ...attrs, exitCode: String(res.ExitCode) } });
      if (stopped) return;
      const next = applyResult(health, res, cfg, startedAt);
      if (next.Status !== health.Status) {
        s.events.publish({ Type: 'container', Action: `health_status: ${next.Status}`, id: r.Id, attributes: { ...(r.Config.Labels ?? {}), image: r.ImageName, name: r.Name.slice(1) } });
      }
      health = next;
      healths.set(r.Id, health);
      await atomicWriteJSON(file(s, r.Id), health).catch(() => {});
    }
    schedule();
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => { tick().catch((e) => { s.log.error(`healthcheck ${r.Id}: ${String(e)}`); schedule(); }); }, probeDelay(cfg, startedAt));
    timer.unref();
  };
  schedule();
}

function stopMonitor(s: Services, id: string, forget: boolean): void {
  monitors.get(s)?.get(id)?.stop();
  monitors.get(s)?.delete(id);
  if (forget) { healths.delete(id); return; }
  // dockerd marks a stopped container's health unhealthy (no event), results kept
  const h = healths.get(id);
  if (h) {
    const stopped: Health = { ...h, Status: 'unhealthy' };
    healths.set(id, stopped);
    void atomicWriteJSON(file(s, id), stopped).catch(() => {});
  }
}

onLoad.push(async (s, store) => {
  s.events.subscribe((m) => {
    if (m.Type !== 'container') return;
    const id = m.Actor.ID;
    if (m.Action === 'start' || m.Action === 'restart') {
      const r = store.all().find((x) => x.Id === id);
      if (r) void startMonitor(s, r, false).catch((e) => s.log.error(`healthcheck ${id}: ${String(e)}`));
    } else if (m.Action === 'die') stopMonitor(s, id, false);
    else if (m.Action === 'destroy') stopMonitor(s, id, true);
  });
  // berthd restart: containers still running carry on from their recorded Health
  for (const r of store.all()) {
    const h = await readJSON<Health>(file(s, r.Id));
    if (h) healths.set(r.Id, h);
    await startMonitor(s, r, true).catch(() => {});
  }
});

/** No routes of its own: State.Health shows in inspect and ps (container-views.ts). */
export default function register(_r: Router): void {}
