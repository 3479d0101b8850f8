// `npm run bench -- network [n]`: what the default bridge costs a container, side by side in one run.
//   berth    `docker run --rm IMG true` through berthd: the default bridge (netavark setup + teardown) vs
//            `--network none`, and with `-p 80` (a random host port: port claim + DNAT rules)
//   podman   the same pair on podman's default network (netavark too), with this machine's ulimits
// Each row's ratio is bridge / none of the same engine; the extra milliseconds are printed too.
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianMs, report, sh, type Row } from './lib.ts';
import { startDaemon, importBusybox, busyboxRootfsTar } from '../test/helpers/index.ts';

const DOCKER = '/usr/local/bin/docker';

export default async function (args: string[]): Promise<void> {
  const n = Number(args[0] ?? 15);
  const rows: Row[] = [];
  const d = await startDaemon();
  const dir = await mkdtemp(join(tmpdir(), 'bnet-'));
  try {
    await importBusybox(d, 'bb:latest');
    const run = (extra: string[]) => () => sh(DOCKER, ['run', '--rm', ...extra, 'bb', 'true'], { env: d.dockerEnv });
    await run([])();
    await run(['--network', 'none'])();
    // interleaved rounds, so load from other processes falls on both sides alike
    const none: number[] = [];
    const bridge: number[] = [];
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      none.push(await medianMs(Math.ceil(n / 3), run(['--network', 'none'])));
      bridge.push(await medianMs(Math.ceil(n / 3), run([])));
      ports.push(await medianMs(Math.ceil(n / 3), run(['-p', '80'])));
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    rows.push({ name: 'docker run --rm true: bridge vs none', berth: med(bridge), anchor: med(none), anchorName: 'none' });
    rows.push({ name: 'docker run --rm -p 80 true: vs none', berth: med(ports), anchor: med(none), anchorName: 'none' });
    console.log(`berth: bridge adds ${(med(bridge) - med(none)).toFixed(0)} ms, -p 80 adds ${(med(ports) - med(none)).toFixed(0)} ms (rounds: none ${none.map((x) => x.toFixed(0))}, bridge ${bridge.map((x) => x.toFixed(0))}, -p ${ports.map((x) => x.toFixed(0))})`);

    if (existsSync('/usr/bin/podman')) {
      const pr = ['--root', join(dir, 'podman', 'root'), '--runroot', join(dir, 'podman', 'run'), '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
      try {
        const tar = await busyboxRootfsTar(dir);
        await sh('podman', [...pr, 'import', tar, 'bb:latest']);
        const prun = (extra: string[]) => () => sh('podman', [...pr, 'run', '--rm', ...extra, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', 'bb', 'true']);
        await prun([])();
        const pn = await medianMs(n, prun(['--network', 'none']));
        const pb = await medianMs(n, prun([]));
        rows.push({ name: 'podman run --rm true: bridge vs none', berth: pb, anchor: pn, anchorName: 'none' });
        rows.push({ name: 'bridge: berth vs podman (whole run)', berth: med(bridge), anchor: pb, anchorName: 'podman' });
        console.log(`podman: bridge adds ${(pb - pn).toFixed(0)} ms`);
      } catch (e) {
        console.error(`podman anchor skipped: ${String(e).slice(0, 300)}`);
      } finally {
        try { execFileSync('sh', ['-c', `grep -o " ${dir}/podman[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]); } catch { /* none */ }
      }
    }
    report('default bridge cost (ratio = with network / --network none)', rows);
  } finally {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
