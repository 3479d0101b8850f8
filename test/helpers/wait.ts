// Waiting on a condition instead of sleeping a fixed time: polls `cond` until it is truthy, failing with `what` when
// `timeoutMs` passes. The poll interval is short because the conditions are cheap (a stat, a request).
import { setTimeout as delay } from 'node:timers/promises';

export async function waitFor<T>(cond: () => T | Promise<T>, what = 'condition', timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}
