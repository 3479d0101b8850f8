// A container's life after start, as dockerd's monitor handles it: the exit is logged ("die"), --rm removes the
// container, restart policies start it again (runtime/restart.ts decides when); at daemon start the running
// ones are watched again and the rest settled as moby's restore does. startContainer() is every start's path.
import { isKind } from '../../errors/index.ts';
import { restartDelay, type ContainerState, type RestartPolicy, steps } from '../../runtime/index.ts';
import type { Services } from '../services.ts';
import { containerStore, runningCache, onLoad, stateOf, type ContainerRecord } from './container-store.ts';
import { removeAnonymousVolumes } from './volumes.ts';
import { publish } from './container-events.ts';
import { leaveNetwork, joinedNetns } from './networks.ts';

/** Starts the runtime container (in the namespace it joins, for --network container:X: resolved now, as docker). */
export async function startContainer(s: Services, r: ContainerRecord): Promise<ContainerState> {
  return s.runtime.start(r.Id, { netns: await joinedNetns(s, r) });
}

const monitored = new WeakMap<Services, Map<string, { delay: number }>>();
/** Containers a restart request is stopping: their exit is not an end (--rm does not remove them: moby's HasBeenManuallyRestarted). */
export const restarting = new Set<string>();

/**
 * Waits for the container to end, then publishes die and honours AutoRemove (--rm) and the restart policy
 * (runtime/restart.ts decides the delay). One monitor per container.
 */
export function monitor(s: Services, r: ContainerRecord): void {
  let m = monitored.get(s);
  if (!m) { m = new Map(); monitored.set(s, m); }
  const mon = m;
  if (mon.has(r.Id) && mon.get(r.Id)!.delay < 0) return;
  const prev = mon.get(r.Id)?.delay ?? 0;
  mon.set(r.Id, { delay: -1 });
  void s.runtime.wait(r.Id).then(async (st) => {
    runningCache.set(r.Id, st);
    publish(s, r, 'die', { exitCode: String(st.exitCode) });
    if (restarting.has(r.Id)) { mon.delete(r.Id); return; }
    if (r.HostConfig.AutoRemove) {
      mon.delete(r.Id);
      const t = steps(s.runtime.timings, 'auto-remove', r.Id);
      await removeContainer(s, r, true);
      t.mark('removed');
      t.done();
      await removeAnonymousVolumes(s, r.Mounts); // --rm takes the anonymous volumes too
      return;
    }
    const policy = (r.HostConfig.RestartPolicy ?? { Name: '' }) as RestartPolicy;
    const delay = restartDelay({
      policy, exitCode: st.exitCode, restartCount: r.RestartCount, stoppedByUser: !!r.ManuallyStopped,
      ranMs: Date.parse(st.finishedAt) - Date.parse(st.startedAt), previousDelayMs: prev,
    });
    if (delay === undefined) { mon.delete(r.Id); return; }
    mon.set(r.Id, { delay });
    setTimeout(() => {
      void (async () => {
        const store = await containerStore(s);
        if (!store.all().includes(r) || r.ManuallyStopped) return;
        r.RestartCount++;
        await store.put(r);
        await startContainer(s, r);
        publish(s, r, 'start');
        monitor(s, r);
      })().catch((e) => s.log.error(`restart ${r.Id}: ${String(e)}`));
    }, delay).unref();
  }, () => { mon.delete(r.Id); });
}

/** Daemon start: watch running containers again, remove --rm ones that ended meanwhile, restart by policy. */
onLoad.push(async (s, store) => {
  for (const r of store.all()) {
    const st = await stateOf(s, r.Id).catch(() => undefined);
    if (!st) continue;
    if (st.status === 'running' || st.status === 'paused') { monitor(s, r); continue; }
    if (st.status === 'created') continue;
    if (r.HostConfig.AutoRemove) { await removeContainer(s, r, true); await removeAnonymousVolumes(s, r.Mounts); continue; }
    const policy = (r.HostConfig.RestartPolicy ?? { Name: '' }) as RestartPolicy;
    const delay = restartDelay({ policy, exitCode: st.exitCode, restartCount: r.RestartCount, stoppedByUser: !!r.ManuallyStopped, ranMs: 0, previousDelayMs: 0, daemonStart: true });
    if (delay !== undefined) {
      // an `always` container stopped by the user comes back here (docker), and is then restartable again
      if (r.ManuallyStopped) { r.ManuallyStopped = false; await store.put(r); }
      // one that cannot start (a --network container: whose container is down) does not hold the others back
      try {
        await startContainer(s, r);
      } catch (e) {
        s.log.error(`restart ${r.Id} at daemon start: ${String(e)}`);
        continue;
      }
      publish(s, r, 'start');
      monitor(s, r);
    }
  }
});

export async function removeContainer(s: Services, r: ContainerRecord, force: boolean): Promise<void> {
  const store = await containerStore(s);
  await s.runtime.delete(r.Id, { force }).catch((e) => { if (!isKind(e, 'NotFound')) throw e; });
  if (r.NetworkIP) await leaveNetwork(s, r.Id);
  runningCache.delete(r.Id);
  store.removed(r.Id);
  publish(s, r, 'destroy');
}
