// Empty network namespaces made ahead of time for `--network none` containers. A namespace made by the runtime
// inside `<runtime> create` (unshare(CLONE_NEWNET) plus the kernel's teardown of the previous one, which holds
// the same locks) was 6–15 ms of every `run --rm --network none` here, more under load; a prepared one is
// joined by path instead (the mount helper makes them: mounter.ts "n"), and the next is made in the background.
//
// <stateDir>/netns/<data root key>/none-<pid>-<12 hex>
//     a namespace with lo up, kept by a bind mount on this file, made by the daemon with that pid; a container
//     that got one records it (ContainerState.netns) and its removal drops it. Daemons share the state dir (the
//     default /run/berth) but not a data root: each sweeps only its own directory, and there only namespaces
//     no container holds whose daemon is gone (two Runtimes of one process, as tests make, leave each other's).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MountPool } from './mounter.ts';

/** The pool's directory for the daemon of `dataRoot`. */
export function netnsDir(stateDir: string, dataRoot: string): string {
  return join(stateDir, 'netns', createHash('sha256').update(dataRoot).digest('hex').slice(0, 12));
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export class NetnsPool {
  private readonly ready: string[] = [];
  /** Every namespace this pool made (ready, being made, or handed out): sweep() leaves them alone. */
  private readonly mine = new Set<string>();
  private making = 0;
  /** Set when a namespace cannot be made here (no CAP_SYS_ADMIN, no helper): containers get the runtime's own. */
  private disabled = false;

  constructor(private readonly dir: string, private readonly mounter: MountPool, private readonly size = 2) {}

  /** A prepared namespace's path, or undefined when none is ready (the runtime makes one then). Refills. */
  take(): string | undefined {
    const p = this.ready.shift();
    this.fill();
    return p;
  }

  private fill(): void {
    while (!this.disabled && this.ready.length + this.making < this.size) {
      this.making++;
      const p = join(this.dir, `none-${process.pid}-${randomBytes(6).toString('hex')}`);
      this.mine.add(p);
      void (async () => {
        await mkdir(this.dir, { recursive: true });
        await writeFile(p, '');
        await this.mounter.newNetns(p);
        this.ready.push(p);
      })().catch(async () => {
        this.disabled = true;
        this.mine.delete(p);
        await rm(p, { force: true }).catch(() => {});
      }).finally(() => { this.making--; });
    }
  }

  /** Drops a namespace (its container is removed). Safe for a path that is gone (after a reboot). */
  async release(p: string): Promise<void> {
    this.mine.delete(p);
    await this.mounter.umount(p, { detach: true }).catch(() => {});
    await rm(p, { force: true });
  }

  /** Drops the namespaces made and not handed out (daemon stop); the pool makes new ones if used again. */
  async close(): Promise<void> {
    for (const p of this.ready.splice(0)) await this.release(p);
    await rmdir(this.dir).catch(() => { /* in use by containers still running, or never made */ });
  }

  /** Drops namespaces left by an earlier daemon that no container holds (`held`: the containers' paths). */
  async sweep(held: Set<string>): Promise<void> {
    let names: string[];
    try { names = await readdir(this.dir); } catch { return; }
    for (const n of names) {
      const p = join(this.dir, n);
      const pid = Number(/^none-(\d+)-/.exec(n)?.[1] ?? 0);
      if (!held.has(p) && !this.mine.has(p) && !(pid > 0 && alive(pid))) await this.release(p);
    }
  }
}
