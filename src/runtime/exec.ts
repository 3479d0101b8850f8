// `exec`: a new process in a running container, run by `<runtime> exec` under its own conmon (as podman), so a
// detached exec outlives berthd and an attached one gets the same pty/attach/log machinery as the container.
//
// containers/<id>/exec/<session>/
//   process.json   the OCI process (container's process with exec's args/env/user/cwd/tty)
//   exits/<id>     exit code (conmon names it after the container id)
//   attach ctl     conmon's attach socket and control fifo for this session
//   log            the session's k8s-file output
//
// conmon's pipes (conmon.c): it reads _OCI_STARTPIPE once before forking; with --exec-attach it writes
// {"data": 0} on _OCI_ATTACHPIPE once the attach socket exists and then waits for a second start message before
// running the runtime, so attaching first loses no output. _OCI_SYNCPIPE carries {"data": pid}.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile, readFile, rm, open } from 'node:fs/promises';
import { watch, constants } from 'node:fs';
import { join } from 'node:path';
import type { Writable, Readable } from 'node:stream';
import { conflict, internal, failedPrecondition } from '../errors/index.ts';
import type { Runtime } from './containers.ts';
import { runtimeStatus } from './status.ts';
import { resolveUser } from './user.ts';
import { runtimeCreateError } from './conmon.ts';
import { attach, type Attachment } from './attach.ts';

export interface ExecOptions {
  args: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  /** Attach stdin (docker exec -i). */
  stdin?: boolean;
  /** Don't attach (docker exec -d). */
  detach?: boolean;
  privileged?: boolean;
  consoleSize?: { height: number; width: number };
}

export interface ExecSession {
  id: string;
  pid: number;
  /** Output frames and stdin, unless detached. */
  attachment?: Attachment;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  resize(height: number, width: number): Promise<void>;
}

interface ProcessSpec { env: string[]; cwd: string; capabilities?: unknown; user: unknown; args: string[]; terminal?: boolean }

export async function execInContainer(rt: Runtime, id: string, o: ExecOptions): Promise<ExecSession> {
  const st = await rt.inspect(id);
  if (st.status !== 'running') throw conflict(`Container ${id} is not running`, { code: 'NOT_RUNNING' });
  const conmon = runtimeStatus().conmon;
  if (!conmon) throw failedPrecondition('conmon not found (install conmon)', { code: 'CONMON_MISSING' });
  const spec = await rt.spec(id) as { process: ProcessSpec };
  const sid = randomBytes(16).toString('hex');
  const dir = join(rt.dir(id), 'exec', sid);
  await mkdir(join(dir, 'exits'), { recursive: true });
  const env = new Map<string, string>();
  for (const kv of [...spec.process.env, ...(o.env ?? [])]) env.set(kv.split('=')[0]!, kv);
  if (o.tty && !env.has('TERM')) env.set('TERM', 'TERM=xterm');
  const user = o.user ? await resolveUser(rt.rootfs(id), o.user) : undefined;
  const proc = {
    ...spec.process,
    args: o.args,
    env: [...env.values()],
    cwd: o.workdir || spec.process.cwd,
    terminal: !!o.tty,
    ...(user ? { user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) } } : {}),
    ...(o.tty && o.consoleSize ? { consoleSize: o.consoleSize } : {}),
  };
  await writeFile(join(dir, 'process.json'), JSON.stringify(proc));
  const attached = !o.detach;
  const args = [
    '--api-version', '1', '-c', id, '-u', sid, '-n', id.slice(0, 12), '-r', rt.runtimePath(st.runtime), '-b', dir,
    '-p', join(dir, 'pid'), '-l', `k8s-file:${join(dir, 'log')}`, '--exit-dir', join(dir, 'exits'),
    '--socket-dir-path', join(rt.stateDir, 'socks'), '--log-level', 'warning', '--exec', '--exec-process-spec', join(dir, 'process.json'),
    '--runtime-arg', `--root=${rt.runtimeRoot(st.runtime)}`, '--no-sync-log', // as the container's (conmon.ts)
  ];
  if (o.tty) args.push('-t');
  if (o.stdin && attached) args.push('-i');
  if (attached) args.push('--exec-attach');
  await mkdir(join(rt.stateDir, 'socks'), { recursive: true });
  const child = spawn(conmon, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', ...(attached ? { _OCI_ATTACHPIPE: '5' } : {}) },
    detached: true,
  });
  child.unref();
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const sync = lines(child.stdio[3] as Readable);
  const start = child.stdio[4] as Writable;
  start.on('error', () => {});
  start.write('0');
  let attachment: Attachment | undefined;
  if (attached) {
    const ready = await lines((child.stdio as unknown as Readable[])[5]!).next();
    if (ready.done) throw internal(`conmon exec: no attach message: ${stderr.trim()}`);
    attachment = await attach(dir, join(rt.stateDir, 'bin'));
  }
  start.end('0');
  const first = await sync.next();
  if (first.done) throw internal(`conmon exec: no sync message: ${stderr.trim()}`);
  const msg = JSON.parse(first.value) as { data: number; message?: string };
  if (!(msg.data > 0)) {
    attachment?.close();
    await rm(dir, { recursive: true, force: true });
    throw runtimeCreateError(msg.message ?? stderr);
  }
  const exited = waitExitFile(join(dir, 'exits'), id);
  return {
    id: sid, pid: msg.data, attachment, exited,
    async resize(height: number, width: number) {
      const fh = await open(join(dir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
      try { await fh.write(`1 ${height} ${width}\n`); } finally { await fh.close(); }
    },
  };
}

async function* lines(src: Readable): AsyncGenerator<string> {
  let buf = '';
  for await (const chunk of src) {
    buf += String(chunk);
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) { yield buf.slice(0, i); buf = buf.slice(i + 1); }
  }
  if (buf.trim()) yield buf;
}

/** conmon names the exit file after the container id; its content is the decimal exit code (maybe mid-write). */
function waitExitFile(dir: string, name: string): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    const check = async (): Promise<void> => {
      const t = (await readFile(join(dir, name), 'utf8').catch(() => '')).trim();
      if (!done && /^-?\d+$/.test(t)) { done = true; w.close(); clearInterval(timer); resolve(Number(t)); }
    };
    const w = watch(dir, () => { void check(); });
    const timer = setInterval(() => { void check(); }, 1000);
    void check();
  });
}
