// Default-bridge endpoints made ahead (runtime bridgepool.ts, routes/networks.ts takePrepared), through the real
// docker CLI v28 on berthd: a plain `run` gets one (its container id is the endpoint's), inspect shows its real
// address, it talks to other containers and to a published port, its removal frees the address, the pool
// refills in the background; anything asking more of the network takes the ordinary path; daemon stop drops the
// ready ones and a daemon killed with some ready has them swept by the next one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { startDaemon, importBusybox, haveBusybox, haveDocker, docker as dockerCli, waitFor, type StartedDaemon } from './helpers/index.ts';

const skip = !haveBusybox() ? 'busybox-static not installed' : !haveDocker() ? 'docker CLI not installed'
  : process.getuid?.() !== 0 ? 'bridge networking needs root' : false;
const NETS = '/run/berth/networks';
let d: StartedDaemon;
let iface = '';
const k = (args: string[], x: StartedDaemon = d) => dockerCli(args, { env: x.dockerEnv });

/** The ids of the endpoints ready on `bridge` (pool-<id>.json names them). */
function prepared(bridge: string): string[] {
  return readdirSync(NETS).flatMap((n) => {
    const m = /^pool-([0-9a-f]{64})\.json$/.exec(n);
    if (!m) return [];
    try { return JSON.parse(readFileSync(`${NETS}/${n}`, 'utf8')).bridge === bridge ? [m[1]!] : []; } catch { return []; }
  });
}

/** Address → owner id on `bridge` (the IPAM file). */
function ipam(bridge: string): Record<string, string> {
  try { return JSON.parse(readFileSync(`${NETS}/ipam-${bridge}.json`, 'utf8')); } catch { return {}; }
}

/** Waits until two endpoints are ready, each with its namespace and an address on the bridge. */
async function poolReady(bridge: string): Promise<string[]> {
  return waitFor(() => {
    const ids = prepared(bridge);
    const held = Object.values(ipam(bridge));
    return ids.length === 2 && ids.every((id) => existsSync(`/run/netns/berth-${id}`) && held.includes(id)) ? ids : undefined;
  }, 'two prepared endpoints', 30_000);
}

const bridgeOf = async (x: StartedDaemon): Promise<string> => JSON.parse((await k(['network', 'inspect', 'bridge'], x)).stdout)[0].Options['com.docker.network.bridge.name'];

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await importBusybox(d);
  iface = await bridgeOf(d);
});
after(async () => { await d?.stop(); });

