// Events dockerd logs around a container's life besides the container's own: libnetwork's "network connect" as a
// container starts (before its "start") and "network disconnect" when it ends (after "die"), for every network it
// is on — the "none" network (driver "null") and "host" included, as `docker events` shows them for any docker run.
import type { Services } from '../services.ts';
import type { ContainerRecord } from './container-store.ts';
import { networkSettings } from './network-views.ts';

const DRIVER: Record<string, string> = { none: 'null', host: 'host' };

/** Publishes `network connect` / `network disconnect` for each network of `r` (Actor: the network's ID). */
export function networkEvents(s: Services, r: ContainerRecord, action: 'connect' | 'disconnect'): void {
  const nets = (networkSettings(r, true) as { Networks?: Record<string, { NetworkID?: string }> }).Networks ?? {};
  for (const [name, e] of Object.entries(nets)) {
    s.events.publish({ Type: 'network', Action: action, id: e.NetworkID ?? '', attributes: { container: r.Id, name, type: DRIVER[name] ?? 'bridge' } });
  }
}
