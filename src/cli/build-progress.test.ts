import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlainProgress, TtyProgress } from './build-progress.ts';

const ev = (aux: Record<string, unknown>) => ({ id: 'berth.progress', aux });

test('plain: interleaved steps get a blank line between groups; output split into timed lines', () => {
  let out = '';
  const p = new PlainProgress((t) => { out += t; });
  p.handle(ev({ v: 1, t: 1000, name: '[a 2/2] RUN x' }));
  p.handle(ev({ v: 2, t: 1000, name: '[b 2/2] RUN y' }));
  p.handle(ev({ v: 1, t: 1250, log: 'one\ntw' }));
  p.handle(ev({ v: 1, t: 1300, log: 'o\n' }));
  p.handle(ev({ v: 2, t: 1400, cached: true }));
  p.handle(ev({ v: 1, t: 2000, done: true }));
  assert.equal(p.handle({ stream: 'x' } as never), false);
  assert.equal(out, '#1 [a 2/2] RUN x\n\n#2 [b 2/2] RUN y\n\n#1 0.250 one\n#1 0.300 two\n\n#2 CACHED\n\n#1 DONE 1.0s\n');
});

test('tty: the final frame lists every step with its state and time, then a failure summary', () => {
  let out = '';
  const t = new TtyProgress((s) => { out += s; }, 60);
  t.handle(ev({ v: 1, t: Date.now(), name: '[1/2] FROM docker.io/library/busybox:latest' }));
  t.handle(ev({ v: 1, t: Date.now(), done: true }));
  t.handle(ev({ v: 2, t: Date.now(), name: '[2/2] COPY . /app' }));
  t.handle(ev({ v: 2, t: Date.now(), cached: true }));
  t.handle(ev({ v: 3, t: Date.now(), name: '[3/3] RUN false' }));
  t.handle(ev({ v: 3, t: Date.now(), log: 'nope\n' }));
  t.handle(ev({ v: 3, t: Date.now(), error: 'process "/bin/sh -c false" did not complete successfully: exit code: 1' }));
  t.end('process "/bin/sh -c false" did not complete successfully: exit code: 1');
  const frame = out.slice(out.lastIndexOf('[+] Building'));
  assert.match(frame, /^\[\+\] Building \d+\.\ds \(3\/3\) FINISHED\n/);
  assert.match(frame, /\x1b\[2K => \[1\/2\] FROM docker\.io\/library\/busybox:latest +\d+\.\ds\n/);
  assert.match(frame, / => CACHED \[2\/2\] COPY \. \/app +\d+\.\ds\n/);
  assert.match(frame, / => ERROR \[3\/3\] RUN false +\d+\.\ds\n/);
  assert.match(frame, /------\n > \[3\/3\] RUN false:\n\d+\.\d{3} nope\n------\nERROR: failed to solve: process "\/bin\/sh -c false" did not complete successfully: exit code: 1\n$/);
  for (const l of frame.split('\n').filter((x) => x.startsWith('\x1b[2K'))) assert.ok(l.length - 4 <= 60, l);
});
