// Everything a route handler may reach, opened once when berthd starts and closed when it stops. Other parts
// plug in here: add a field to Services, open it in openServices(), close it in closeServices() — a few lines.
import { randomUUID } from 'node:crypto';
import { readFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DataRoot } from '../layout/index.ts';
import { atomicWrite } from '../fsutil/index.ts';
import { openContentStore, type ContentStore } from '../content/index.ts';
import { openMetadata } from '../metadata/index.ts';
import { ImageService } from '../images/index.ts';
import type { DaemonConfig } from './config.ts';
import { EventBus } from './events.ts';
import { countedMetadata, type CountedMetadata } from './cache.ts';
import type { SystemInfo, SystemDf } from '../api/index.ts';
import { Runtime } from '../runtime/index.ts';
import { Snapshotter } from '../snapshot/index.ts';
import { Builder, buildRuntimeOf } from '../build/index.ts';
import { containerStore } from './routes/container-store.ts';
import { pullQuietly } from './routes/distribution.ts';
import { collectSnapshotsAfterSweeps } from './snapshot-gc.ts';

export interface Logger {
  info(msg: string): void;
  debug(msg: string): void;
  error(msg: string): void;
}

/**
 * What other parts add to `/info` and `/system/df` (container counts, volumes, build cache): push a hook when
 * opening your service. `types` is df's `type` filter (container, image, volume, build-cache; empty = all).
 */
export interface SystemHooks {
  info: ((info: SystemInfo) => void | Promise<void>)[];
  df: ((df: SystemDf, types: Set<string>) => void | Promise<void>)[];
  /** Run by closeServices (daemon stop) before the stores close, in order; a failing hook does not stop the others. */
  close: (() => Promise<void>)[];
}

export interface Services {
  config: DaemonConfig;
  layout: DataRoot;
  log: Logger;
  events: EventBus;
  /** A stable daemon ID (swagger SystemInfo.ID), kept in <data-root>/engine-id as dockerd does. */
  engineId: string;
  startedAt: number;
  content: ContentStore;
  /** Counts its transactions, so read routes can cache responses per generation (cache.ts). */
  metadata: CountedMetadata;
  images: ImageService;
  hooks: SystemHooks;
  /** Containers (conmon + crun/runc); its state lives under <data-root>/containers and BERTH_EXEC_ROOT (/run/berth). */
  runtime: Runtime;
  /** Unpacked image layers keyed by chainID (container rootfs lowers). */
  snapshots: Snapshotter;
  /** The classic builder behind POST /build. */
  builder: Builder;
}

export function makeLogger(debug: boolean, out: (s: string) => void = (s) => process.stderr.write(s)): Logger {
  const line = (level: string, msg: string): void => out(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}\n`);
  return {
    info: (m) => line('info', m),
    debug: (m) => { if (debug) line('debug', m); },
    error: (m) => line('error', m),
  };
}

async function engineId(layout: DataRoot): Promise<string> {
  const p = join(layout.root, 'engine-id');
  try {
    const s = (await readFile(p, 'utf8')).trim();
    if (s) return s;
  } catch { /* first start */ }
  const id = randomUUID();
  await atomicWrite(p, id + '\n');
  return id;
}

/** Opens the stores. Scratch space (tmp/) is emptied and abandoned ingests are dropped: nothing is in flight yet. */
export async function openServices(config: DaemonConfig, log: Logger): Promise<Services> {
  const layout = new DataRoot(config['data-root']);
  await rm(layout.tmp, { recursive: true, force: true });
  await mkdir(layout.tmp, { recursive: true });
  const content = await openContentStore(layout);
  // Issue 3: interrupted ingests are cleaned on start (a load repeated after a restart starts over) — except
  // pulls younger than a day, which issue 5 resumes with Range (their ref is `pull-<digest>`).
  const dropped = await content.cleanupIngest(0, (ref) => ref.startsWith('pull-'));
  if (dropped) log.info(`removed ${dropped} abandoned ingest(s)`);
  const metadata = countedMetadata(await openMetadata(layout.metadata));
  const images = await ImageService.open({ root: layout, content, metadata, ingestMaxAgeMs: 24 * 3600_000 });
  const events = new EventBus();
  images.events.on('event', (e) => { events.publish({ Type: 'image', Action: e.Action, id: e.Actor.ID, attributes: e.Actor.Attributes }); });
  const runtime = new Runtime({ dataRoot: layout, stateDir: process.env.BERTH_EXEC_ROOT ?? '/run/berth', timings: config.debug ? (l) => log.debug(l) : undefined });
  const snapshots = new Snapshotter(layout);
  // interrupted unpacks, and snapshots a crash may have torn (never synced, earlier boot): unpacked again on use
  await snapshots.cleanup();
  // FROM an image that is not here pulls it, as the classic builder does (late-bound: services is built below)
  let self: Services | undefined;
  const builder = new Builder({ images, snapshots, layout, runtime: buildRuntimeOf(runtime), pull: (ref, signal) => pullQuietly(self!, ref, signal) });
  const services: Services = {
    config, layout, log, events, engineId: await engineId(layout), startedAt: Date.now(),
    content, metadata, images, hooks: { info: [], df: [], close: [] }, runtime, snapshots, builder,
  };
  self = services;
  collectSnapshotsAfterSweeps(services);
  // containers: records loaded, exit monitors re-armed, --rm leftovers removed, restart policies applied
  await containerStore(services);
  return services;
}

/** Waits for in-flight loads/imports, then closes the stores (ImageService.close closes metadata). */
export async function closeServices(s: Services): Promise<void> {
  for (const h of s.hooks.close) await h().catch((e) => s.log.error(`close: ${String(e)}`));
  // container removals finish their runtime delete and rm in the background: let them end
  await s.runtime.close();
  await s.images.close();
}
