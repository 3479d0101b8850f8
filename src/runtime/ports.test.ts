import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortClaims, ephemeralRange } from './ports.ts';

test('PortClaims: explicit and random ports, conflicts, stale claims, release', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ports-'));
  const alive = new Set(['a', 'b']);
  const claims = new PortClaims(dir, (id) => alive.has(id));
  // a listener on the host makes a random pick skip its port
  const srv = createServer();
  const [lo] = ephemeralRange();
  try {
    await new Promise<void>((r, j) => { srv.once('error', j); srv.listen({ port: lo, host: '0.0.0.0' }, () => r()); }).catch(() => {});
    const p1 = await claims.claim('a', 0, 'tcp');
    assert.ok(p1 >= lo);
    if (srv.listening) assert.notEqual(p1, lo);
    const p2 = await claims.claim('b', 0, 'tcp');
    assert.notEqual(p1, p2);
    // the same port number over udp is another claim
    assert.ok(await claims.claim('b', p1, 'udp'));
    await assert.rejects(claims.claim('b', p1, 'tcp', '127.0.0.1'), /Bind for 127\.0\.0\.1:\d+ failed: port is already allocated/);
    assert.equal(await claims.claim('a', p1, 'tcp'), p1);
    // a claim whose container is gone is taken over
    writeFileSync(join(dir, 'tcp-40000'), 'gone');
    assert.equal(await claims.claim('b', 40000, 'tcp'), 40000);
    await claims.release('a', [{ port: p1, proto: 'tcp' }]);
    assert.equal(await claims.claim('b', p1, 'tcp'), p1);
    // release leaves another holder's claim alone
    await claims.release('a', [{ port: p2, proto: 'tcp' }]);
    await assert.rejects(claims.claim('a', p2, 'tcp'), /already allocated/);
  } finally {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
