// Waiting for containers to exit. conmon writes `<container>/exits/<id>` when the process ends (also while
// berthd is down); an inotify watch on that directory wakes the waiter at once. One slow timer for every
// waiter re-checks in case a watch misses the event (a watch set up just after the write, or an unwatchable
// directory), instead of one timer per waiting container: with 50 containers running, berthd held 50 intervals
// each re-reading state every second.
import { watch, type FSWatcher } from 'node:fs';

const RECHECK_MS = 2000;

const rechecks = new Set<() => void>();
let timer: NodeJS.Timeout | undefined;

function tick(): void {
  for (const fn of rechecks) fn();
}

/**
 * Calls `check` on every change in `exitsDir`, every RECHECK_MS and once now, until `check` resolves `true`,
 * throws, or `signal` aborts. `check` never runs twice at once.
 */
export function waitUntil(exitsDir: string, check: () => Promise<boolean>, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let busy = false;
    let again = false;
    let done = false;
    let w: FSWatcher | undefined;
    const run = async (): Promise<void> => {
      if (done) return;
      if (busy) { again = true; return; }
      busy = true;
      try {
        do {
          again = false;
          if (await check()) { finish(); resolve(); return; }
        } while (again && !done);
      } catch (e) {
        finish();
        reject(e);
      } finally {
        busy = false;
      }
    };
    const onAbort = (): void => { finish(); reject(signal!.reason ?? new Error('aborted')); };
    const finish = (): void => {
      done = true;
      w?.close();
      rechecks.delete(recheck);
      if (rechecks.size === 0 && timer) { clearInterval(timer); timer = undefined; }
      signal?.removeEventListener('abort', onAbort);
    };
    const recheck = (): void => { void run(); };
    if (signal?.aborted) { onAbort(); return; }
    signal?.addEventListener('abort', onAbort);
    try { w = watch(exitsDir, recheck); } catch { /* gone already: the checks below settle it */ }
    rechecks.add(recheck);
    timer ??= setInterval(tick, RECHECK_MS);
    void run();
  });
}
