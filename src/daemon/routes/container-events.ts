// Events dockerd logs around a container's life besides the container's own, in dockerd's order:
//   create:  "volume create" for each volume it mounts (anonymous or named: the volume service's get-or-create)
//   start:   "network connect" per network ("none" with driver "null", "host", bridges), then "volume mount" per
//            volume by destination, then the container's "start"
//   die:     the container's "die", then "network disconnect", then "volume unmount"
// publish() logs a container's own event with those around it.
import type { Services } from '../services.ts';
import type { ContainerRecord } from './container-store.ts';
import { networkSettings } from './network-views.ts';

const DRIVER: Record<string, string> = { none: 'null', host: 'host' };

function networks(r: ContainerRecord): [string, { NetworkID?: string }][] {
  return Object.entries((networkSettings(r, true) as { Networks?: Record<string, { NetworkID?: string }> }).Networks ?? {});
}

function volumes(r: ContainerRecord): { Name?: string; Destination: string; RW?: boolean; Propagation?: string }[] {
  return (r.Mounts as { Type?: string; Name?: string; Destination: string; RW?: boolean; Propagation?: string }[])
    .filter((m) => m.Type === 'volume' && m.Name).sort((a, b) => (a.Destination < b.Destination ? -1 : a.Destination > b.Destination ? 1 : 0));
}

/** `volume create` for one volume a container is created with (driver local). */
export function volumeCreated(s: Services, name: string): void {
  s.events.publish({ Type: 'volume', Action: 'create', id: name, attributes: { driver: 'local' } });
}

/** What dockerd logs just before a container's "start". */
export function beforeStart(s: Services, r: ContainerRecord): void {
  for (const [name, e] of networks(r)) {
    s.events.publish({ Type: 'network', Action: 'connect', id: e.NetworkID ?? '', attributes: { container: r.Id, name, type: DRIVER[name] ?? 'bridge' } });
  }
  for (const m of volumes(r)) {
    s.events.publish({ Type: 'volume', Action: 'mount', id: m.Name!, attributes: {
      container: r.Id, destination: m.Destination, driver: 'local', propagation: m.Propagation ?? '', 'read/write': String(m.RW ?? true),
    } });
  }
}

const dieWaiters = new Map<string, (() => void)[]>();

/**
 * Resolves once the container's "die" has been logged (or after `ms`): `docker stop` logs "stop" after "die" as
 * dockerd does, though the exit is noticed by the container's monitor. Call it before stopping.
 */
export function dieLogged(id: string, ms = 500): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => {
      const rest = (dieWaiters.get(id) ?? []).filter((f) => f !== done);
      if (rest.length) dieWaiters.set(id, rest); else dieWaiters.delete(id);
      resolve();
    }, ms);
    dieWaiters.set(id, [...(dieWaiters.get(id) ?? []), done]);
  });
}

/** What dockerd logs just after a container's "die". */
export function afterDie(s: Services, r: ContainerRecord): void {
  const waiting = dieWaiters.get(r.Id);
  dieWaiters.delete(r.Id);
  for (const [name, e] of networks(r)) {
    s.events.publish({ Type: 'network', Action: 'disconnect', id: e.NetworkID ?? '', attributes: { container: r.Id, name, type: DRIVER[name] ?? 'bridge' } });
  }
  for (const m of volumes(r)) s.events.publish({ Type: 'volume', Action: 'unmount', id: m.Name!, attributes: { container: r.Id, driver: 'local' } });
  for (const f of waiting ?? []) f();
}

/** Logs a container event (attributes: its labels, image and name, plus `extra`) with dockerd's events around it. */
export function publish(s: Services, r: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  if (action === 'start') beforeStart(s, r);
  s.events.publish({ Type: 'container', Action: action, id: r.Id, attributes: { ...(r.Config.Labels ?? {}), image: r.ImageName, name: r.Name.slice(1), ...extra } });
  if (action === 'die') afterDie(s, r);
}
