// `berth build --progress=plain` (BuildKit-style step lines from berthd's step events), its failure summary,
// `--no-cache-filter`, and the docker CLI's classic output (DOCKER_BUILDKIT=0), which never asks for events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDaemon, importBusybox, run, REPO, docker, haveDocker, type StartedDaemon } from './helpers/index.ts';
import { runtimeSkip } from './runtime-helpers.ts';
import { writeContext } from './build-helpers.ts';

const skip = runtimeSkip();
let d: StartedDaemon;
const berth = (args: string[]) => run(join(REPO, 'bin', 'berth.js'), args, { env: d.dockerEnv, timeoutMs: 120_000 });

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await importBusybox(d);
});
after(async () => { await d?.stop(); });

const context = (name: string, dockerfile: string, files: Record<string, string> = {}) => writeContext(d.dir, name, dockerfile, files);

test('--progress=plain prints BuildKit-style steps on stderr; a rebuild shows CACHED', { skip }, async () => {
  const ctx = await context('plain', 'FROM busybox\nCOPY a.txt /a\nENV X=1\nRUN echo hello && cat /a\nCMD ["sh"]\n', { 'a.txt': 'from-a\n' });
  const r = await berth(['build', '--progress=plain', '-t', 'plain:1', ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(r.stdout, '');
  const e = r.stderr;
  assert.match(e, /^#1 \[internal\] load build definition from Dockerfile\n#1 transferring dockerfile: 71B done\n#1 DONE \d+\.\ds\n\n/);
  assert.match(e, /\n#2 \[internal\] load \.dockerignore\n/);
  assert.match(e, /\n#3 \[internal\] load build context\n#3 transferring context: [\d.]+k?B done\n/);
  assert.match(e, /\n#4 \[1\/3\] FROM docker\.io\/library\/busybox:latest\n#4 DONE \d+\.\ds\n/);
  assert.match(e, /\n#5 \[2\/3\] COPY a\.txt \/a\n#5 DONE \d+\.\ds\n/);
  assert.match(e, /\n#6 \[3\/3\] RUN echo hello && cat \/a\n#6 \d+\.\d{3} hello\n#6 \d+\.\d{3} from-a\n#6 DONE \d+\.\ds\n/);
  assert.match(e, /\n#7 exporting to image\n#7 exporting layers done\n#7 writing image sha256:[0-9a-f]{64} done\n#7 naming to docker\.io\/library\/plain:1 done\n#7 DONE \d+\.\ds\n$/);
  assert.doesNotMatch(e, /Step \d|--->|Sending build context/);

  const again = await berth(['build', '--progress=plain', '-t', 'plain:1', ctx]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /#5 \[2\/3\] COPY a\.txt \/a\n#5 CACHED\n/);
  assert.match(again.stderr, /#6 \[3\/3\] RUN echo hello && cat \/a\n#6 CACHED\n/);
  // auto and tty print the same when stderr is no terminal; quiet prints only the ID
  const auto = await berth(['build', '--progress=auto', ctx]);
  assert.match(auto.stderr, /#6 CACHED\n/);
  // warnings still reach the user, on stderr
  const warned = await berth(['build', '--progress=plain', '--build-arg', 'UNUSED=1', ctx]);
  assert.match(warned.stderr, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
  const quiet = await berth(['build', '--progress=quiet', ctx]);
  assert.match(quiet.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(quiet.stderr, '');
  const bad = await berth(['build', '--progress=fancy', ctx]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid progress mode "fancy"/);
});

test('--progress=plain: a failing RUN ends with its output, the Dockerfile lines and BuildKit\'s ERROR line', { skip }, async () => {
  const ctx = await context('fail', 'FROM busybox\nENV A=1\nRUN echo about to fail && \\\n    exit 3\nCMD ["sh"]\n');
  const r = await berth(['build', '--progress=plain', '-t', 'fail:1', ctx]);
  assert.equal(r.code, 1, r.stderr);
  const msg = 'process "/bin/sh -c echo about to fail &&     exit 3" did not complete successfully: exit code: 3';
  assert.match(r.stderr, /#5 \[2\/2\] RUN echo about to fail && {5}exit 3\n#5 \d+\.\d{3} about to fail\n/);
  assert.ok(r.stderr.includes(`#5 ERROR: ${msg}\n`), r.stderr);
  assert.ok(r.stderr.endsWith([
    '------', ' > [2/2] RUN echo about to fail &&     exit 3:', r.stderr.match(/\n(\d+\.\d{3} about to fail)\n/)![1], '------',
    'Dockerfile:3', '--------------------', '   1 |     FROM busybox', '   2 |     ENV A=1', '   3 | >>> RUN echo about to fail && \\',
    '   4 | >>>     exit 3', '   5 |     CMD ["sh"]', '--------------------', `ERROR: failed to solve: ${msg}`, '',
  ].join('\n')), r.stderr);
  assert.equal((await berth(['image', 'inspect', 'fail:1'])).code, 1, 'nothing tagged');
});

test('--no-cache-filter rebuilds the named stages only', { skip }, async () => {
  const ctx = await context('filter', 'FROM busybox AS a\nRUN echo a > /a\nFROM busybox AS b\nRUN echo b > /b\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n');
  assert.equal((await berth(['build', '-q', ctx])).code, 0);
  const r = await berth(['build', '--progress=plain', '--no-cache-filter', 'A', ctx]);
  assert.equal(r.code, 0, r.stderr);
  // stages a and b run side by side: their lines interleave, each under its own number
  const va = /#(\d+) \[a 2\/2\] RUN echo a > \/a\n/.exec(r.stderr)?.[1];
  const vb = /#(\d+) \[b 2\/2\] RUN echo b > \/b\n/.exec(r.stderr)?.[1];
  assert.ok(va && vb, r.stderr);
  assert.match(r.stderr, new RegExp(`\n#${va} DONE \\d+\\.\\ds\n`));
  assert.match(r.stderr, new RegExp(`\n#${vb} CACHED\n`));
  assert.match(r.stderr, /\[stage-2 2\/3\] COPY --from=a \/a \/a\n/);
  // the classic stream: stage a's RUN misses, everything of b hits (comma lists and repeats both work)
  const classic = await berth(['build', '--no-cache-filter', 'a,b', ctx]);
  assert.equal(classic.code, 0, classic.stderr);
  assert.match(classic.stdout, /Step 2\/7 : RUN echo a > \/a\n ---> Running in/);
  assert.match(classic.stdout, /Step 4\/7 : RUN echo b > \/b\n ---> Running in/);
});

test('the docker CLI (DOCKER_BUILDKIT=0) keeps the classic stream', { skip: skip ?? (haveDocker() ? undefined : 'needs the docker CLI') }, async () => {
  const ctx = await context('classic', 'FROM busybox\nRUN echo classic\n');
  const r = await docker(['build', ctx], { env: { ...d.dockerEnv, DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Sending build context to Docker daemon {2}[\d.]+k?B\r?\r?\nStep 1\/2 : FROM busybox\n/);
  assert.match(r.stdout, /Step 2\/2 : RUN echo classic\n ---> Running in [0-9a-f]{12}\nclassic\n/);
  assert.doesNotMatch(r.stdout + r.stderr, /#\d+ /);
});
