// Container routes (swagger tag "Container", moby api/server/router/container): start, wait, lifecycle, delete,
// rename, resize, top, changes, prune. Create is in container-create.ts, the life after start (exit, --rm,
// restart policies) in container-monitor.ts, list and inspect in container-views.ts, streams (attach, logs) in
// container-io.ts. The runtime (src/runtime) runs them; container-store.ts keeps docker's record.
import { invalidArgument, conflict, isKind, notFound } from '../../errors/index.ts';
import { constants as osConstants } from 'node:os';
import { top as topOf } from '../../runtime/index.ts';
import type { Router, Context } from '../router.ts';
import { containerStore, runningCache, stateOf, type ContainerRecord } from './container-store.ts';
import { attachRoute, attachPlain, logsRoute } from './container-io.ts';
import { removeAnonymousVolumes } from './volumes.ts';
import { statsRoute } from './stats.ts';
import { list, inspect } from './container-views.ts';
import { dirBytes } from '../../fsutil/index.ts';
import { publish, dieLogged } from './container-events.ts';
import { create, NAME_RE } from './container-create.ts';
import { monitor, removeContainer, restarting, startContainer } from './container-monitor.ts';

/** docker's events name signals by number ("15", "9"); names and numbers both accepted. */
function signalNumber(sig: string): string {
  if (/^\d+$/.test(sig)) return sig;
  const name = (sig.startsWith('SIG') ? sig : `SIG${sig}`).toUpperCase() as keyof typeof osConstants.signals;
  return String(osConstants.signals[name] ?? sig);
}

async function start(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const before = await stateOf(s, r.Id);
  if (before.status === 'running' || before.status === 'paused') { ctx.empty(304); return; }
  if (r.ManuallyStopped) { r.ManuallyStopped = false; await (await containerStore(s)).put(r); }
  let st;
  try {
    st = await startContainer(s, r);
  } catch (e) {
    // docker removes an --rm container whose start failed (containerStart's cleanup)
    if (r.HostConfig.AutoRemove) await removeContainer(s, r, true).catch(() => {});
    throw e;
  }
  runningCache.set(r.Id, st);
  publish(s, r, 'start');
  monitor(s, r);
  ctx.empty();
}

async function wait(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const r = store.get(ctx.params.id!);
  const condition = ctx.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalidArgument(`invalid condition: "${condition}"`);
  let st = await stateOf(s, r.Id);
  // headers first: docker's client returns from ContainerWait once they arrive, then starts the container
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  const ac = new AbortController();
  ctx.res.on('close', () => ac.abort());
  try {
    if (condition !== 'not-running' || st.status === 'running' || st.status === 'paused') st = await s.runtime.wait(r.Id, ac.signal);
    if (condition === 'removed') await store.whenRemoved(r.Id);
  } catch {
    if (ac.signal.aborted) return;
  }
  ctx.res.end(JSON.stringify({ StatusCode: st.exitCode, Error: null }) + '\n');
}

async function lifecycle(ctx: Context, op: 'kill' | 'stop' | 'restart' | 'pause' | 'unpause'): Promise<void> {
  const s = ctx.services;
  let r: ContainerRecord;
  try {
    r = (await containerStore(s)).get(ctx.params.id!);
  } catch (e) {
    // moby's kill route wraps every error: "Cannot kill container: NAME: No such container: NAME"
    if (op === 'kill' && isKind(e, 'NotFound')) throw notFound(`Cannot kill container: ${ctx.params.id}: ${(e as Error).message}`);
    throw e;
  }
  const rt = s.runtime;
  const st = await stateOf(s, r.Id);
  const running = st.status === 'running' || st.status === 'paused';
  const t = ctx.query.has('t') ? ctx.int('t', 10) : (r.Config.StopTimeout ?? 10);
  const sig = ctx.query.get('signal') || undefined;
  switch (op) {
    case 'kill':
      r.ManuallyStopped = true;
      await (await containerStore(s)).put(r);
      if (!running) throw conflict(`Cannot kill container: ${ctx.params.id}: Container ${r.Id} is not running`, { code: 'NOT_RUNNING' });
      await rt.kill(r.Id, sig ?? 'KILL');
      publish(s, r, 'kill', { signal: signalNumber(sig ?? 'KILL') });
      break;
    case 'stop':
      if (!running) { ctx.empty(304); return; }
      r.ManuallyStopped = true;
      await (await containerStore(s)).put(r);
      // dockerd logs the stop signal as a kill event first (the escalation to SIGKILL is the runtime's)
      publish(s, r, 'kill', { signal: signalNumber(sig ?? r.Config.StopSignal ?? 'TERM') });
      const died = dieLogged(r.Id); // dockerd logs "die" before "stop"; the monitor logs the die
      await rt.stop(r.Id, t, sig);
      await died;
      publish(s, r, 'stop');
      break;
    case 'restart':
      r.ManuallyStopped = true;
      restarting.add(r.Id);
      try {
        if (running) await rt.stop(r.Id, t, sig);
        r.ManuallyStopped = false;
        await (await containerStore(s)).put(r);
        await startContainer(s, r);
      } finally {
        restarting.delete(r.Id);
      }
      r.RestartCount = 0;
      publish(s, r, 'restart');
      monitor(s, r);
      break;
    case 'pause':
      if (st.status === 'paused') throw conflict(`Container ${r.Id} is already paused`);
      await rt.pause(r.Id);
      publish(s, r, 'pause');
      break;
    case 'unpause':
      await rt.resume(r.Id);
      publish(s, r, 'unpause');
      break;
  }
  await stateOf(s, r.Id).catch(() => {});
  ctx.empty();
}

