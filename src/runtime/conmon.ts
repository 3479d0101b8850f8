// Talking to conmon and the OCI runtime CLI (crun or runc). conmon double-forks away from us, runs
// `<runtime> create`, holds the container's stdio (the pty master with -t), writes the k8s-file log, offers the
// attach socket and ctl fifo in the bundle, and writes the exit code to <exit-dir>/<id> — so none of that needs
// berthd alive (podman libpod/oci_conmon_*.go passes the same flags).
import { spawn, execFile } from 'node:child_process';
import { open, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { internal, failedPrecondition, notFound, invalidArgument } from '../errors/index.ts';

export interface ConmonLaunch {
  conmon: string;
  runtimePath: string;
  /** --root for the runtime's state (tmpfs). */
  runtimeRoot: string;
  id: string;
  bundle: string;
  logPath: string;
  exitDir: string;
  socketDir: string;
  tty: boolean;
  stdin: boolean;
  /** Keep the container's stdin open when an attach client closes its side (docker's StdinOnce=false). */
  leaveStdinOpen?: boolean;
  /** Rotate the log at this many bytes (docker's --log-opt max-size); conmon keeps one file. */
  logSizeMax?: number;
}

/** Paths inside a bundle that conmon and we agree on. */
export const bundleFiles = (bundle: string) => ({
  config: `${bundle}/config.json`,
  pidFile: `${bundle}/pidfile`,
  conmonPid: `${bundle}/conmon.pid`,
  attach: `${bundle}/attach`,
  ctl: `${bundle}/ctl`,
  oom: `${bundle}/oom`,
});

/**
 * Starts conmon, which creates (not starts) the container. Resolves with the container's init pid once the
 * runtime's `create` succeeded; rejects with the runtime's own message when it failed (for a missing
 * executable the error has code EXEC_NOT_FOUND: docker's exit 127).
 */
export function launchConmon(l: ConmonLaunch): Promise<{ pid: number }> {
  const f = bundleFiles(l.bundle);
  const args = [
    '--api-version', '1', '-c', l.id, '-u', l.id, '-n', l.id.slice(0, 12), '-r', l.runtimePath, '-b', l.bundle,
    '-p', f.pidFile, '-P', f.conmonPid, '-l', `k8s-file:${l.logPath}`, '--exit-dir', l.exitDir,
    '--persist-dir', l.bundle, '--socket-dir-path', l.socketDir, '--log-level', 'warning',
    '--runtime-arg', `--root=${l.runtimeRoot}`,
    // conmon fsyncs the log when the container ends, before it writes the exit file: on a busy disk that held
    // every exit (and `run --rm`) back by a journal commit, tens of ms. dockerd's json-file log is not fsynced either.
    '--no-sync-log',
  ];
  if (l.tty) args.push('-t');
  if (l.stdin) args.push('-i');
  if (l.leaveStdinOpen) args.push('--leave-stdin-open');
  if (l.logSizeMax && l.logSizeMax > 0) args.push('--log-size-max', String(l.logSizeMax));
  return new Promise((resolve, reject) => {
    // fd 3 is conmon's sync pipe: one JSON object {"data": pid} or {"data": -1, "message": "..."}.
    const child = spawn(l.conmon, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
      // conmon writes some files (an `oom` marker) relative to its working directory: keep them in the bundle
      cwd: l.bundle,
    });
    let text = '';
    let stderr = '';
    const sync = child.stdio[3] as NodeJS.ReadableStream;
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('error', (e) => reject(failedPrecondition(`conmon: ${e.message}`, { cause: e })));
    // conmon keeps the pipe open after its first message (podman reads exec exit codes from it later): act on
    // the first line, and treat an end before it as a failure.
    let settled = false;
    sync.on('data', (d) => {
      text += d;
      if (!settled && text.includes('\n')) { settled = true; onLine(text.slice(0, text.indexOf('\n'))); (sync as unknown as { destroy(): void }).destroy(); }
    });
    sync.on('end', () => {
      if (settled) return;
      settled = true;
      if (text.trim()) { onLine(text.trim()); return; }
      reject(internal(`conmon exited without reporting the container: ${stderr.trim()}`));
    });
    const onLine = (line: string): void => {
      let msg: { data?: number; message?: string };
      try { msg = JSON.parse(line) as typeof msg; } catch { reject(internal(`conmon: unexpected sync message ${line}`)); return; }
      if (typeof msg.data === 'number' && msg.data > 0) { resolve({ pid: msg.data }); return; }
      reject(runtimeCreateError(msg.message ?? stderr.trim()));
    };
    child.unref();
  });
}

/** Classifies a runtime create failure like docker: a missing command is exit 127, not runnable is 126. */
export function runtimeCreateError(message: string): Error {
  const m = message.trim();
  const text = `OCI runtime create failed: ${m}: unknown`;
  if (/executable file `?[^`]*`? not found|executable file not found|no such file or directory/i.test(m)) {
    return invalidArgument(text, { code: 'EXEC_NOT_FOUND' });
  }
  // crun says "open executable: Operation not permitted" for a directory or a non-executable file: docker's 126
  if (/permission denied|open executable: /i.test(m)) return invalidArgument(text, { code: 'EXEC_PERMISSION' });
  return internal(text, { code: 'RUNTIME_CREATE' });
}

/** Runs `<runtime> --root R <args>`; resolves stdout, rejects with the runtime's stderr. */
export function runtimeCli(runtimePath: string, runtimeRoot: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(runtimePath, [`--root=${runtimeRoot}`, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) { resolve(stdout); return; }
      const msg = (stderr || err.message).trim();
      if (/does not exist|not found|No such file/i.test(msg)) reject(notFound(msg, { code: 'RUNTIME_NO_CONTAINER' }));
      else reject(internal(msg, { code: 'RUNTIME_CLI' }));
    });
  });
}

/**
 * `<runtime> start` of a created container. crun's start opens `<root>/<id>/exec.fifo` for writing, unlinks it
 * and writes one byte, which releases the container's init (crun src/libcrun/status.c,
 * libcrun_status_write_exec_fifo); with no poststart hooks and no notify socket (berth's specs have neither)
 * that is all it does, so it is done here and saves a process spawn (~10 ms, more under load) on every start.
 * runc (whose start reads the fifo instead) and anything unexpected (no reader: ENXIO) go through the CLI.
 */
export async function startCreated(runtime: 'crun' | 'runc', runtimePath: string, runtimeRoot: string, id: string): Promise<void> {
  if (runtime === 'crun') {
    const fifo = join(runtimeRoot, id, 'exec.fifo');
    const fh = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    if (fh) {
      try {
        await unlink(fifo);
        await fh.write(Buffer.alloc(1));
        return;
      } finally {
        await fh.close();
      }
    }
  }
  await runtimeCli(runtimePath, runtimeRoot, ['start', id]);
}

export interface RuntimeState { status: 'created' | 'running' | 'paused' | 'stopped' | 'creating'; pid: number }

/** `<runtime> state id`, or undefined when the runtime does not know the container. */
export async function runtimeState(runtimePath: string, runtimeRoot: string, id: string): Promise<RuntimeState | undefined> {
  try {
    const st = JSON.parse(await runtimeCli(runtimePath, runtimeRoot, ['state', id])) as RuntimeState;
    return st;
  } catch (e) {
    if ((e as { kind?: string }).kind === 'NotFound') return undefined;
    // crun reports an unknown container with a plain error too; treat any state failure as unknown.
    return undefined;
  }
}
