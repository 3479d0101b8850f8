// mount(2) and umount2(2) without spawning mount(8) each time. Node has no binding for either, and a
// `run --rm` needs three of them (mount at create, unmount at exit, the check at delete): each mount(8) or
// umount(8) costs a fork+exec from a large process plus libmount's start-up, 5–10 ms here on a quiet machine and
// tens of ms under load. One small C helper per Runtime (compiled like the attach relay, see relay.ts) reads
// requests from a pipe and answers each with one line, in order; it exits when berthd does (EOF).
//
// Wire (stdin): u32 little-endian length, then NUL-separated fields:
//   "m" type source target flags data cwd     mount(source, target, type, flags, data) run from cwd
//   "u" target flags                            umount2(target, flags)
//   "n" target                                  a new network namespace with lo up, kept by a bind mount on
//                                               target (an existing file), as `ip netns add` + `link set lo up`
// Reply (stdout): "0\n" or "<errno> <strerror>\n".
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { internal } from '../errors/index.ts';
import type { Mount } from '../snapshot/index.ts';
import { compileHelper } from './relay.ts';
import { sh } from './proc.ts';

const SOURCE = String.raw`#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
static int netns(const char *target) {
  pid_t p = fork();
  if (p < 0) return -1;
  if (p == 0) {
    struct ifreq ifr;
    int s;
    if (unshare(CLONE_NEWNET) < 0) _exit(errno);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) _exit(errno);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) _exit(errno);
    if (mount("/proc/self/ns/net", target, NULL, MS_BIND, NULL) < 0) _exit(errno);
    _exit(0);
  }
  int st;
  while (waitpid(p, &st, 0) < 0) if (errno != EINTR) return -1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  errno = WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : EIO;
  return -1;
}
static int readall(int fd, char *b, size_t n) {
  while (n) { ssize_t r = read(fd, b, n); if (r < 0 && errno == EINTR) continue; if (r <= 0) return -1; b += r; n -= (size_t)r; }
  return 0;
}
int main(void) {
  static char buf[65537];
  for (;;) {
    uint32_t len;
    if (readall(0, (char *)&len, 4) < 0) return 0;
    if (len > 65536) return 2;
    if (readall(0, buf, len) < 0) return 0;
    buf[len] = 0;
    char *f[8] = { 0 };
    int nf = 0;
    for (char *p = buf; nf < 8 && p <= buf + len; p += strlen(p) + 1) f[nf++] = p;
    int r = -1;
    errno = EINVAL;
    if (nf >= 7 && f[0][0] == 'm') {
      if (chdir(*f[6] ? f[6] : "/") == 0)
        r = mount(*f[2] ? f[2] : NULL, f[3], *f[1] ? f[1] : NULL, strtoul(f[4], NULL, 10), *f[5] ? f[5] : NULL);
    } else if (nf >= 3 && f[0][0] == 'u') {
      r = umount2(f[1], (int)strtol(f[2], NULL, 10));
    } else if (nf >= 2 && f[0][0] == 'n') {
      r = netns(f[1]);
    }
    char out[300];
    int n = r == 0 ? snprintf(out, sizeof out, "0\n") : snprintf(out, sizeof out, "%d %s\n", errno, strerror(errno));
    if (write(1, out, (size_t)n) < 0) return 1;
  }
}
`;

const MS_RDONLY = 1;
const MS_REMOUNT = 32;
const MS_BIND = 4096;
const MNT_DETACH = 2;

export class MountError extends Error {
  constructor(message: string, readonly errno: number) { super(message); }
}

interface Pending { resolve(): void; reject(e: Error): void; what: string }

/**
 * A few helpers: one answers requests in order, and an overlay mount under load takes tens of ms in the kernel,
 * so 50 containers created at once queued 1.6 s behind a single helper. Helpers start only when every existing
 * one is busy, up to `max`.
 */
export class MountPool {
  private readonly helpers: Mounter[] = [];

  constructor(private readonly helperDir: string, private readonly max = 4) {}

  private pick(): Mounter {
    const idle = this.helpers.find((h) => h.busy === 0);
    if (idle) return idle;
    if (this.helpers.length < this.max) {
      const h = new Mounter(this.helperDir);
      this.helpers.push(h);
      return h;
    }
    return this.helpers.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  mountAll(mounts: Mount[], target: string): Promise<void> { return this.pick().mountAll(mounts, target); }
  umount(target: string, opts: { detach?: boolean } = {}): Promise<void> { return this.pick().umount(target, opts); }
  newNetns(target: string): Promise<void> { return this.pick().newNetns(target); }
  close(): void { for (const h of this.helpers) h.close(); }
}

export class Mounter {
  private child?: ChildProcess;
  private pending: Pending[] = [];
  private out = '';
  /** Set when the helper cannot be built: fall back to mount(8)/umount(8). */
  private broken = false;

