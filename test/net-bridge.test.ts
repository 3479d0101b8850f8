// The default bridge and published ports through the real docker CLI v28 on berthd (issue 6 networking):
// a container with no --network is on `bridge` (netavark, a per-daemon interface and subnet), inspect shows its
// address as docker does, containers reach each other by IP, -p with a random host port, -P, `port`, `ps`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, rmSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { berth } from './cli-helpers.ts';
import { startDaemon, importBusybox, haveBusybox, haveDocker, docker as dockerCli, waitFor, type StartedDaemon } from './helpers/index.ts';

const skip = !haveBusybox() ? 'busybox-static not installed' : !haveDocker() ? 'docker CLI not installed'
  : process.getuid?.() !== 0 ? 'bridge networking needs root' : false;
let d: StartedDaemon;
let d2: StartedDaemon;
const docker = (x: StartedDaemon, args: string[]) => dockerCli(args, { env: x.dockerEnv });

before(async () => {
  if (skip) return;
  [d, d2] = await Promise.all([startDaemon(), startDaemon()]);
  await Promise.all([importBusybox(d), importBusybox(d2)]);
  // an image that EXPOSEs two ports, for -P
  await importBusybox(d, 'bbexpose:latest', ['EXPOSE 80', 'EXPOSE 53/udp']);
});
after(async () => {
  if (skip) return;
  for (const x of [d, d2]) {
    if (!x || x === d2) { await x?.stop(); continue; }
    await docker(x, ['rm', '-f', ...(await docker(x, ['ps', '-aq'])).stdout.split('\n').filter(Boolean)]).catch(() => {});
    await x.stop();
  }
});

const k = (args: string[]) => docker(d, args);

/** The bridge interfaces present on the host. */
function bridges(): string[] {
  return execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter(Boolean);
}

