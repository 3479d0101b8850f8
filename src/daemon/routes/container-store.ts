// Docker's view of a container (name, the create body, image) beside the runtime's state. The runtime keeps
// only what running needs (runtime/containers.ts state.json); the Engine API also answers with the request's
// Config/HostConfig, the name and the image, so those are kept here in `<container dir>/berth.json` — inside
// the runtime's directory, so `Runtime.delete` removes both at once. One store per daemon (WeakMap on Services).
import { join } from 'node:path';
import { writeFile, rename } from 'node:fs/promises';
import { readJSON, tempName } from '../../fsutil/index.ts';
import { conflict, notFound } from '../../errors/index.ts';
import type { ContainerState } from '../../runtime/index.ts';
import type { Services } from '../services.ts';
import type { NetRecord } from './networks.ts';

/** swagger ContainerConfig + HostConfig as the client sent them (kept verbatim for inspect). */
export interface CreateBody {
  Hostname?: string; Domainname?: string; User?: string;
  AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean;
  Tty?: boolean; OpenStdin?: boolean; StdinOnce?: boolean;
  Env?: string[] | null; Cmd?: string[] | null; Entrypoint?: string[] | null;
  Image?: string; Labels?: Record<string, string> | null; WorkingDir?: string; StopSignal?: string; StopTimeout?: number;
  HostConfig?: HostConfig;
  [k: string]: unknown;
}

export interface HostConfig {
  Binds?: string[] | null; NetworkMode?: string; AutoRemove?: boolean; Privileged?: boolean; ReadonlyRootfs?: boolean;
  CapAdd?: string[] | null; CapDrop?: string[] | null; Memory?: number; MemorySwap?: number; NanoCpus?: number;
  CpuShares?: number; PidsLimit?: number | null; Init?: boolean | null; Tmpfs?: Record<string, string> | null;
  ExtraHosts?: string[] | null; PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null; ConsoleSize?: [number, number] | null;
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  Mounts?: { Type?: string; Source?: string; Target?: string; ReadOnly?: boolean }[] | null;
  [k: string]: unknown;
}

export interface ContainerRecord {
  Id: string;
  /** With docker's leading slash. */
  Name: string;
  Created: string;
  /** The image's ID (config digest). */
  Image: string;
  /** The image as the client named it (ps shows this). */
  ImageName: string;
  Path: string;
  Args: string[];
  Config: CreateBody;
  HostConfig: HostConfig;
  /** Resolved mounts (inspect .Mounts). */
  Mounts: { Type: string; Name?: string; Source: string; Destination: string; Mode: string; RW: boolean; Propagation: string }[];
  RestartCount: number;
  /** Stopped or killed through the API: restart policies leave it down (docker's HasBeenManuallyStopped). */
  ManuallyStopped?: boolean;
  /** The bridge address, gateway and MAC when the container joined a bridge network. */
  NetworkIP?: string;
  NetworkGateway?: string;
  NetworkMac?: string;
  NetworkPrefixLen?: number;
  /** Every network the container is on and its published ports (routes/networks.ts keeps it). */
  Net?: NetRecord;
}

/** Run once after the records are loaded (daemon start): containers.ts re-arms exit monitors and restart policies. */
export const onLoad: ((s: Services, store: ContainerStore) => Promise<void>)[] = [];

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  /** Resolved when a container is removed (wait condition=removed). */
  private readonly removedWaiters = new Map<string, (() => void)[]>();

  constructor(private readonly s: Services) {}

  /** Loads the records of every container the runtime knows (daemon start). */
  async load(): Promise<void> {
    for (const st of await this.s.runtime.list()) {
      const r = await readJSON<ContainerRecord>(this.file(st.id));
      if (r) this.byId.set(r.Id, r);
    }
  }

  private file(id: string): string { return join(this.s.runtime.dir(id), 'berth.json'); }

  all(): ContainerRecord[] { return [...this.byId.values()]; }

  /** By full ID, name (with or without "/"), or unique ID prefix — docker's lookup order. NotFound with docker's text. */
  get(idOrName: string): ContainerRecord {
    const exact = this.byId.get(idOrName);
    if (exact) return exact;
    const name = idOrName.startsWith('/') ? idOrName : `/${idOrName}`;
    for (const r of this.byId.values()) if (r.Name === name) return r;
    if (/^[0-9a-f]+$/.test(idOrName)) {
      const hits = [...this.byId.values()].filter((r) => r.Id.startsWith(idOrName));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw invalidPrefix(idOrName);
    }
    throw notFound(`No such container: ${idOrName}`, { code: 'CONTAINER_UNKNOWN' });
  }

  /** Conflict (docker's text) when `name` is taken by another container. */
  checkName(name: string, selfId?: string): void {
    for (const r of this.byId.values()) {
      if (r.Name === name && r.Id !== selfId) {
        throw conflict(`Conflict. The container name "${name}" is already in use by container "${r.Id}". You have to remove (or rename) that container to be able to reuse that name.`, { code: 'NAME_CONFLICT' });
      }
    }
  }

  async put(r: ContainerRecord): Promise<void> {
    this.byId.set(r.Id, r);
    // temp + rename (never torn) but no fsync, like the runtime's state.json: two fsyncs were 3–150 ms of every
    // create on this disk under load. A crash may lose a record written just before it; the runtime's own
    // state is reconciled at start, and a container without its record is one whose create did not finish.
    const f = this.file(r.Id);
    const tmp = tempName(f);
    await writeFile(tmp, JSON.stringify(r));
    await rename(tmp, f);
  }

  /** Forgets a record (the runtime removed its directory) and wakes condition=removed waiters. */
  removed(id: string): void {
    this.byId.delete(id);
    for (const fn of this.removedWaiters.get(id) ?? []) fn();
    this.removedWaiters.delete(id);
  }

  whenRemoved(id: string): Promise<void> {
    if (!this.byId.has(id)) return Promise.resolve();
    return new Promise((r) => { const l = this.removedWaiters.get(id) ?? []; l.push(r); this.removedWaiters.set(id, l); });
  }

  /** Images in use by containers (for rmi conflicts): called synchronously by the image service. */
  usersOf(imageId: string, states: Map<string, ContainerState>): { id: string; running: boolean }[] {
    return this.all().filter((r) => r.Image === imageId).map((r) => ({ id: r.Id, running: states.get(r.Id)?.status === 'running' }));
  }
}

function invalidPrefix(p: string): Error {
  return notFound(`No such container: ${p}`, { code: 'CONTAINER_AMBIGUOUS' });
}

const stores = new WeakMap<Services, Promise<ContainerStore>>();

/** The daemon's container store (loaded on first use; concurrent first callers share the load). */
export function containerStore(s: Services): Promise<ContainerStore> {
  let p = stores.get(s);
  if (!p) {
    const st = new ContainerStore(s);
    // rmi refuses images that containers use; the running state is what the routes saw last
    s.images.containersUsing = (id) => st.usersOf(id, runningCache);
    // the hooks run in the background: a container the runtime cannot settle must not keep berthd from answering
    p = st.load().then(() => {
      void (async () => { for (const fn of onLoad) await fn(s, st).catch((e) => s.log.error(`containers: ${String(e)}`)); })();
      return st;
    });
    stores.set(s, p);
  }
  return p;
}

/** Last known status per container (updated by the routes on every transition), for synchronous callers. */
export const runningCache = new Map<string, ContainerState>();

/** The runtime's state, remembered for synchronous readers (rmi conflicts). */
export async function stateOf(s: Services, id: string): Promise<ContainerState> {
  const st = await s.runtime.inspect(id);
  runningCache.set(id, st);
  return st;
}