test('a plain run gets an endpoint made ahead: real address in inspect and ip addr, traffic, freed at rm, refilled', { skip, timeout: 120_000 }, async () => {
  // a published port takes the ordinary path; the first bridge container brings up the keeper, then the pool
  const web = await k(['run', '-d', '--name', 'web', '-p', '80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  assert.equal(web.code, 0, web.stderr);
  const ready = await poolReady(iface);
  assert.ok(!ready.includes(web.stdout.trim()));

  const r = await k(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '60']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.ok(ready.includes(id), `${id} is one of the prepared ${ready.join(', ')}`);
  assert.ok(!existsSync(`${NETS}/pool-${id}.json`), 'no longer marked as prepared');
  // inspect: the endpoint's address, docker's MAC for it, the bridge's gateway
  const ep = JSON.parse((await k(['inspect', '-f', '{{json .NetworkSettings.Networks.bridge}}', 'p1'])).stdout);
  const net = JSON.parse((await k(['network', 'inspect', 'bridge'])).stdout)[0];
  assert.equal(ipam(iface)[ep.IPAddress], id);
  assert.equal(ep.Gateway, net.IPAM.Config[0].Gateway);
  assert.equal(ep.MacAddress, `02:42:${ep.IPAddress.split('.').map((o: string) => Number(o).toString(16).padStart(2, '0')).join(':')}`);
  assert.equal(net.Containers[id].IPv4Address, `${ep.IPAddress}/${ep.IPPrefixLen}`);
  const addr = await k(['exec', 'p1', 'sh', '-c', 'ip -4 -o addr show eth0; ip link show eth0; ip route']);
  assert.match(addr.stdout, new RegExp(`eth0 +inet ${ep.IPAddress.replaceAll('.', '\\.')}/${ep.IPPrefixLen} `));
  assert.ok(addr.stdout.includes(`link/ether ${ep.MacAddress} `), addr.stdout);
  assert.match(addr.stdout, new RegExp(`default via ${ep.Gateway.replaceAll('.', '\\.')} dev eth0`));
  assert.equal((await k(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'p1'])).stdout.trim(), `/run/netns/berth-${id}`);

  // it reaches the other container by address, and its published port through the gateway (the host's address)
  const webIp = (await k(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web'])).stdout.trim();
  const hostPort = /:(\d+)$/.exec((await k(['port', 'web', '80'])).stdout.split('\n')[0]!)![1];
  const get = (to: string) => `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${to}`;
  const x = await k(['exec', 'p1', 'sh', '-c', `${get(`${webIp} 80`)}; echo; ${get(`${ep.Gateway} ${hostPort}`)}`]);
  assert.equal(x.stdout.match(/HTTP\/1\.[01] 200 OK/g)?.length, 2, x.stdout + x.stderr);

  // the pool refills in the background: two ready again, new ones
  const again = await poolReady(iface);
  assert.ok(!again.includes(id));

  // rm frees the address and the namespace
  assert.equal((await k(['rm', '-f', 'p1'])).code, 0);
  await waitFor(() => !ipam(iface)[ep.IPAddress] && !existsSync(`/run/netns/berth-${id}`), 'the address and namespace freed', 20_000);

  // run --rm with the docker CLI: eth0 has an address of the bridge's subnet
  const rm = await k(['run', '--rm', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
  assert.equal(rm.code, 0, rm.stderr);
  const sub = net.IPAM.Config[0].Subnet.split('.').slice(0, 2).join('\\.');
  assert.match(rm.stdout, new RegExp(`eth0 +inet ${sub}\\.\\d+\\.\\d+/`));
  assert.equal((await k(['rm', '-f', 'web'])).code, 0);
});

test('a run asking more of the network than a plain endpoint takes the ordinary path', { skip, timeout: 120_000 }, async () => {
  await k(['run', '--rm', 'busybox', 'true']);
  for (const extra of [['--dns', '10.0.0.53'], ['--add-host', 'h:10.1.2.3'], ['--mac-address', '02:42:0a:0a:0a:0a'], ['--network', 'none'], ['-p', '80']]) {
    const ready = await poolReady(iface);
    const r = await k(['run', '-d', ...extra, 'busybox', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.ok(!ready.includes(id), `${extra.join(' ')}: not a prepared endpoint`);
    assert.deepEqual(prepared(iface).sort(), ready.sort(), `${extra.join(' ')}: the ready ones are left`);
    assert.equal((await k(['rm', '-f', id])).code, 0);
  }
});

test('daemon stop drops the ready endpoints and frees their addresses; a killed daemon\'s are swept at its restart', { skip, timeout: 120_000 }, async (t) => {
  const y = await startDaemon();
  t.after(async () => { await y.stop(); rmSync(y.dir, { recursive: true, force: true }); });
  await importBusybox(y);
  const bridge = await bridgeOf(y);
  assert.equal((await k(['run', '--rm', 'busybox', 'true'], y)).code, 0);
  const first = await poolReady(bridge);
  await y.stop({ keep: true });
  assert.deepEqual(prepared(bridge), []);
  for (const id of first) assert.ok(!existsSync(`/run/netns/berth-${id}`), `${id}'s namespace dropped`);
  assert.deepEqual(Object.values(ipam(bridge)).filter((o) => first.includes(o)), [], 'their addresses freed');

  // restart on the same data root, fill, then SIGKILL: the next daemon there sweeps what the killed one left
  const z = await startDaemon({ dir: y.dir });
  assert.equal((await k(['run', '--rm', 'busybox', 'true'], z)).code, 0);
  const left = await poolReady(bridge);
  await z.kill();
  assert.deepEqual(prepared(bridge).sort(), left.sort());
  const w = await startDaemon({ dir: y.dir, t });
  await waitFor(() => prepared(bridge).length === 0 && left.every((id) => !existsSync(`/run/netns/berth-${id}`) && !Object.values(ipam(bridge)).includes(id)), 'the killed daemon\'s endpoints swept', 20_000);
  // and this daemon's own pool works as before
  assert.equal((await k(['run', '--rm', 'busybox', 'true'], w)).code, 0);
  await poolReady(bridge);
  await w.stop({ keep: true });
  assert.deepEqual(prepared(bridge), []);
});
