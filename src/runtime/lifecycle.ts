// The container lifecycle's state machine on conmon + crun/runc (issue 6 items 2–3): create, start, the
// reconciled state, wait, kill, delete. Runtime (containers.ts) adds the operations on top (stop, pause, list,
// attach, exec …). One directory per container:
//
// containers/<id>/
//   config.json      the OCI runtime spec (this directory is the bundle)
//   state.json       berth's record (ContainerState), rewritten atomically on every transition
//   rootfs/          the overlay mount point (lowers: image snapshots; upper/ + work/: the writable layer)
//   upper/ work/
//   ctr.log          conmon's k8s-file log (logs.ts)
//   exits/<id>       the exit code, written by conmon when the container ends (also while berthd is down)
//   oom              written by conmon when the memory cgroup killed the container
//   attach ctl       conmon's attach socket (SOCK_SEQPACKET, see relay.ts) and control fifo (resize)
//   hostname hosts resolv.conf
//
// Only this folder mounts. Every method is safe to call after a berthd restart: state comes from state.json
// reconciled with the exit file and `<runtime> state`.
import { mkdir, rm, writeFile, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJSON } from '../fsutil/index.ts';
import type { DataRoot } from '../layout/index.ts';
import type { Mount } from '../snapshot/index.ts';
import { conflict, notFound, failedPrecondition } from '../errors/index.ts';
import { generateSpec } from './spec.ts';
import { resolveUser } from './user.ts';
import { runtimeStatus, cgroupMode } from './status.ts';
import { launchConmon, runtimeCli, runtimeState, bundleFiles, startCreated } from './conmon.ts';
import { readExit, conmonAlive, processLive, isMountpoint } from './proc.ts';
import { steps, type TimingSink } from './timing.ts';
import type { ContainerState, ContainerStatus, RuntimeOptions, CreateOptions, StartOptions } from './state.ts';
import { makeContainerDirs, writeEtcFiles, joinNetns } from './bundle.ts';
import { ExitRecorder, ZERO_TIME } from './exits.ts';
import { waitUntil } from './exitwatch.ts';
import { MountPool } from './mounter.ts';
import { SeccompCache, SECCOMP_BPF_ANNOTATION } from './seccomp-cache.ts';
import { NetnsPool, netnsDir } from './netns.ts';

const EBUSY = 16;

export class Lifecycle {
  readonly root: DataRoot;
  readonly stateDir: string;
  protected readonly defaultRuntime?: 'crun' | 'runc';
  /** Step timings sink (debug); callers above may time their own steps through it too. */
  readonly timings?: TimingSink;
  protected readonly mounter: MountPool;
  private readonly seccomp: SeccompCache;
  /** Exits just recorded: concurrent inspects (the exit monitor, a wait request) share one (exits.ts). */
  private readonly exits: ExitRecorder;
  /** Prepared namespaces for `--network none` (netns.ts). */
  protected readonly netns: NetnsPool;
  /** Removals finishing in the background (see delete()). */
  private readonly cleanups = new Set<Promise<void>>();

  constructor(opts: RuntimeOptions) {
    this.root = opts.dataRoot;
    this.stateDir = opts.stateDir ?? '/run/berth';
    this.defaultRuntime = opts.runtime;
    this.timings = opts.timings;
    this.mounter = new MountPool(join(this.stateDir, 'bin'));
    this.seccomp = new SeccompCache(join(this.stateDir, 'seccomp'));
    this.netns = new NetnsPool(netnsDir(this.stateDir, this.root.root), this.mounter);
    this.exits = new ExitRecorder({
      dir: (id) => this.dir(id), exitFile: (id) => this.exitFile(id), save: (st) => this.save(st), timings: this.timings,
      // detached: the kernel finishes an overlay unmount (flushing it) in the background
      unmount: (id) => this.mounter.umount(this.rootfs(id), { detach: true }).catch(() => {}),
    });
  }