async function remove(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const st = await stateOf(s, r.Id);
  const force = ctx.bool('force');
  if ((st.status === 'running' || st.status === 'paused') && !force) {
    throw conflict(`cannot remove container "${r.Name}": container is ${st.status}: stop the container before removing or force remove`, { code: 'CONTAINER_RUNNING' });
  }
  await removeContainer(s, r, force);
  // rm -v: the container's anonymous volumes go with it (named ones stay), unless another container uses them
  if (ctx.bool('v')) await removeAnonymousVolumes(s, r.Mounts);
  ctx.empty();
}

async function rename(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const r = store.get(ctx.params.id!);
  const raw = ctx.query.get('name') ?? '';
  if (!NAME_RE.test(raw)) throw invalidArgument(`Invalid container name (${raw}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const name = raw.startsWith('/') ? raw : `/${raw}`;
  if (name === r.Name) throw invalidArgument(`Renaming a container with the same name as its current name`);
  store.checkName(name, r.Id);
  const old = r.Name;
  r.Name = name;
  await store.put(r);
  publish(s, r, 'rename', { oldName: old });
  ctx.empty();
}

async function resize(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  await s.runtime.resize(r.Id, ctx.int('h', 0), ctx.int('w', 0));
  ctx.empty(200);
}

async function top(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const st = await stateOf(s, r.Id);
  if (st.status !== 'running' && st.status !== 'paused') throw conflict(`Container ${r.Id} is not running`, { code: 'NOT_RUNNING' });
  ctx.json(await topOf(r.Id, ctx.query.get('ps_args') || '-ef'));
}

async function changesRoute(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  ctx.json(await s.runtime.changes(r.Id));
}

async function prune(ctx: Context): Promise<void> {
  const s = ctx.services;
  const store = await containerStore(s);
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const r of store.all()) {
    const st = await stateOf(s, r.Id).catch(() => undefined);
    if (!st || st.status === 'running' || st.status === 'paused') continue;
    // docker's SpaceReclaimed: the removed containers' writable layers (SizeRw)
    reclaimed += await dirBytes(s.runtime.upperDir(r.Id));
    await removeContainer(s, r, false);
    deleted.push(r.Id);
  }
  ctx.json({ ContainersDeleted: deleted, SpaceReclaimed: reclaimed });
}

export default function register(r: Router): void {
  r.post('/containers/create', create);
  r.get('/containers/json', list);
  r.post('/containers/prune', prune);
  r.get('/containers/{id}/json', inspect);
  r.post('/containers/{id}/start', start);
  r.post('/containers/{id}/wait', wait);
  for (const op of ['kill', 'stop', 'restart', 'pause', 'unpause'] as const) r.post(`/containers/{id}/${op}`, (ctx) => lifecycle(ctx, op));
  r.post('/containers/{id}/rename', rename);
  r.post('/containers/{id}/resize', resize);
  r.get('/containers/{id}/top', top);
  r.get('/containers/{id}/changes', changesRoute);
  r.get('/containers/{id}/stats', statsRoute);
  r.get('/containers/{id}/logs', logsRoute);
  r.hijack('POST', '/containers/{id}/attach', attachRoute);
  r.post('/containers/{id}/attach', attachPlain);
  r.delete('/containers/{id}', remove);
}
