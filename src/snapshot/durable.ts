// Durability of unpacked snapshots without an fsync per file. An unpack writes thousands of files for a
// small-file layer; fsyncing each (or even each big one) would make it far slower than `tar -x`, which syncs
// nothing. Instead: a committed snapshot records the boot it was made in (meta.json `boot`), and a debounced
// syncfs(2) of the snapshots' file system (`sync -f`, one for every batch of commits, in the background) is
// followed by marking each snapshot it covered: its meta.json made read-only (a metadata change, not a new
// file, so a marker can never land in a directory someone is deleting). A snapshot that is neither marked nor from the
// current boot may have lost file data in a crash: the daemon's start-up cleanup drops it, and it is unpacked
// again from its verified blob on first use. Within one boot the page cache holds whatever was written, so an
// unmarked snapshot is only at risk across a crash, which is exactly when the boot ID changes.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';

const META = 'meta.json';

/** True when the snapshot in `dir` was marked synced. */
export async function isSynced(dir: string): Promise<boolean> {
  try { return ((await stat(join(dir, META))).mode & 0o222) === 0; } catch { return false; }
}

let boot: string | undefined;
/** The kernel's boot ID (changes with every boot; "" where /proc does not say). */
export function bootId(): string {
  if (boot === undefined) {
    try { boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { boot = ''; }
  }
  return boot;
}

/** Gathers snapshot directories committed close together and syncs their file system once for all of them. */
export class SyncBatcher {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  /** The directories of batches started (syncing or queued), those dropped meanwhile, and the marker writes. */
  private readonly claimed = new Set<string>();
  private readonly dropped = new Set<string>();
  private marking: Promise<unknown> | undefined;

  constructor(private readonly fsDir: string, private readonly delayMs = 2000) {}

  /** Schedules `dir` (a committed snapshot) to be synced and marked. */
  add(dir: string): void {
    this.pending.add(dir);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { void this.flush(); }, this.delayMs);
    this.timer.unref(); // a stopping daemon does not wait: unmarked snapshots are merely re-unpacked after a crash
  }

  /**
   * Forgets `dir` (about to be removed) so no marker is written into it: a batch still syncing skips it, one
   * already writing its markers is waited for (quick; the sync itself, which can take seconds, is not).
   */
  async drop(dir: string): Promise<void> {
    this.pending.delete(dir);
    if (this.claimed.has(dir)) this.dropped.add(dir);
    await this.marking;
  }

  /** Syncs now and marks what was pending; resolves when done (errors leave snapshots unmarked). */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const dirs = [...this.pending];
    this.pending.clear();
    if (!dirs.length) return this.running;
    for (const d of dirs) this.claimed.add(d);
    this.running = this.running.then(async () => {
      try {
        await new Promise<void>((resolve, reject) => execFile('sync', ['-f', this.fsDir], (e) => (e ? reject(e) : resolve())));
        this.marking = Promise.all(dirs.filter((d) => !this.dropped.has(d)).map((d) => chmod(join(d, META), 0o444).catch(() => { /* gone */ })));
        await this.marking;
      } finally {
        this.marking = undefined;
        for (const d of dirs) { this.claimed.delete(d); this.dropped.delete(d); }
      }
    }).catch(() => { /* no sync(1) or it failed: the snapshots stay unmarked, hence re-unpacked after a crash */ });
    return this.running;
  }
}
