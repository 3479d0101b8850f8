// The one native piece of attach (see README.md): conmon's attach socket is SOCK_SEQPACKET, which Node's net
// cannot dial. A 60-line C relay connects to it and speaks plain pipes: stdin bytes become packets, and each
// packet (conmon's 1-byte stream tag + data) becomes one of docker's 8-byte-header frames on stdout, which is
// exactly the Engine API's multiplexed attach format. It is compiled once per source version with the system C
// compiler (the same one usocket's install needs) into a root-owned directory.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition } from '../errors/index.ts';

const SOURCE = String.raw`#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static int writeall(int fd, const char *b, size_t n) {
  while (n) { ssize_t w = write(fd, b, n); if (w < 0) { if (errno == EINTR) continue; return -1; } b += w; n -= (size_t)w; }
  return 0;
}
int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: berth-attach SOCKET\n"); return 2; }
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) { perror("socket"); return 1; }
  /* sun_path holds 108 bytes: reach the socket through its directory's fd (as podman does). */
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  char *slash = strrchr(argv[1], '/');
  if (slash) {
    *slash = 0;
    int d = open(*argv[1] ? argv[1] : "/", O_PATH | O_DIRECTORY);
    if (d < 0) { perror("open"); return 1; }
    snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", d, slash + 1);
  } else snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
  /* tell the caller we are attached before any output can arrive */
  writeall(1, "\0\0\0\0\0\0\0\0", 8);
  static char buf[8 + 8193];
  struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = s, .events = POLLIN } };
  for (;;) {
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; return 1; }
    if (p[1].revents) {
      ssize_t n = recv(s, buf + 7, 8193, 0);
      if (n <= 0) return 0;
      if (n < 2) continue;
      unsigned char pipe = (unsigned char)buf[7];
      uint32_t len = (uint32_t)(n - 1);
      buf[0] = pipe == 3 ? 2 : 1; buf[1] = buf[2] = buf[3] = 0;
      buf[4] = (char)(len >> 24); buf[5] = (char)(len >> 16); buf[6] = (char)(len >> 8); buf[7] = (char)len;
      if (writeall(1, buf, len + 8) < 0) return 0;
    }
    if (p[0].fd >= 0 && p[0].revents) {
      ssize_t n = read(0, buf, 8192);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) { shutdown(s, SHUT_WR); p[0].fd = -1; continue; }
      if (send(s, buf, (size_t)n, 0) < 0) return 1;
    }
  }
}
`;

const cache = new Map<string, string>();

/** Path of the compiled relay under `dir` (compiling it on first use). FailedPrecondition when no cc exists. */
export function attachRelay(dir: string): string {
  return compileHelper(dir, 'berth-attach', SOURCE);
}

/**
 * Compiles a small C helper once per source version into `dir` (`<name>-<hash of source>`), with the system C
 * compiler; returns its path. Concurrent compilers (two daemons) each write a temp file and rename it.
 * FailedPrecondition when no compiler works.
 */
export function compileHelper(dir: string, name: string, source: string): string {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const bin = join(dir, `${name}-${hash}`);
  const hit = cache.get(bin);
  if (hit) return hit;
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const src = join(dir, `${name}-${hash}.${process.pid}.c`);
    const tmp = `${bin}.${process.pid}.tmp`;
    writeFileSync(src, source);
    try {
      execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', tmp, src], { stdio: 'pipe' });
      renameSync(tmp, bin);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw failedPrecondition(`cannot build ${name} (a C compiler is needed, as for usocket): ${String((e as { stderr?: Buffer }).stderr ?? e)}`, { code: 'RELAY_BUILD' });
    } finally {
      rmSync(src, { force: true });
    }
  }
  cache.set(bin, bin);
  return bin;
}
