// Recording a container's exit, once. The monitor that waits on every container and a client's wait request
// both see the same exit at about the same time; the first records it and every later caller gets that state,
// for a while after the record is written too (an inspect that read state.json just before the write would
// otherwise record the exit a second time, with a later FinishedAt).
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { bundleFiles } from './conmon.ts';
import { steps, type TimingSink } from './timing.ts';
import type { ContainerState } from './state.ts';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** How long a recorded exit is still handed out instead of read again (see above). */
const KEEP_MS = 5000;

export interface ExitHooks {
  /** The container's bundle directory (for the oom marker). */
  dir(id: string): string;
  exitFile(id: string): string;
  /** Writes state.json. */
  save(s: ContainerState): Promise<void>;
  /** Unmounts the container's rootfs (detached: the kernel finishes an overlay unmount in the background). */
  unmount(id: string): Promise<void>;
  timings?: TimingSink;
}

export class ExitRecorder {
  private readonly exiting = new Map<string, { state: ContainerState; persisted: Promise<void> }>();
  /**
   * StartedAt of a start whose record may not be on disk yet: a container that exits at once can have its exit
   * recorded from a state read before start() saved, which would say it never started (StartedAt zero, and
   * inspect's paths empty). Taken by record().
   */
  private readonly starts = new Map<string, string>();

  constructor(private readonly h: ExitHooks) {}

  /** start() is about to release the container; `startedAt` is what its record will say. */
  started(id: string, startedAt: string): void { this.starts.set(id, startedAt); }
  /** The start failed. */
  startFailed(id: string): void { this.starts.delete(id); }

  /** Resolves when the exit being recorded (if any) is written and its rootfs unmounted. */
  async settled(id: string): Promise<void> { await this.exiting.get(id)?.persisted; }

  /** Forgets a recorded exit (the container starts again, or is removed). */
  forget(id: string): void { this.exiting.delete(id); }

  /**
   * Records an exit once. The state is final at once; writing it and unmounting the rootfs follow (settled()
   * awaits them, inspect does not).
   */
  record(s: ContainerState, code: number, error = ''): ContainerState {
    const cur = this.exiting.get(s.id);
    if (cur) return { ...cur.state };
    if (this.h.timings) void this.noteLatency(s.id);
    const started = this.starts.get(s.id);
    this.starts.delete(s.id);
    if (started && s.startedAt === ZERO_TIME) s.startedAt = started;
    s.status = 'exited';
    s.exitCode = code;
    s.oomKilled = existsSync(bundleFiles(this.h.dir(s.id)).oom);
    if (s.oomKilled && code === 0) s.exitCode = 137;
    s.error = error;
    s.pid = 0;
    if (s.finishedAt === ZERO_TIME) s.finishedAt = new Date().toISOString();
    const t = steps(this.h.timings, 'exited', s.id);
    const persisted = (async () => {
      await this.h.save(s);
      t.mark('save');
      // docker unmounts an ended container's rootfs; start() and mountedRootfs() mount it again
      await this.h.unmount(s.id);
      t.mark('umount');
      t.done();
    })().catch(() => { /* removed meanwhile */ });
    const entry = { state: { ...s }, persisted };
    this.exiting.set(s.id, entry);
    void persisted.then(() => {
      setTimeout(() => { if (this.exiting.get(s.id) === entry) this.exiting.delete(s.id); }, KEEP_MS).unref();
    });
    return { ...s };
  }

  /** Debug timing: how long after conmon wrote the exit file the exit was noticed. */
  private async noteLatency(id: string): Promise<void> {
    const st = await stat(this.h.exitFile(id)).catch(() => undefined);
    if (st) this.h.timings?.(`exit ${id.slice(0, 12)}: noticed ${(Date.now() - st.mtimeMs).toFixed(1)} ms after the exit file`);
  }
}
