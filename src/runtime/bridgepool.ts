// Default-bridge endpoints made ahead of time for `run` (issue 6's latency). Joining the default bridge costs a
// container an IPAM write, its record and two `ip -batch` spawns (veth.ts) — 10 ms on a quiet machine, 100–700 ms
// under load here, the largest step of a default-network `run --rm`. A prepared endpoint is that same set-up
// (Networks.setup of a container without ports, on a bridge its keeper holds up) made in the background under an
// id of its own, and that id becomes the id of the container that takes it. So nothing is renamed or re-keyed:
// the namespace (/run/netns/berth-<id>), the host veth (vb<12 hex>), the IPAM entry and ctr-<id>.json (what
// teardown replays) already belong to the container, and its removal tears them down as any other's.
//
// Lifecycle: filled up to `size` once the bridge's keeper is up (Networks.prepare), one at a time; refilled in
// the background a moment after a take, never on the taker's path; an entry whose veth has left the bridge is dropped
// at take. close() (daemon stop) tears the ready ones down, freeing their addresses, before the keeper goes. A
// daemon killed with entries ready leaves their ctr-<id>.json: the next daemon's sweepOrphans() tears down every
// endpoint on its bridges whose id is no container's.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Attached, NetworkDef } from './nettypes.ts';
import { hostVeth } from './veth.ts';

/** A prepared endpoint: `id` is the container id to create with, `attached` what setup() returned for it. */
export interface Prepared { id: string; attached: Attached }

/** What the pool needs of Networks. */
export interface Endpoints {
  setup(id: string, net: NetworkDef, opts: { name?: string }): Promise<Attached>;
  teardown(id: string): Promise<void>;
  /** Whether a setup now takes the veth fast path (the keeper holds the bridge up). */
  fastPath(net: NetworkDef): boolean;
}

/** After a failed set-up, no new attempt for this long (each take would otherwise retry in the background). */
const RETRY_MS = 10_000;

/**
 * A take's refill starts this much later: by then a short container (`run --rm … true`: ~100–150 ms from create
 * to removal here) is done, instead of sharing the 2 cores with the refill's spawns while it starts.
 */
const REFILL_DELAY_MS = 250;

export class BridgePool {
  private readonly ready: Prepared[] = [];
  private filling?: Promise<void>;
  private closed = false;
  private failedAt = 0;
  private refill?: NodeJS.Timeout;

  constructor(private readonly eps: Endpoints, private readonly net: NetworkDef, private readonly size = 2,
    private readonly onError: (e: unknown) => void = () => {}) {}

  /** Entries ready now (tests). */
  get count(): number { return this.ready.length; }

  /**
   * A ready endpoint, or undefined (the caller sets one up itself). Synchronous, so two creates never get the
   * same one; a refill follows in the background, REFILL_DELAY_MS later.
   */
  take(): Prepared | undefined {
    let p: Prepared | undefined;
    while ((p = this.ready.shift())) {
      // the veth is still a port of the bridge (the bridge was not deleted and made anew meanwhile)
      if (existsSync(`/sys/class/net/${this.net.bridge}/brif/${hostVeth(p.id)}`)) break;
      void this.eps.teardown(p.id).catch(this.onError);
    }
    this.refill ??= setTimeout(() => { this.refill = undefined; this.fill(); }, REFILL_DELAY_MS).unref();
    return p;
  }

  /** Makes entries until `size` are ready (one at a time, in the background). Idempotent. */
  fill(): void {
    if (this.filling || this.closed || Date.now() - this.failedAt < RETRY_MS) return;
    this.filling = (async () => {
      while (!this.closed && this.ready.length < this.size && this.eps.fastPath(this.net)) {
        const id = randomBytes(32).toString('hex');
        try {
          const attached = await this.eps.setup(id, this.net, { name: id.slice(0, 12) });
          // made while close() ran: it goes too
          if (this.closed) await this.eps.teardown(id);
          else this.ready.push({ id, attached });
        } catch (e) {
          this.failedAt = Date.now();
          this.onError(e);
          return;
        }
      }
    })().finally(() => { this.filling = undefined; });
  }

  /** Tears down the ready entries (daemon stop) once a set-up in flight has ended. Safe twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refill);
    await this.filling;
    for (const p of this.ready.splice(0)) await this.eps.teardown(p.id).catch(this.onError);
  }
}