  /** `helperDir`: where the compiled helper lives (the runtime's state dir, `<stateDir>/bin`). */
  constructor(private readonly helperDir: string) {}

  /** Requests sent and not answered yet (mountAll counts as one until it is done). */
  get busy(): number { return this.pending.length + this.batches; }
  private batches = 0;

  /** Mounts the rootfs mounts (Snapshotter.mounts) on `target`, in order. */
  async mountAll(mounts: Mount[], target: string): Promise<void> {
    this.batches++;
    try { await this.mountEach(mounts, target); } finally { this.batches--; }
  }

  private async mountEach(mounts: Mount[], target: string): Promise<void> {
    for (const m of mounts) {
      if (m.type === 'overlay') {
        const flags = m.options.includes('ro') ? MS_RDONLY : 0;
        const data = m.options.filter((o) => o !== 'ro' && o !== 'rw').join(',');
        await this.mount('overlay', m.source, target, flags, data, m.cwd, () => sh('mount', ['-t', 'overlay', m.source, '-o', m.options.join(','), target], m.cwd));
      } else {
        const ro = m.options.includes('ro');
        await this.mount('', m.source, target, MS_BIND, '', undefined, () => sh('mount', ['--bind', ...(ro ? ['-o', 'ro'] : []), m.source, target]));
        // a bind mount takes ro only through a remount (as mount(8) does it)
        if (ro && !this.broken) await this.mount('', '', target, MS_BIND | MS_REMOUNT | MS_RDONLY, '', undefined, async () => {});
      }
    }
  }

  /** Unmounts `target` (lazily with `detach`). Rejects with MountError (EINVAL: not a mountpoint, EBUSY: busy). */
  umount(target: string, opts: { detach?: boolean } = {}): Promise<void> {
    if (this.broken) return sh('umount', [...(opts.detach ? ['-l'] : []), target]);
    return this.call(['u', target, String(opts.detach ? MNT_DETACH : 0)], `umount ${target}`);
  }

  /** A new network namespace with lo up, bind-mounted on `target` (an existing file). No mount(8) fallback. */
  newNetns(target: string): Promise<void> {
    if (this.broken) return Promise.reject(internal('mount helper unavailable'));
    return this.call(['n', target], `network namespace on ${target}`);
  }

  private async mount(type: string, source: string, target: string, flags: number, data: string, cwd: string | undefined, fallback: () => Promise<void>): Promise<void> {
    if (this.broken) return fallback();
    try {
      await this.call(['m', type, source, target, String(flags), data, cwd ?? ''], `mount ${type || 'bind'} on ${target}`);
    } catch (e) {
      if (this.broken) return fallback();
      throw e;
    }
  }

  private call(fields: string[], what: string): Promise<void> {
    let child: ChildProcess;
    try {
      child = this.proc();
    } catch {
      this.broken = true;
      return Promise.reject(internal('mount helper unavailable'));
    }
    const payload = Buffer.from(fields.join('\0'));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(payload.length);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ resolve, reject, what });
      // keep the event loop alive only while an answer is due (berthd must be able to exit otherwise)
      (child.stdout as Socket).ref();
      child.stdin!.write(Buffer.concat([head, payload]));
    });
  }

  private proc(): ChildProcess {
    if (this.child) return this.child;
    const bin = compileHelper(this.helperDir, 'berth-mount', SOURCE);
    const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child = child;
    child.stdin!.on('error', () => {});
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      this.out += d;
      for (let i = this.out.indexOf('\n'); i >= 0; i = this.out.indexOf('\n')) {
        const line = this.out.slice(0, i);
        this.out = this.out.slice(i + 1);
        const p = this.pending.shift();
        if (!p) continue;
        if (line === '0') p.resolve();
        else {
          const sp = line.indexOf(' ');
          p.reject(new MountError(`${p.what}: ${line.slice(sp + 1)}`, Number(line.slice(0, sp))));
        }
      }
      if (this.pending.length === 0) (child.stdout as Socket).unref();
    });
    const gone = (): void => {
      if (this.child !== child) return;
      this.child = undefined;
      this.out = '';
      for (const p of this.pending.splice(0)) p.reject(internal(`${p.what}: the mount helper exited`));
    };
    child.on('exit', gone);
    child.on('error', () => { this.broken = true; gone(); });
    child.unref();
    (child.stdin as unknown as Socket).unref();
    (child.stdout as Socket).unref();
    return child;
  }

  /** Stops the helper (tests; berthd simply exits and the helper sees EOF). */
  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }
}
