import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Networks, defaultBridge, subnetsOverlap, bridgeNameFor } from './network.ts';

const noRoutes = () => [];

test('defaultBridge: subnet and gateway, from a subnet or a bip-style address', () => {
  assert.deepEqual([defaultBridge().subnet, defaultBridge().gateway], ['10.88.0.0/16', '10.88.0.1']);
  assert.deepEqual([defaultBridge('172.30.0.0/16').subnet, defaultBridge('172.30.0.0/16').gateway], ['172.30.0.0/16', '172.30.0.1']);
  const bip = new Networks('/nonexistent', { bip: '192.168.5.7/24', hostRoutes: noRoutes }).defaultBridge();
  assert.deepEqual([bip.subnet, bip.gateway, bip.name], ['192.168.5.0/24', '192.168.5.7', 'bridge']);
  assert.equal(new Networks('/nonexistent', { defaultSubnet: '10.50.0.0/16' }).defaultBridge().subnet, '10.50.0.0/16');
});

test('subnetsOverlap and nextSubnet skip taken subnets and the default bridge', () => {
  assert.equal(subnetsOverlap('10.89.0.0/16', '10.89.3.0/24'), true);
  assert.equal(subnetsOverlap('10.89.2.0/24', '10.89.3.0/24'), false);
  const n = new Networks('/nonexistent', { defaultSubnet: '10.89.0.0/24', hostRoutes: noRoutes });
  assert.equal(n.nextSubnet([]), '10.89.1.0/24');
  assert.equal(n.nextSubnet(['10.89.1.0/24', '10.89.2.0/23']), '10.89.4.0/24');
  const tiny = new Networks('/nonexistent', { pools: [{ base: '10.7.0.0/23', size: 24 }], hostRoutes: noRoutes });
  assert.equal(tiny.nextSubnet(['10.7.0.0/24']), '10.7.1.0/24');
  assert.throws(() => tiny.nextSubnet(['10.7.0.0/23']), /non-overlapping IPv4 address pool/);
});

test('bridgeNameFor: berth0 for the standard data root, a short stable hash for others', () => {
  assert.deepEqual(bridgeNameFor('/var/lib/berth'), { bridge: 'berth0' });
  const a = bridgeNameFor('/tmp/bd-1/data');
  const b = bridgeNameFor('/tmp/bd-2/data');
  assert.match(a.bridge, /^berth[0-9a-f]{6}$/);
  assert.ok(a.bridge.length <= 15);
  assert.notEqual(a.bridge, b.bridge);
  assert.notEqual(a.seed, b.seed);
  assert.deepEqual(bridgeNameFor('/tmp/bd-1/data'), a);
});

test('the default bridge avoids host routes, keeps the subnet its interface already has, and seeds apart', () => {
  const routes = [{ iface: 'eth0', subnet: '10.88.0.0/16' }];
  // unseeded: 10.88.0.0/16 is taken by a host route, so a /24 of 10.128.0.0/9
  const n = new Networks('/x', { hostRoutes: () => routes });
  assert.match(n.defaultBridge().subnet, /^10\.(1[2-9]\d|2[0-5]\d)\.\d+\.0\/24$/);
  assert.ok(!subnetsOverlap(n.defaultBridge().subnet, '10.88.0.0/16'));
  // an existing interface of our name: its subnet (a restarted daemon keeps its addresses)
  const own = new Networks('/x', { bridge: 'berthabc123', seed: 7, hostRoutes: () => [{ iface: 'berthabc123', subnet: '10.140.3.0/24' }] });
  assert.equal(own.defaultBridge().subnet, '10.140.3.0/24');
  assert.equal(own.defaultBridge().bridge, 'berthabc123');
  // two seeds: two subnets; a seed's subnet taken by a route moves on
  const s1 = new Networks('/x', { seed: 1000, hostRoutes: noRoutes }).defaultBridge().subnet;
  const s2 = new Networks('/x', { seed: 2000, hostRoutes: noRoutes }).defaultBridge().subnet;
  assert.notEqual(s1, s2);
  const moved = new Networks('/x', { seed: 1000, hostRoutes: () => [{ iface: 'other', subnet: s1 }] }).defaultBridge().subnet;
  assert.notEqual(moved, s1);
  // user networks: host routes avoided; a seeded daemon starts elsewhere in the default pool
  const u = new Networks('/x', { defaultSubnet: '10.50.0.0/16', hostRoutes: () => [{ iface: 'x', subnet: '10.89.0.0/24' }] });
  assert.equal(u.nextSubnet([]), '10.89.1.0/24');
  const seeded = new Networks('/x', { defaultSubnet: '10.50.0.0/16', seed: 77, hostRoutes: noRoutes });
  assert.equal(seeded.nextSubnet([]), '10.89.77.0/24');
});
