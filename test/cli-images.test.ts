// The berth CLI's image commands end to end against a real berthd, each compared with the real docker CLI v28
// talking to the same daemon: same tables, same --format output, same errors and exit codes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, readFileSync, createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startDaemon, busyboxRootfsTar, run, haveDocker, haveBusybox, DOCKER, type StartedDaemon } from './helpers/index.ts';
import { berth, norm } from './cli-helpers.ts';

const skip = !haveDocker() ? 'docker CLI v28 not installed' : !haveBusybox() ? 'busybox-static not installed' : false;

describe('berth image commands vs docker CLI', { skip }, () => {
  let d: StartedDaemon;
  let rootfs: string;
  const b = (args: string[], o: { input?: string; inputFile?: string } = {}) => berth(args, { env: d.dockerEnv, ...o });
  const k = (args: string[], o: { input?: string; inputFile?: string } = {}) => run(DOCKER, args, { env: d.dockerEnv, ...o });
  /** Runs both; asserts same stdout (normalised), stderr and exit code; returns berth's result. */
  const same = async (args: string[], o: { sort?: boolean } = {}) => {
    const [x, y] = await Promise.all([b(args), k(args)]);
    const fix = (s: string) => (o.sort ? norm(s).split('\n').sort().join('\n') : norm(s));
    assert.equal(fix(x.stdout), fix(y.stdout), `stdout of: ${args.join(' ')}`);
    assert.equal(x.stderr.replace(/\bberth\b/g, 'docker'), y.stderr, `stderr of: ${args.join(' ')}`);
    assert.equal(x.code, y.code, `exit code of: ${args.join(' ')}`);
    return x;
  };

  before(async () => {
    d = await startDaemon();
    rootfs = await busyboxRootfsTar(d.dir);
    const r = await b(['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=1', '-m', 'busybox base', rootfs, 'busybox:latest']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal((await b(['tag', 'busybox', 'example.test:5000/team/bb:v1'])).code, 0);
  });
  after(() => d?.stop());

  test('images: table, -q, --no-trunc, --digests, -a, reference argument', async () => {
    const t = await same(['images'], { sort: true });
    assert.match(t.stdout, /^REPOSITORY {3,}TAG {3,}IMAGE ID {3,}CREATED {3,}SIZE\n/);
    assert.match(t.stdout, /\nbusybox {3,}latest {3,}[0-9a-f]{12} {3,}\S.* ago {3,}\d+(\.\d+)?[kM]?B\n/);
    await same(['images', '-q']);
    await same(['images', '--no-trunc'], { sort: true });
    await same(['images', '--digests'], { sort: true });
    await same(['images', '-a'], { sort: true });
    await same(['images', 'busybox']);
    await same(['image', 'ls', 'example.test:5000/team/bb']);
  });

  test('images --format: fields, json, table templates, functions', async () => {
    await same(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'], { sort: true });
    await same(['images', '--format', 'json'], { sort: true });
    await same(['images', '--format', '{{json .}}'], { sort: true });
    await same(['images', '--format', 'table {{.Repository}}\t{{.Tag}}\t{{.Size}}'], { sort: true });
    await same(['images', '--format', 'table {{upper .Repository}}\\t{{truncate .ID 5}}'], { sort: true });
    await same(['images', '--format', '{{if eq .Tag "latest"}}L{{else}}{{.Tag}}{{end}} {{.CreatedAt}} {{.VirtualSize}}'], { sort: true });
    await same(['images', '--format', '{{.Nope}}']);
  });

  test('images --filter: reference, dangling, bad filter', async () => {
    await same(['images', '--filter', 'reference=busybox']);
    await same(['images', '-f', 'dangling=true']);
    const bad = await b(['images', '-f', 'nonsense']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^invalid argument "nonsense" for "-f, --filter" flag: bad format of filter \(expected name=value\)/);
  });

  test('inspect / image inspect: JSON, -f templates, json format, errors', async () => {
    const x = await same(['image', 'inspect', 'busybox']);
    const arr = JSON.parse(x.stdout) as Array<{ Id: string; Config: { Cmd: string[]; Env: string[] }; Comment: string }>;
    assert.equal(arr.length, 1);
    assert.deepEqual(arr[0]!.Config.Cmd, ['sh']);
    assert.ok(arr[0]!.Config.Env.includes('A=1'));
    assert.equal(arr[0]!.Comment, 'busybox base');
    await same(['inspect', 'busybox']);
    await same(['inspect', '-f', '{{.Id}} {{json .Config.Cmd}} {{.Config.Cmd}} {{index .RepoTags 0}}', 'busybox']);
    await same(['inspect', '--format', '{{range .RepoTags}}{{.}},{{end}}', 'busybox']);
    await same(['image', 'inspect', '--format', 'json', 'busybox']);
    await same(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}', 'busybox', 'nosuch']);
    // typed-nil maps and slices, Go maps vs structs, omitted Config fields, missing top-level keys
    await same(['inspect', '-f', '{{.Config.Labels}}|{{.Config.Entrypoint}}|{{json .Config.Labels}}|{{.Config.Labels.x}}|{{index .Config.Labels "x"}}|{{.Config.Healthcheck}}|{{len .Config.Entrypoint}}|{{.Config.User}}|{{.Config.Volumes}}|{{json .Config}}', 'busybox']);
    await same(['inspect', '-f', '{{.Nope}}', 'busybox']);
    await same(['inspect', 'nosuch']);
    await same(['image', 'inspect', 'nosuch']);
    await same(['image', 'inspect', '-f', '{{.Id', 'busybox']);
  });

  test('history: table, -H=false, --no-trunc, -q, --format; unknown image', async () => {
    await same(['history', 'busybox']);
    await same(['history', '--no-trunc', 'busybox']);
    await same(['history', '-H=false', 'busybox']);
    await same(['image', 'history', '-q', 'busybox']);
    await same(['history', '--format', '{{json .}}', 'busybox']);
    await same(['history', '--format', 'table {{.ID}}\t{{.Comment}}', 'busybox']);
    await same(['history', 'nosuch']);
  });

  test('tag and rmi: docker output, conflicts, missing images, bad references', async () => {
    await same(['tag', 'busybox', 'Bad:x']);
    await same(['tag', 'nosuch', 'x:1']);
    assert.equal((await b(['tag', 'busybox', 'one:1'])).code, 0);
    assert.equal((await k(['tag', 'busybox', 'two:2'])).code, 0);
    const r1 = await b(['rmi', 'one:1']);
    assert.equal(r1.stdout, 'Untagged: one:1\n');
    const r2 = await k(['rmi', 'two:2']);
    assert.equal(r2.stdout, 'Untagged: two:2\n');
    await same(['rmi', 'nosuch']);
    const both = await b(['rmi', 'nosuch1', 'nosuch2']);
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'Error response from daemon: No such image: nosuch1:latest\nError response from daemon: No such image: nosuch2:latest\n');
  });

  test('save -o / load -i / load from stdin / save to stdout; refusing a terminal is docker\'s', async () => {
    const bt = join(d.dir, 'b.tar');
    const dt = join(d.dir, 'd.tar');
    assert.equal((await b(['save', '-o', bt, 'busybox'])).code, 0);
    assert.equal((await k(['save', '-o', dt, 'busybox'])).code, 0);
    assert.equal(statSync(bt).size, statSync(dt).size);
    assert.ok(readFileSync(bt).equals(readFileSync(dt)), 'same archive bytes through either CLI');
    const out = await b(['save', 'busybox']);
    assert.equal(out.code, 0);
    assert.equal(out.out.length, statSync(bt).size);
    const bad = await b(['save', '-o', join(d.dir, 'nodir', 'x.tar'), 'busybox']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^failed to save image: invalid output path: directory ".*nodir" does not exist\n$/);
    const li = await b(['load', '-i', bt]);
    assert.equal(li.code, 0, li.stderr);
    assert.match(li.stdout, /^Loaded image: busybox:latest\n/);
    const ls = await b(['load'], { inputFile: bt });
    const lsd = await k(['load'], { inputFile: dt });
    assert.equal(ls.stdout, lsd.stdout);
    const lq = await b(['load', '-q', '-i', bt]);
    assert.equal(lq.code, 0);
    const missing = await same(['load', '-i', join(d.dir, 'missing.tar')]);
    assert.equal(missing.code, 1);
  });

  test('import from stdin with a tag, then image prune (prompt, -f) and system df', async () => {
    const i = await b(['import', '-', 'fromstdin:1'], { inputFile: rootfs });
    assert.equal(i.code, 0, i.stderr);
    await same(['images', 'fromstdin']);
    // a dangling image to prune
    const dangling = await b(['import', '-m', 'dangling', rootfs]);
    assert.equal(dangling.code, 0, dangling.stderr);
    const declined = await same(['image', 'prune']);
    assert.equal(declined.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
    await same(['system', 'df']);
    await same(['system', 'df', '-v']);
    await same(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}']);
    const p = await b(['image', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: \d+(\.\d+)?[kM]?B\n$/);
    await same(['image', 'prune', '-f']);
    const yes = await b(['image', 'prune'], { input: 'y\n' });
    assert.match(yes.stdout, /\[y\/N\] Total reclaimed space: 0B\n$/);
  });

  test('import from a URL (the daemon fetches it) with --change and --message', async () => {
    const server = createServer((req, res) => {
      if (req.url !== '/rootfs.tar') { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'application/x-tar' });
      createReadStream(rootfs).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rootfs.tar`;
      const r = await b(['import', '-c', 'WORKDIR /tmp', '-m', 'from a url', url, 'fromurl:1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /sha256:[0-9a-f]{64}\n$/);
      const i = await b(['inspect', '-f', '{{.Config.WorkingDir}} {{.Comment}}', 'fromurl:1']);
      assert.equal(i.stdout, '/tmp from a url\n');
      assert.equal((await b(['rmi', 'fromurl:1'])).code, 0);
    } finally {
      server.close();
    }
  });

  test('version and info: server sections as docker shows them', async () => {
    const [bv, dv] = await Promise.all([b(['version']), k(['version'])]);
    assert.equal(bv.code, 0, bv.stderr);
    // docker's CLI lists Runtimes in Go map order (random from run to run): compare that line sorted
    const server = (s: string) => s.slice(s.indexOf('\nServer')).replace(/^( Runtimes:)(.*)$/m, (_m, h: string, r: string) => h + r.split(' ').sort().join(' '));
    assert.equal(server(bv.stdout), server(dv.stdout));
    assert.match(bv.stdout, /^Client:\n Version: {11}\d/);
    await same(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}']);
    const [bi, di] = await Promise.all([b(['info']), k(['info'])]);
    assert.equal(bi.code, 0, bi.stderr);
    assert.equal(server(bi.stdout), server(di.stdout));
    await same(['info', '--format', '{{.Images}} {{.OSType}} {{.DockerRootDir}}']);
  });

  test('events: the same lines and JSON as docker over a closed time window', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    assert.equal((await b(['tag', 'busybox', 'ev:1'])).code, 0);
    assert.equal((await b(['rmi', 'ev:1'])).code, 0);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const x = await same(['events', '--since', since, '--until', until]);
    assert.match(x.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) image tag sha256:[0-9a-f]{64} \(name=ev:1\)\n/m);
    await same(['events', '--since', since, '--until', until, '--format', 'json']);
    await same(['system', 'events', '--since', since, '--until', until, '--format', '{{.Type}} {{.Action}} {{.Status}} {{.Actor.Attributes.name}}', '--filter', 'event=untag']);
  });

  test('system prune -f removes dangling images and reports the total', async () => {
    assert.equal((await b(['import', rootfs])).code, 0);
    const p = await b(['system', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\n/);
    assert.match(p.stdout, /Total reclaimed space: \S+\n$/);
    const declined = await b(['system', 'prune'], { input: 'n\n' });
    assert.equal(declined.code, 0);
    assert.match(declined.stdout, /^WARNING! This will remove:\n {2}- all stopped containers\n/);
    assert.ok(existsSync(d.socketPath));
  });
});
