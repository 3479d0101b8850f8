// `npm run bench -- containers [n]`: container start-up latency and scale, end to end, side by side in one run
// (issue 6's performance figures). Every tool runs the same busybox rootfs, interleaved round by round so that
// load from other work on the machine hits all of them alike:
//   berth          `berth run --rm --network none bb true`: the CLI bundle against a berthd started here, run as
//                  a user runs it (bin/berth.js executed, so its shebang applies: node without NODE_EXTRA_CA_CERTS)
//   docker→berthd  the docker CLI (Go, fast start-up) against the same berthd: the daemon's share alone
//   docker         `docker run --rm --network none bb true` on Debian's dockerd 20.10 (bench/anchors.ts)
//   … (default network)  the same on each one's default bridge (berth: an endpoint made ahead, bridgepool.ts)
//   podman         `podman run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 bb true`
//   bare crun      the floor: `crun run` of a bundle with berth's spec on the unpacked rootfs
// then 50 containers started in parallel (`run -d … sleep`) and removed (`rm -f`), berth vs docker, and the
// daemons' RSS while the 50 run. Nothing is left running: daemons, containers and mounts are cleaned up.
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { createReadStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { median, medianMs, report, rssOf, sh, timeIt, type Row } from './lib.ts';
import { startDockerd, haveDockerd, type Dockerd } from './anchors.ts';
import { busyboxRootfsTar, importBusybox, startDaemon, REPO } from '../test/helpers/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { runtimeStatus, generateSpec, resolveUser } from '../src/runtime/index.ts';
import { digestTar } from '../src/archive/index.ts';

const DOCKER = '/usr/local/bin/docker';
// The npm bin: the CLI bundle with its code cache, executed as a user's shell does (not `node bin/berth.js`, which
// would skip the shebang's `env -u NODE_EXTRA_CA_CERTS`: 80 ms of PEM parsing at every node start-up here).
// Every tool runs in this process's environment; the anchors (docker, podman, crun) are Go or C and do not read it.
const BERTH = join(REPO, 'bin', 'berth.js');
const P = 50;

export default async function (args: string[]): Promise<void> {
  if (args[0] === 'unpack') return unpackBench(Number(args[1] ?? 200));
  const n = Number(args[0] ?? 11);
  const dir = await mkdtemp(join(tmpdir(), 'bct-'));
  const st = runtimeStatus();
  let dockerd: Dockerd | undefined;
  // a private exec root: the bench never touches /run/berth of a berthd already running here
  const d = await startDaemon({ env: { BERTH_EXEC_ROOT: join(dir, 'exec') } });
  try {
    const tar = await busyboxRootfsTar(dir);
    await importBusybox(d, 'bb:latest');
    const berthEnv = { ...d.dockerEnv, BERTH_HOST: d.host };
    const berth = (a: string[]) => sh(BERTH, a, { env: berthEnv });
    const dockerOnBerth = (a: string[]) => sh(DOCKER, a, { env: d.dockerEnv });
    const RUN = ['run', '--rm', '--network', 'none', 'bb', 'true'];

    // The floor: berth's spec for the same command, rootfs = the unpacked layer (read-only), `crun run`.
    const snaps = new Snapshotter(new DataRoot(join(dir, 'floor')));
    const diffId = (await digestTar(createReadStream(tar))).diffId!;
    await snaps.unpack({ chainId: diffId, diffId, source: createReadStream(tar) });
    const bundle = join(dir, 'bundle');
    await mkdir(bundle);
    const fs = snaps.fsPath(diffId);
    await writeFile(join(bundle, 'config.json'), JSON.stringify(generateSpec({ id: 'f'.repeat(64), cmd: ['true'], readOnly: true }, { rootfs: fs, user: await resolveUser(fs, undefined) })));
    const crun = st.runtimes[st.default ?? 'crun']!;

    const tools: Record<string, () => Promise<unknown>> = {
      'berth': () => berth(RUN),
      'berth (default network)': () => berth(['run', '--rm', 'bb', 'true']),
      'docker→berthd': () => dockerOnBerth(RUN),
      'berth version (CLI start-up)': () => berth(['version']),
      'bare crun': () => sh(crun, [`--root=${join(dir, 'bare')}`, 'run', '-b', bundle, `b${randomBytes(6).toString('hex')}`]),
    };
    if (existsSync('/usr/bin/podman')) {
      const pr = ['--root', join(dir, 'podman', 'root'), '--runroot', join(dir, 'podman', 'run'), '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
      try {
        await sh('podman', [...pr, 'import', tar, 'bb:latest']);
        tools.podman = () => sh('podman', [...pr, 'run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', 'bb', 'true']);
      } catch (e) {
        console.error(`podman anchor skipped: ${String(e).slice(0, 300)}`);
      }
    }
    if (await haveDockerd()) {
      dockerd = await startDockerd();
      const env = dockerd.env;
      await sh(DOCKER, ['import', tar, 'bb:latest'], { env });
      tools.docker = () => sh(DOCKER, RUN, { env });
      tools['docker (default network)'] = () => sh(DOCKER, ['run', '--rm', 'bb', 'true'], { env });
    }

    // warm-up (first runs compile helpers, fill caches), then n interleaved rounds
    for (const [k, f] of Object.entries(tools)) {
      // a tool that fails here is left out of the rounds (and its rows), with the reason
      try { await f(); } catch (e) { console.error(`${k} left out: ${String(e).slice(0, 300)}`); delete tools[k]; }
    }
    const times: Record<string, number[]> = {};
    for (let i = 0; i < n; i++) {
      for (const [k, f] of Object.entries(tools)) (times[k] ??= []).push((await timeIt(f)).ms);
    }
    const m = (k: string): number => (times[k] ? median(times[k]) : 0);
    const range = (k: string): string => {
      const xs = [...(times[k] ?? [])].sort((a, b) => a - b);
      return xs.length ? `${xs[Math.floor(xs.length / 4)]!.toFixed(0)}–${xs[Math.floor((xs.length * 3) / 4)]!.toFixed(0)} ms IQR` : '';
    };
    const rows: Row[] = [];
    const anchor = (name: string, b: string, a: string, target?: string): void => {
      if (times[b] && times[a]) rows.push({ name, berth: m(b), anchor: m(a), anchorName: a, ...(target ? { target } : {}) });
    };
    anchor('run --rm true, --network none', 'berth', 'docker', '≤ 0.4');
    anchor('run --rm true, --network none', 'berth', 'podman');
    anchor(`run --rm true vs the floor (+${(m('berth') - m('bare crun')).toFixed(0)} ms)`, 'berth', 'bare crun', '≤ +80 ms');
    anchor('run --rm true, default network', 'berth (default network)', 'docker (default network)', '≤ 0.4');
    anchor('daemon only: docker CLI → berthd vs dockerd', 'docker→berthd', 'docker', '≤ 0.4');
    anchor(`daemon only vs the floor (+${(m('docker→berthd') - m('bare crun')).toFixed(0)} ms)`, 'docker→berthd', 'bare crun');
    report(`containers: run --rm latency, median of ${n} interleaved rounds`, rows);
    for (const k of Object.keys(times)) console.log(`  ${k.padEnd(30)} median ${m(k).toFixed(0)} ms (${range(k)})`);

    if (dockerd) {
      const env = dockerd.env;
      const par = async (cli: (a: string[]) => Promise<string>, prefix: string): Promise<{ ms: number }> => {
        const names = Array.from({ length: P }, (_, i) => `${prefix}${i}`);
        return timeIt(async () => {
          await Promise.all(names.map((nm) => cli(['run', '-d', '--name', nm, '--network', 'none', 'bb', 'sleep', '1000'])));
          await cli(['rm', '-f', ...names]);
        });
      };
      // idle RSS with 50 running: start them, let the daemons settle, sample, then remove (not timed)
      const idle = async (cli: (a: string[]) => Promise<string>, pids: number[], prefix: string): Promise<number> => {
        const names = Array.from({ length: P }, (_, i) => `${prefix}${i}`);
        await Promise.all(names.map((nm) => cli(['run', '-d', '--name', nm, '--network', 'none', 'bb', 'sleep', '1000'])));
        await new Promise((r) => setTimeout(r, 3000));
        const rss = pids.reduce((a, p) => a + rssOf(p), 0);
        await cli(['rm', '-f', ...names]);
        return rss;
      };
      const dockerCli = (a: string[]) => sh(DOCKER, a, { env });
      const rowsP: Row[] = [];
      // two rounds, taking turns (one sample each swings with the machine's load); the rows give the better round
      const via: number[] = [];
      const viaB: number[] = [];
      const dock: number[] = [];
      for (let round = 0; round < 2; round++) {
        via.push((await par(dockerOnBerth, `b${round}x`)).ms);
        dock.push((await par(dockerCli, `d${round}x`)).ms);
        viaB.push((await par(berth, `c${round}x`)).ms);
      }
      const best = (xs: number[]) => Math.min(...xs);
      console.log(`  ${P} in parallel: docker CLI→berthd ${via.map((x) => x.toFixed(0)).join(', ')} ms; berth CLI ${viaB.map((x) => x.toFixed(0)).join(', ')} ms; docker ${dock.map((x) => x.toFixed(0)).join(', ')} ms`);
      rowsP.push({ name: `${P} in parallel, then rm -f (berth CLI)`, berth: best(viaB), anchor: best(dock), anchorName: 'docker', target: '≤ 0.5' });
      rowsP.push({ name: `${P} in parallel, then rm -f (docker CLI→berthd)`, berth: best(via), anchor: best(dock), anchorName: 'docker', target: '≤ 0.5' });
      const containerd = Number(execFileSync('sh', ['-c', `pgrep -P ${dockerd.pid} containerd || true`], { encoding: 'utf8' }).trim().split('\n')[0] || 0);
      const bRss = await idle(dockerOnBerth, [d.pid], 'r');
      const dRss = await idle(dockerCli, [dockerd.pid], 's');
      const dcRss = containerd ? await idle(dockerCli, [dockerd.pid, containerd], 't') : 0;
      rowsP.push({ name: `berthd RSS, ${P} containers running`, berth: bRss, anchor: dRss, anchorName: 'dockerd', unit: 'B', target: '< 80 MiB' });
      if (dcRss) rowsP.push({ name: `berthd RSS vs dockerd+containerd`, berth: bRss, anchor: dcRss, anchorName: 'd+ctrd', unit: 'B' });
      report(`containers: ${P} at once`, rowsP);
    }
  } finally {
    await d.stop();
    await dockerd?.stop();
    try { execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]); } catch { /* none */ }
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- containers unpack [MB]`: the first run of an image pays for unpacking its layers. A
 * gzip layer of MB megabytes (half random, half text: realistic compressibility) unpacked into a snapshot
 * vs `tar -xzf` of the same file (target ≤ 1.2×).
 */
async function unpackBench(mb: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bcu-'));
  try {
    const src = join(dir, 'src');
    await mkdir(src);
    const files = Math.max(1, Math.round(mb * 2));
    for (let i = 0; i < files; i++) {
      const half = randomBytes(256 * 1024);
      await writeFile(join(src, `f${i}`), Buffer.concat([half, Buffer.from(half.toString('hex').slice(0, 256 * 1024))]));
    }
    const layer = join(dir, 'layer.tar.gz');
    execFileSync('tar', ['-C', src, '-czf', layer, '.']);
    const diffId = `sha256:${execFileSync('sh', ['-c', `gzip -dc '${layer}' | sha256sum`], { encoding: 'utf8' }).split(' ')[0]}` as const;
    let k = 0;
    const berth = await medianMs(3, async () => {
      const snaps = new Snapshotter(new DataRoot(join(dir, `d${k++}`)));
      await snaps.unpack({ chainId: diffId, diffId, source: createReadStream(layer) });
    });
    const tar = await medianMs(3, async () => {
      const out = join(dir, `t${k++}`);
      await mkdir(out);
      await sh('tar', ['-C', out, '-xzf', layer]);
    });
    report(`unpack a ${mb} MB gzip layer`, [{ name: 'snapshot unpack vs tar -xzf', berth, anchor: tar, anchorName: 'tar', target: '≤ 1.2' }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