test('default network is the bridge: inspect shows the address like docker; by IP between containers', { skip, timeout: 60_000 }, async () => {
  const a = await k(['run', '-d', '--name', 'web', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  assert.equal(a.code, 0, a.stderr);
  const ns = JSON.parse((await k(['inspect', '-f', '{{json .NetworkSettings}}', 'web'])).stdout);
  const ep = ns.Networks.bridge;
  assert.ok(ep, JSON.stringify(ns));
  assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
  assert.match(ep.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.ok(ep.IPPrefixLen > 0 && ep.IPPrefixLen <= 30);
  assert.match(ep.Gateway, /^\d+\.\d+\.\d+\.1$/);
  assert.match(ep.NetworkID, /^[0-9a-f]{64}$/);
  // the top-level (deprecated) fields repeat the default bridge's
  assert.deepEqual([ns.IPAddress, ns.Gateway, ns.MacAddress, ns.IPPrefixLen], [ep.IPAddress, ep.Gateway, ep.MacAddress, ep.IPPrefixLen]);
  assert.equal((await k(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'web'])).stdout.trim(), 'bridge');

  // `network inspect bridge` lists it, with this daemon's interface and subnet
  const net = JSON.parse((await k(['network', 'inspect', 'bridge'])).stdout)[0];
  const iface = net.Options['com.docker.network.bridge.name'];
  assert.ok(bridges().includes(iface), `${iface} in ${bridges().join(',')}`);
  assert.equal(net.Containers[(await k(['inspect', '-f', '{{.Id}}', 'web'])).stdout.trim()].IPv4Address, `${ep.IPAddress}/${ep.IPPrefixLen}`);

  // once the bridge's keeper is up, a container without ports joins by a plain veth pair (runtime/veth.ts),
  // with docker's MAC for its address, and reaches the first one
  const keeper = createHash('sha256').update(`berth keeper ${iface}`).digest('hex');
  await waitFor(() => { try { return execFileSync('ip', ['-n', `berth-${keeper}`, '-o', '-4', 'addr'], { encoding: 'utf8' }).includes('inet '); } catch { return false; } }, 'the default bridge keeper', 20_000);
  const f = await k(['run', '-d', '--name', 'fast', 'busybox', 'sleep', '60']);
  assert.equal(f.code, 0, f.stderr);
  assert.ok(existsSync(`/sys/class/net/vb${f.stdout.trim().slice(0, 12)}`), 'the fast path veth');
  const fip = (await k(['inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.MacAddress}}', 'fast'])).stdout.trim().split(' ');
  assert.equal(fip[1], `02:42:${fip[0]!.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`);
  const fx = await k(['exec', 'fast', 'sh', '-c', `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${ep.IPAddress} 80`]);
  assert.match(fx.stdout, /^HTTP\/1\.[01] 200 OK/, fx.stderr);
  assert.equal((await k(['rm', '-f', 'fast'])).code, 0);

  // another container reaches it by IP (wget of busybox httpd), but not by name on the default bridge (as docker)
  // (busybox-static's wget crashes here: nc speaks the HTTP)
  const b = await k(['run', '--rm', 'busybox', 'sh', '-c', `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${ep.IPAddress} 80; nslookup web >/dev/null 2>&1 && echo resolved || echo unresolved`]);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /^HTTP\/1\.[01] 200 OK/);
  assert.match(b.stdout, /unresolved\n$/);
  assert.equal((await k(['rm', '-f', 'web'])).code, 0);
});

test('two daemons on different data roots get different bridges and subnets and both work', { skip, timeout: 60_000 }, async () => {
  const [x, y] = await Promise.all([docker(d, ['run', '--rm', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), docker(d2, ['run', '--rm', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])]);
  assert.equal(x.code, 0, x.stderr);
  assert.equal(y.code, 0, y.stderr);
  const n1 = JSON.parse((await docker(d, ['network', 'inspect', 'bridge'])).stdout)[0];
  const n2 = JSON.parse((await docker(d2, ['network', 'inspect', 'bridge'])).stdout)[0];
  assert.notEqual(n1.Options['com.docker.network.bridge.name'], n2.Options['com.docker.network.bridge.name']);
  assert.notEqual(n1.IPAM.Config[0].Subnet, n2.IPAM.Config[0].Subnet);
  // user networks are br-<12 hex of the id>, as docker names them
  const c = await docker(d2, ['network', 'create', 'mine']);
  assert.equal(c.code, 0, c.stderr);
  const r = await docker(d2, ['run', '--rm', '--network', 'mine', 'busybox', 'true']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await docker(d2, ['network', 'rm', 'mine'])).code, 0);
  assert.match(c.stdout.trim(), /^[0-9a-f]{64}$/);
  // the default bridge stays between containers (as docker0), and goes with its daemon
  const iface = n2.Options['com.docker.network.bridge.name'];
  assert.ok(bridges().includes(iface), `${iface} kept after its containers left: ${bridges().join(',')}`);
  await d2.stop();
  assert.ok(!bridges().includes(iface), `${iface} removed at daemon stop: ${bridges().join(',')}`);
});

/** Resolves with what a TCP connection to 127.0.0.1:port reads until it closes. */
function fetchLocal(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => s.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    let out = '';
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('timeout')); });
    s.on('data', (b) => { out += b; });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