  dir(id: string): string { return this.root.container(id); }
  logPath(id: string): string { return join(this.dir(id), 'ctr.log'); }
  /** The OCI runtime's --root for `rt`. */
  runtimeRoot(rt: string): string { return join(this.stateDir, rt); }
  protected exitFile(id: string): string { return join(this.dir(id), 'exits', id); }
  /** The container's mounted root filesystem. */
  rootfs(id: string): string { return join(this.dir(id), 'rootfs'); }
  /** The container's writable layer (for diff/commit/export). */
  upperDir(id: string): string { return join(this.dir(id), 'upper'); }
  workDir(id: string): string { return join(this.dir(id), 'work'); }

  /** The OCI runtime binary for `rt`; FailedPrecondition when it is not installed. */
  runtimePath(rt: 'crun' | 'runc'): string {
    const p = runtimeStatus().runtimes[rt];
    if (!p) throw failedPrecondition(`OCI runtime ${rt} not found`, { code: 'RUNTIME_MISSING' });
    return p;
  }

  /**
   * Rewrites state.json atomically (temp + rename) but without fsync: after a crash the record may be one
   * transition old, and inspect() reconciles it from the exit file and the runtime anyway. Saves ~2 fsyncs per
   * transition on the `run --rm` path.
   */
  protected async save(s: ContainerState): Promise<void> {
    const p = join(this.dir(s.id), 'state.json');
    const tmp = `${p}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(s));
    await rename(tmp, p);
  }

  /** Creates the container's directory, mounts its rootfs, writes the spec and has conmon create it. */
  async create(o: CreateOptions): Promise<ContainerState> {
    const status = runtimeStatus();
    const rt = o.runtime ?? this.defaultRuntime ?? status.default;
    if (!rt) throw failedPrecondition('no OCI runtime available (install crun or runc)', { code: 'RUNTIME_MISSING' });
    if (!status.conmon) throw failedPrecondition('conmon not found (install conmon)', { code: 'CONMON_MISSING' });
    const dir = this.dir(o.id);
    const t = steps(this.timings, 'create', o.id);
    if (existsSync(join(dir, 'state.json'))) throw conflict(`container ${o.id} already exists`, { code: 'CONTAINER_EXISTS' });
    await makeContainerDirs(dir);
    const state: ContainerState = {
      id: o.id, status: 'created', runtime: rt, tty: !!o.tty, openStdin: !!o.openStdin, stdinOnce: !!o.stdinOnce,
      pid: 0, exitCode: 0, oomKilled: false, error: '', createdAt: new Date().toISOString(), startedAt: ZERO_TIME,
      finishedAt: ZERO_TIME, chain: o.chain, mounts: o.rootfsMounts, stopSignal: o.image?.StopSignal, logSizeMax: o.logSizeMax,
      ...(o.deferLaunch ? { deferred: true } : {}),
    };
    t.mark('dirs');
    // --network none joins a namespace made ahead (netns.ts), when one is ready
    const ns = (o.network ?? 'none') === 'none' && !o.deferLaunch ? this.netns.take() : undefined;
    if (ns) state.netns = ns;
    try {
      const rootfs = this.rootfs(o.id);
      // the /etc files do not need the rootfs: written while it is mounted
      const [user, etc] = await Promise.all([
        (async () => {
          await this.mountRootfs(o.id, o.rootfsMounts);
          const u = await resolveUser(rootfs, o.user ?? o.image?.User);
          await mkdir(join(rootfs, o.workdir || o.image?.WorkingDir || '/'), { recursive: true });
          return u;
        })(),
        writeEtcFiles(dir, o.hostname || o.id.slice(0, 12), o.extraHosts, o.resolvConf),
      ]);
      t.mark('mount+user+etc');
      const spec = generateSpec(ns ? { ...o, network: { netns: ns } } : o, { rootfs, user, etc, cgroupV2: cgroupMode() === 'v2' });
      // crun: a profile compiled before is passed precompiled (seccomp-cache.ts)
      const seccomp = rt === 'crun' ? (spec.linux as { seccomp?: unknown } | undefined)?.seccomp : undefined;
      const key = seccomp ? this.seccomp.key(this.runtimePath(rt), seccomp) : undefined;
      const bpf = key ? await this.seccomp.get(key) : undefined;
      if (bpf) (spec as { annotations: Record<string, string> }).annotations[SECCOMP_BPF_ANNOTATION] = bpf;
      await writeFile(bundleFiles(dir).config, JSON.stringify(spec));
      t.mark('spec');
      if (state.deferred) {
        await this.save(state);
        t.done();
        return state;
      }
      await this.launch(state);
      t.mark('conmon');
      if (key && !bpf) await this.seccomp.harvest(key, this.runtimeRoot(rt), o.id);
      t.done();
      return state;
    } catch (e) {
      await this.cleanupFailed(o.id);
      if (ns) await this.netns.release(ns);
      throw e;
    }
  }

  private async launch(state: ContainerState): Promise<void> {
    const st = runtimeStatus();
    await mkdir(join(this.stateDir, 'socks'), { recursive: true });
    await mkdir(this.runtimeRoot(state.runtime), { recursive: true });
    const { pid } = await launchConmon({
      conmon: st.conmon!, runtimePath: this.runtimePath(state.runtime), runtimeRoot: this.runtimeRoot(state.runtime),
      id: state.id, bundle: this.dir(state.id), logPath: this.logPath(state.id), exitDir: join(this.dir(state.id), 'exits'),
      socketDir: join(this.stateDir, 'socks'), tty: state.tty, stdin: state.openStdin, leaveStdinOpen: !state.stdinOnce,
      logSizeMax: state.logSizeMax,
    });
    state.pid = pid;
    state.status = 'created';
    delete state.deferred;
    await this.save(state);
  }

  private async cleanupFailed(id: string): Promise<void> {
    await this.unmount(this.rootfs(id));
    await rm(this.dir(id), { recursive: true, force: true });
  }

  protected async mountRootfs(id: string, mounts: Mount[]): Promise<void> {
    // an exit still being recorded unmounts the rootfs: let it finish first
    await this.exits.settled(id);
    const target = this.rootfs(id);
    if (await isMountpoint(target)) return;
    // A `volatile` overlay (--rm containers, as podman mounts them) leaves work/incompat/volatile behind, and the
    // kernel refuses that workdir again (the marker says writes may be lost). Remounting is ours after our own
    // unmount (restart, cp): nothing was lost. After a crash an --rm container is removed, never remounted.
    for (const m of mounts) {
      if (!m.options?.includes('volatile')) continue;
      const work = m.options.find((o) => o.startsWith('workdir='))?.slice(8);
      if (work) await rm(join(work, 'work', 'incompat', 'volatile'), { recursive: true, force: true });
    }
    await this.mounter.mountAll(mounts, target);
  }

  /** Unmounts when mounted; a busy mount is left (docker leaves it too and retries at the next transition). */
  private async unmount(target: string): Promise<void> {
    await this.mounter.umount(target).catch(() => {});
  }

  /** The reconciled state: exit file and `<runtime> state` win over the record. NotFound for unknown ids. */
  async inspect(id: string): Promise<ContainerState> {
    const s = await readJSON<ContainerState>(join(this.dir(id), 'state.json'));
    if (!s) throw notFound(`No such container: ${id}`, { code: 'CONTAINER_UNKNOWN' });
    if (s.status === 'exited' || s.status === 'dead' || s.deferred) return s;
    const code = await readExit(this.exitFile(id));
    if (code !== undefined) return this.exits.record(s, code);
    // Fast paths (no runtime process spawned): the recorded init process lives and so does its conmon; or the
    // process is gone and conmon lives, which is an exit being written (conmon writes the exit file just after
    // it reaps the process, and the exit watch wakes on the file's creation, before its content: asking the
    // runtime here put a `<runtime> state` spawn, 10–20 ms, between every exit and its noticing).
    if (s.pid > 0) {
      const live = await processLive(s.pid);
      if (await conmonAlive(this.dir(id))) {
        if (live) return s;
        if (s.status === 'running' || s.status === 'paused') return s;
      }
    }
    const rs = await runtimeState(this.runtimePath(s.runtime), this.runtimeRoot(s.runtime), id);
    if (!rs || rs.status === 'stopped') {
      // conmon writes the exit file just after the runtime reports the process gone: while conmon lives, the
      // container is still ending. Gone without an exit file (reboot, conmon killed): docker reports exited.
      if (await conmonAlive(this.dir(id))) return s;
      const again = await readExit(this.exitFile(id));
      return this.exits.record(s, again ?? 255, again === undefined ? 'container state lost' : '');
    }
    const status: ContainerStatus = rs.status === 'paused' ? 'paused' : rs.status === 'running' ? 'running' : 'created';
    if (status !== s.status || rs.pid !== s.pid) { s.status = status; s.pid = rs.pid; await this.save(s); }
    return s;
  }

  /**
   * Starts a created container; an exited one is created again first (docker start/restart), and so is one
   * created with deferLaunch. `o.netns` is the network namespace it joins (written into its spec first).
   */
  async start(id: string, o: StartOptions = {}): Promise<ContainerState> {
    const t = steps(this.timings, 'start', id);
    let s = await this.inspect(id);
    t.mark('inspect');
    if (s.status === 'running' || s.status === 'paused') return s;
    if (o.netns && (s.status === 'exited' || s.deferred)) await joinNetns(bundleFiles(this.dir(id)).config, o.netns);
    // a prepared namespace is gone after a reboot (/run): a new one, as the runtime makes it
    if (s.netns && s.status === 'exited' && !await isMountpoint(s.netns)) {
      await joinNetns(bundleFiles(this.dir(id)).config, undefined);
      delete s.netns;
    }
    if (s.deferred) {
      await this.mountRootfs(id, s.mounts ?? []);
      await this.launch(s);
    } else if (s.status === 'exited') {
      await this.mountRootfs(id, s.mounts ?? []);
      this.exits.forget(id);
      await runtimeCli(this.runtimePath(s.runtime), this.runtimeRoot(s.runtime), ['delete', '--force', id]).catch(() => {});
      await rm(this.exitFile(id), { force: true });
      await rm(bundleFiles(this.dir(id)).oom, { force: true });
      s = { ...s, exitCode: 0, oomKilled: false, error: '', finishedAt: ZERO_TIME };
      await this.launch(s);
    }
    const startedAt = new Date().toISOString();
    this.exits.started(id, startedAt);
    try {
      await startCreated(s.runtime, this.runtimePath(s.runtime), this.runtimeRoot(s.runtime), id);
    } catch (e) {
      this.exits.startFailed(id);
      throw e;
    }
    t.mark('runtime start');
    s.status = 'running';
    s.startedAt = startedAt;
    await this.save(s);
    t.mark('save');
    t.done();
    return s;
  }

  /**
   * Resolves with the final state when the container has exited (immediately if it already has). Watches the
   * exit directory; a slow re-check covers a watch that misses the event.
   */
  async wait(id: string, signal?: AbortSignal): Promise<ContainerState> {
    const first = await this.inspect(id);
    if (first.status === 'exited' || first.status === 'dead') { await this.exits.settled(id); return first; }
    let last = first;
    // an abort that fired while the first inspect ran (stop with -t 0) rejects at once
    await waitUntil(join(this.dir(id), 'exits'), async () => {
      last = await this.inspect(id);
      return last.status === 'exited' || last.status === 'dead';
    }, signal);
    // as docker's wait: the exit is recorded and the rootfs unmounted when it returns
    await this.exits.settled(id);
    return last;
  }

  /** Sends a signal (name like "TERM"/"SIGKILL" or number). Conflict when the container is not running. */
  async kill(id: string, sig: string | number = 'KILL'): Promise<void> {
    const s = await this.inspect(id);
    if (s.status !== 'running' && s.status !== 'paused') throw conflict(`Container ${id} is not running`, { code: 'NOT_RUNNING' });
    const name = typeof sig === 'number' ? String(sig) : sig.toUpperCase().replace(/^SIG/, '');
    // inspect just saw the init process alive: signal it as `<runtime> kill` does (kill(2) on that pid), without
    // spawning the runtime (tens of ms each when `rm -f` ends 50 containers at once). Signals Node does not
    // name (SIGRTMIN+n) go through the runtime.
    if (s.pid > 0) {
      try {
        process.kill(s.pid, /^\d+$/.test(name) ? Number(name) : `SIG${name}`);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') return;
      }
    }
    await runtimeCli(this.runtimePath(s.runtime), this.runtimeRoot(s.runtime), ['kill', id, name]);
  }

  /** Removes the container; a running one only with `force` (killed first), as docker rm -f. */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const t = steps(this.timings, 'delete', id);
    const s = await this.inspect(id);
    t.mark('inspect');
    if ((s.status === 'running' || s.status === 'paused') && !opts.force) {
      throw conflict(`You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`, { code: 'CONTAINER_RUNNING' });
    }
    if (s.status === 'running' || s.status === 'paused') {
      await this.kill(id, 'KILL').catch(() => {});
      await this.wait(id);
    }
    t.mark('kill');
    const runtimeDelete = () => runtimeCli(this.runtimePath(s.runtime), this.runtimeRoot(s.runtime), ['delete', '--force', id]).then(() => {}, () => {});
    // a created container's init still waits in the runtime: end it before its rootfs goes
    if (s.status !== 'exited' && s.status !== 'dead') await runtimeDelete();
    // busy (a copy out of it in flight): detached, so that removing the directory never walks into the mount
    await this.mounter.umount(this.rootfs(id)).catch((e: { errno?: number }) => e.errno === EBUSY ? this.mounter.umount(this.rootfs(id), { detach: true }) : undefined).catch(() => {});
    t.mark('umount');
    // The id disappears at once (one rename); what is left to do runs after the caller got its answer, off the
    // `run --rm` path: the runtime's state and cgroups (`<runtime> delete`, ~15 ms), the attach socket link and
    // the directory itself. tmp/ is emptied when berthd starts, so an interrupted removal leaves nothing behind.
    const trash = join(this.root.tmp, `rm-${id}-${randomBytes(4).toString('hex')}`);
    let moved = true;
    try {
      await mkdir(this.root.tmp, { recursive: true });
      await rename(this.dir(id), trash);
    } catch {
      moved = false;
    }
    const rest = (async () => {
      if (s.status === 'exited' || s.status === 'dead') await runtimeDelete();
      if (s.netns) await this.netns.release(s.netns);
      await rm(join(this.stateDir, 'socks', id), { force: true });
      await rm(moved ? trash : this.dir(id), { recursive: true, force: true });
    })().catch(() => {});
    if (!moved) await rest;
    else {
      this.cleanups.add(rest);
      void rest.finally(() => this.cleanups.delete(rest));
    }
    // the recorded exit is not forgotten here: an inspect that read state.json before the exit was saved and goes
    // on after this rename finds no exit file, no conmon.pid and no runtime state, and would record "container
    // state lost" (255) for the caller it serves (a run --rm's wait); the recorder drops the entry itself
    t.mark('rename');
    t.done();
  }

  /** Resolves when removals still finishing in the background are done (tests, benchmarks, shutdown). */
  async settled(): Promise<void> {
    while (this.cleanups.size) await Promise.all([...this.cleanups]);
  }


}
