// Compiled seccomp programs, reused across creates. crun turns the spec's seccomp profile into BPF through
// libseccomp on every create — measured here at ~20 ms of a ~60 ms `crun run` under load (a third of the
// floor). crun leaves the compiled program in its state dir (`<root>/<id>/seccomp.bpf`, which `crun exec`
// reads back) and accepts a precompiled one through the annotation `run.oci.seccomp_bpf_data` (base64 of the
// raw sock_filter array; crun(1) "run.oci.seccomp_bpf_data"), which podman's seccomp cache uses the same way.
// So the first container with a given profile pays for the compile, and every later one with the same profile
// and the same crun binary skips it. runc does not know the annotation: it is only added for crun.
//
// <stateDir>/seccomp/<key>.bpf    the programs (tmpfs: gone with a reboot, like the runtime state)
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';

export class SeccompCache {
  private readonly mem = new Map<string, string>();

  constructor(private readonly dir: string) {}

  /** The cache key: the profile as written into the spec, and the runtime binary it was compiled by. */
  key(runtimePath: string, seccomp: unknown): string {
    let id = runtimePath;
    try { const st = statSync(runtimePath); id += `:${st.size}:${st.mtimeMs}`; } catch { /* missing: create fails anyway */ }
    return createHash('sha256').update(id).update('\0').update(JSON.stringify(seccomp)).digest('hex').slice(0, 32);
  }

  /** The base64 program for `key`, or undefined (first use of that profile). */
  async get(key: string): Promise<string | undefined> {
    const hit = this.mem.get(key);
    if (hit) return hit;
    try {
      const b = await readFile(join(this.dir, `${key}.bpf`));
      if (!valid(b)) return undefined;
      const text = b.toString('base64');
      this.mem.set(key, text);
      return text;
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps the program crun compiled for container `id` (call after a create that went without the annotation).
   * Best effort: a missing or odd file only means the next create compiles again.
   */
  async harvest(key: string, runtimeRoot: string, id: string): Promise<void> {
    try {
      const b = await readFile(join(runtimeRoot, id, 'seccomp.bpf'));
      if (!valid(b)) return;
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const tmp = join(this.dir, `${key}.${process.pid}.tmp`);
      await writeFile(tmp, b, { mode: 0o600 });
      await rename(tmp, join(this.dir, `${key}.bpf`));
      this.mem.set(key, b.toString('base64'));
    } catch { /* next create compiles again */ }
  }
}

/** A BPF program is a non-empty array of 8-byte instructions (at most BPF_MAXINSNS = 4096). */
function valid(b: Buffer): boolean {
  return b.length > 0 && b.length % 8 === 0 && b.length <= 4096 * 8;
}