test('-p CONTAINERPORT picks a host port from the ephemeral range; port and ps show it like docker', { skip, timeout: 60_000 }, async () => {
  const r = await k(['run', '-d', '--name', 'rp', '-p', '80', '-p', '127.0.0.1::81', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  assert.equal(r.code, 0, r.stderr);
  const p = await k(['port', 'rp', '80']);
  assert.equal(p.code, 0, p.stderr);
  const [v4, v6] = p.stdout.trim().split('\n');
  const m = /^0\.0\.0\.0:(\d+)$/.exec(v4!);
  assert.ok(m, p.stdout);
  const hostPort = Number(m[1]);
  const [lo, hi] = execFileSync('cat', ['/proc/sys/net/ipv4/ip_local_port_range'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  assert.ok(hostPort >= lo! && hostPort <= hi!, String(hostPort));
  assert.equal(v6, `[::]:${hostPort}`);
  const all = await k(['port', 'rp']);
  assert.match(all.stdout, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${hostPort}\n80/tcp -> \\[::\\]:${hostPort}\n81/tcp -> 127\\.0\\.0\\.1:\\d+\n$`));
  // docker 28 prints the :: binding as [::]:PORT (docker 20.10's CLI printed :::PORT); berth ps prints as docker 28
  const ps = await k(['ps', '--format', '{{.Ports}}', '-f', 'name=rp']);
  assert.match(ps.stdout, new RegExp(`^0\\.0\\.0\\.0:${hostPort}->80/tcp, \\[::\\]:${hostPort}->80/tcp, 127\\.0\\.0\\.1:\\d+->81/tcp\n$`));
  const bps = await berth(['ps', '--format', '{{.Ports}}', '-f', 'name=rp'], { env: d.dockerEnv });
  assert.equal(bps.stdout, ps.stdout);
  const cols = ['ps', '-f', 'name=rp', '--format', 'table {{.Ports}}\t{{.Names}}'];
  assert.equal((await berth(cols, { env: d.dockerEnv })).stdout, (await k(cols)).stdout);
  // the mapping works
  assert.match(await fetchLocal(hostPort, '/hostname'), /200 OK/);
  // no such mapping: docker's message and exit 1
  const none = await k(['port', 'rp', '90']);
  assert.deepEqual([none.code, none.stderr.trim()], [1, 'Error: No public port \'90\' published for rp']);
  for (const args of [['port', 'rp'], ['port', 'rp', '80'], ['port', 'rp', '81/tcp'], ['port', 'rp', '90']]) {
    const [x, y] = [await berth(args, { env: d.dockerEnv }), await k(args)];
    assert.deepEqual([x.code, x.stdout, x.stderr], [y.code, y.stdout, y.stderr], args.join(' '));
  }
  // a second container gets another port
  const r2 = await k(['run', '-d', '--name', 'rp2', '-p', '80', 'busybox', 'sleep', '60']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.notEqual((await k(['port', 'rp2', '80'])).stdout.split('\n')[0], v4);
  // an explicit port already published: docker's message, nothing left behind
  const dup = await k(['run', '-d', '--name', 'rp3', '-p', `${hostPort}:80`, 'busybox', 'sleep', '60']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${hostPort} failed: port is already allocated`));
  // ps --filter publish= (host ports) / expose= (container ports), ranges and protocols
  const rpId = (await k(['inspect', '-f', '{{.Id}}', 'rp'])).stdout.trim().slice(0, 12);
  assert.equal((await k(['ps', '-q', '-f', `publish=${hostPort}`])).stdout, `${rpId}\n`);
  assert.equal((await k(['ps', '-q', '-f', `publish=${hostPort}/udp`])).stdout, '');
  assert.equal((await k(['ps', '-q', '-f', 'expose=81', '-f', 'name=rp'])).stdout, `${rpId}\n`);
  assert.equal((await k(['ps', '-q', '-f', 'expose=1-79'])).stdout, '');
  assert.equal((await k(['rm', '-f', 'rp', 'rp2'])).code, 0);
  await k(['rm', '-f', 'rp3']);
});

test('-P publishes the image EXPOSEs; -p 99999:80 is refused with docker\'s message', { skip, timeout: 60_000 }, async () => {
  const r = await k(['run', '-d', '--name', 'pall', '-P', 'bbexpose', 'sleep', '60']);
  assert.equal(r.code, 0, r.stderr);
  const p = await k(['port', 'pall']);
  assert.match(p.stdout, /^53\/udp -> 0\.0\.0\.0:\d+\n53\/udp -> \[::\]:\d+\n80\/tcp -> 0\.0\.0\.0:\d+\n80\/tcp -> \[::\]:\d+\n$/);
  const ns = JSON.parse((await k(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'pall'])).stdout);
  assert.deepEqual(Object.keys(ns).sort(), ['53/udp', '80/tcp']);
  assert.equal((await k(['rm', '-f', 'pall'])).code, 0);
  const bad = await k(['run', '-p', '99999:80', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid hostPort: 99999/);
  const bbad = await berth(['run', '-p', '99999:80', 'busybox', 'true'], { env: d.dockerEnv });
  assert.deepEqual([bbad.code, bbad.stderr.replace(/\bberth\b/g, 'docker')], [bad.code, bad.stderr]);
  assert.equal((await k(['ps', '-aq', '-f', 'status=created'])).stdout, '');
});

test('daemon.json bridge, bip and default-address-pools: the bridge, its subnet, user networks, info', { skip, timeout: 60_000 }, async (t) => {
  const o = 100 + (process.pid % 100);
  const name = `brt${process.pid % 100000}`;
  const x = await startDaemon({ t, config: { bridge: name, bip: `10.212.${o}.1/24`, 'default-address-pools': [{ base: `10.213.${o}.0/24`, size: 26 }] } });
  await importBusybox(x);
  const r = await docker(x, ['run', '--rm', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`inet 10\\.212\\.${o}\\.\\d+/24`));
  const net = JSON.parse((await docker(x, ['network', 'inspect', 'bridge'])).stdout)[0];
  assert.deepEqual([net.IPAM.Config[0], net.Options['com.docker.network.bridge.name']], [{ Subnet: `10.212.${o}.0/24`, Gateway: `10.212.${o}.1` }, name]);
  assert.equal((await docker(x, ['network', 'create', 'pooled'])).code, 0);
  assert.equal((await docker(x, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'pooled'])).stdout.trim(), `10.213.${o}.0/26`);
  const info = await docker(x, ['info']);
  assert.match(info.stdout, new RegExp(` Default Address Pools:\\n   Base: 10\\.213\\.${o}\\.0/24, Size: 26\\n`));
  const binfo = await berth(['info'], { env: x.dockerEnv });
  assert.match(binfo.stdout, new RegExp(` Default Address Pools:\\n   Base: 10\\.213\\.${o}\\.0/24, Size: 26\\n`));
  await docker(x, ['network', 'rm', 'pooled']);
});

test('a default-bridge keeper left by a killed daemon is swept by the next daemon once nothing runs on it', { skip, timeout: 60_000 }, async (t) => {
  const x = await startDaemon();
  // killed below; on a failure before that, killed here (its keeper is then swept by the next daemon anyway)
  t.after(async () => { await x.kill(); rmSync(x.dir, { recursive: true, force: true }); });
  await importBusybox(x);
  assert.equal((await docker(x, ['run', '--rm', 'busybox', 'true'])).code, 0);
  const iface = JSON.parse((await docker(x, ['network', 'inspect', 'bridge'])).stdout)[0].Options['com.docker.network.bridge.name'];
  const keeper = createHash('sha256').update(`berth keeper ${iface}`).digest('hex');
  await waitFor(() => existsSync(`/run/berth/networks/keeper-${iface}.json`), 'the keeper recorded', 20_000);
  // the --rm container's teardown runs in the background: only the keeper and the endpoints made ahead for the next
  // containers (pool-<id>.json) are left on the bridge once it is done
  const prepared = () => readdirSync('/run/berth/networks').map((n) => /^pool-([0-9a-f]{12})[0-9a-f]{52}\.json$/.exec(n)?.[1]).filter(Boolean).map((h) => `vb${h}`);
  await waitFor(() => { try { return readdirSync(`/sys/class/net/${iface}/brif`).filter((p) => !prepared().includes(p)).length === 1; } catch { return false; } }, 'only the keeper on the bridge', 20_000);
  await x.kill();
  assert.ok(bridges().includes(iface));
  await startDaemon({ t });
  await waitFor(() => !bridges().includes(iface) && !existsSync(`/run/netns/berth-${keeper}`), `${iface} swept`, 20_000);
});

test('a daemon starting tears down endpoints on its bridges whose container is gone', { skip, timeout: 60_000 }, async (t) => {
  const y = await startDaemon();
  const iface = JSON.parse((await docker(y, ['network', 'inspect', 'bridge'])).stdout)[0].Options['com.docker.network.bridge.name'];
  await y.stop({ keep: true });
  // what a daemon killed during an rm's background teardown leaves: a namespace and its record, no container
  const orphan = createHash('sha256').update(`orphan ${process.pid} ${Date.now()}`).digest('hex');
  execFileSync('ip', ['netns', 'add', `berth-${orphan}`]);
  const rec = `/run/berth/networks/ctr-${orphan}.json`;
  writeFileSync(rec, JSON.stringify({ networks: { bridge: { berth_veth: `vb${orphan.slice(0, 12)}`, port_mappings: [], networks: { bridge: { interface_name: 'eth0' } }, network_info: { bridge: { network_interface: iface } } } } }));
  t.after(() => { try { execFileSync('ip', ['netns', 'delete', `berth-${orphan}`], { stdio: 'ignore' }); } catch { /* gone */ } rmSync(rec, { force: true }); });
  await startDaemon({ dir: y.dir, t });
  t.after(() => rmSync(y.dir, { recursive: true, force: true })); // after the restarted daemon's stop
  await waitFor(() => !existsSync(rec) && !existsSync(`/run/netns/berth-${orphan}`), 'the orphan torn down', 20_000);
});
