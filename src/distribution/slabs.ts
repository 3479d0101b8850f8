// Receive buffers for blob bodies: 1 MiB slabs, each its own ArrayBuffer (so it can be transferred to the
// hashing worker and back), reused once every holder let go of them. Allocating a fresh slab per MiB made
// V8 count 256 MB of new external memory per 4 × 64 MB pull and run a full mark-compact every ~20 MB of it
// (12–14 per pull with --optimize-for-size, a fifth of the daemon's CPU); reused slabs keep it flat.
// Only whole slabs from takeSlab() may be given back, each once, by the last holder.

export const SLAB = 1 << 20;
/** Slabs kept for reuse (3 downloads at a time hold ~8 each while written: socket queue, worker window, writes in flight). */
const KEEP = 16;
/** Kept slabs are dropped after this long without a pull. */
const IDLE_MS = 10_000;
const free: ArrayBuffer[] = [];
let idle: NodeJS.Timeout | undefined;

export function takeSlab(): Buffer {
  const ab = free.pop();
  return ab ? Buffer.from(ab) : Buffer.allocUnsafeSlow(SLAB);
}

/** Gives back the slab under `piece` (any view of it); ignored for memory that is not a whole slab. */
export function giveSlab(piece: Uint8Array): void {
  const ab = piece.buffer;
  if (!(ab instanceof ArrayBuffer) || ab.byteLength !== SLAB || free.length >= KEEP) return;
  free.push(ab);
  if (idle) idle.refresh();
  else {
    idle = setTimeout(() => { free.length = 0; idle = undefined; }, IDLE_MS);
    idle.unref();
  }
}
