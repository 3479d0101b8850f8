import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, parseTrigger } from './convert.ts';
import { parseMount, ramInBytes, readCsvRecord } from './mount.ts';
import { parseGoDuration } from './duration.ts';
import type { Command, Instruction } from './instructions.ts';

const df = (...l: string[]) => parseDockerfile(l.join('\n') + '\n');
const cmds = (...l: string[]): Command[] => df('FROM base', ...l).stages[0]!.commands;
const one = <K extends Instruction['kind']>(line: string, kind: K): Extract<Instruction, { kind: K }> => {
  const c = cmds(line)[0]!;
  assert.equal(c.kind, kind);
  return c as Extract<Instruction, { kind: K }>;
};
function fails(lines: string[], message: string): void {
  assert.throws(() => df(...lines), (e) => {
    assert.equal((e as Error).message, message);
    assert.equal((e as { code?: string }).code, 'DOCKERFILE_PARSE');
    return true;
  });
}

test('stages, names and meta ARGs', () => {
  const d = df('ARG V=1', 'ARG B', 'FROM busybox:${V} AS Build', 'RUN x', 'from scratch', 'COPY --from=build /a /b');
  assert.deepEqual(d.metaArgs.map((a) => a.args), [[{ key: 'V', value: '1' }], [{ key: 'B' }]]);
  assert.equal(d.stages.length, 2);
  assert.deepEqual([d.stages[0]!.name, d.stages[0]!.from.image, d.stages[0]!.commands.length], ['build', 'busybox:${V}', 1]);
  assert.deepEqual([d.stages[1]!.index, d.stages[1]!.name, d.stages[1]!.from.image], [1, '', 'scratch']);
  assert.equal(df('FROM --platform=$BUILDPLATFORM a').stages[0]!.from.platform, '$BUILDPLATFORM');
});

test('every instruction into the typed model', () => {
  const run = one('RUN --mount=type=cache,target=/c --network=none --security=insecure make all', 'RUN');
  assert.deepEqual([run.cmd, run.prependShell, run.mounts, run.network, run.security], [['make all'], true, ['type=cache,target=/c'], 'none', 'insecure']);
  assert.deepEqual(one('RUN ["a", "b"]', 'RUN').cmd, ['a', 'b']);
  assert.deepEqual(one('CMD ["a"]', 'CMD'), { line: 2, endLine: 2, original: 'CMD ["a"]', kind: 'CMD', cmd: ['a'], prependShell: false, files: [] });
  assert.deepEqual(one('ENTRYPOINT []', 'ENTRYPOINT').cmd, []);
  assert.deepEqual(one('ENV A=1 B=2', 'ENV').env, [{ key: 'A', value: '1' }, { key: 'B', value: '2' }]);
  assert.deepEqual(one('LABEL a=b', 'LABEL').labels, [{ key: 'a', value: 'b' }]);
  assert.equal(one('MAINTAINER me <me@x>', 'MAINTAINER').maintainer, 'me <me@x>');
  assert.deepEqual(one('EXPOSE 80/tcp 53/udp', 'EXPOSE').ports, ['80/tcp', '53/udp']);
  const copy = one('COPY --from=b --chown=1:2 --chmod=0755 --link --parents --exclude=*.md a* b/', 'COPY');
  assert.deepEqual(
    [copy.sources, copy.dest, copy.from, copy.chown, copy.chmod, copy.link, copy.parents, copy.exclude],
    [['a*'], 'b/', 'b', '1:2', '0755', true, true, ['*.md']],
  );
  const add = one('ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false http://x/y.tgz /y', 'ADD');
  assert.deepEqual([add.checksum, add.keepGitDir, add.unpack, add.link], ['sha256:abc', true, false, false]);
  assert.equal(one('ADD a b', 'ADD').unpack, undefined);
  assert.deepEqual(one('VOLUME /a /b', 'VOLUME').volumes, ['/a', '/b']);
  assert.equal(one('USER app:app', 'USER').user, 'app:app');
  assert.equal(one('WORKDIR /srv/app dir', 'WORKDIR').path, '/srv/app dir');
  assert.deepEqual(one('ARG A B=2 C=', 'ARG').args, [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '' }]);
  assert.equal(one('ONBUILD  RUN echo hi', 'ONBUILD').expression, 'RUN echo hi');
  assert.equal(one('STOPSIGNAL SIGKILL', 'STOPSIGNAL').signal, 'SIGKILL');
  assert.deepEqual(one('SHELL ["/bin/bash", "-c"]', 'SHELL').shell, ['/bin/bash', '-c']);
  assert.deepEqual(one('HEALTHCHECK NONE', 'HEALTHCHECK').health, { test: ['NONE'] });
  assert.deepEqual(
    one('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=100ms --retries=3 CMD curl -f http://x/ || exit 1', 'HEALTHCHECK').health,
    { test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'], interval: 30e9, timeout: 90e9, startPeriod: 1.5e9, startInterval: 1e8, retries: 3 },
  );
  assert.deepEqual(one('HEALTHCHECK CMD ["true"]', 'HEALTHCHECK').health.test, ['CMD', 'true']);
});

test('heredocs become RUN files and COPY contents', () => {
  const [run, copy] = cmds('RUN <<EOF', 'echo hi', 'EOF', 'COPY <<-A <<"B" /dir/', '\tone', 'A', 'two $X', 'B');
  assert.equal(run!.kind, 'RUN');
  assert.deepEqual(run!.kind === 'RUN' && run.files.map((f) => f.content), ['echo hi\n']);
  assert.ok(copy!.kind === 'COPY');
  assert.deepEqual(copy.sources, []);
  assert.deepEqual(copy.contents, [{ path: 'A', data: 'one\n', expand: true }, { path: 'B', data: 'two $X\n', expand: false }]);
});

test('ONBUILD heredoc expression carries the body', () => {
  const c = cmds('ONBUILD RUN <<EOF', 'echo x', 'EOF')[0]!;
  assert.ok(c.kind === 'ONBUILD');
  assert.equal(c.expression, 'RUN <<EOF\necho x\nEOF');
  const t = parseTrigger('COPY --from=x a /b');
  assert.ok(t.kind === 'COPY' && t.from === 'x');
});

test('errors name the line and use docker wording', () => {
  fails(['FROM a', 'FOO bar'], 'dockerfile parse error line 2: unknown instruction: FOO');
  fails(['FROM a', 'BOGUSWORD bar'], 'dockerfile parse error line 2: unknown instruction: BOGUSWORD');
  fails(['FROM a', 'RUNN x'], 'dockerfile parse error line 2: unknown instruction: RUNN');
  fails(['FROM a', '', 'COPY --fro=x a b'], 'dockerfile parse error line 3: Unknown flag: fro');
  fails(['FROM a', 'COPY --chown a b'], 'dockerfile parse error line 2: Missing a value on flag: chown');
  fails(['FROM a', 'COPY --link=maybe a b'], 'dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe');
  fails(['FROM a', 'COPY --from=a --from=b a b'], 'dockerfile parse error line 2: Duplicate flag specified: from');
  fails(['FROM a', 'RUN --network=bridge x'], 'dockerfile parse error line 2: unsupported network mode "bridge"');
  fails(['FROM a', 'WORKDIR --x=1 /a'], 'dockerfile parse error line 2: Unknown flag: x');
  fails(['FROM a b'], 'dockerfile parse error line 1: FROM requires either one or three arguments');
  fails(['FROM a AS 1x'], 'dockerfile parse error line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  fails(['FROM'], 'dockerfile parse error line 1: FROM requires either one or three arguments');
  fails(['RUN x'], 'dockerfile parse error line 1: no build stage in current context');
  fails(['FROM a', 'COPY a'], 'dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  fails(['FROM a', 'ADD a'], 'dockerfile parse error line 2: ADD requires at least two arguments, but only one was provided. Destination could not be determined');
  fails(['FROM a', 'COPY a <<EOF', 'x', 'EOF'], 'dockerfile parse error line 2: COPY cannot accept a heredoc as a destination');
  fails(['FROM a', 'ENV'], 'dockerfile parse error line 2: ENV requires at least one argument');
  fails(['FROM a', 'USER'], 'dockerfile parse error line 2: USER requires exactly one argument');
  fails(['FROM a', 'EXPOSE'], 'dockerfile parse error line 2: EXPOSE requires at least one argument');
  fails(['FROM a', 'ARG =x'], 'dockerfile parse error line 2: ARG names can not be blank');
  fails(['FROM a', 'ONBUILD ONBUILD RUN x'], 'dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  fails(['FROM a', 'ONBUILD FROM x'], "dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger");
  fails(['FROM a', 'ONBUILD BOGUS x'], 'dockerfile parse error line 2: unknown instruction: BOGUS');
  fails(['FROM a', 'SHELL /bin/sh -c'], 'dockerfile parse error line 2: SHELL requires the arguments to be in JSON form');
  fails(['FROM a', 'SHELL []'], 'dockerfile parse error line 2: SHELL requires at least one argument');
  fails(['FROM a', 'HEALTHCHECK NONE x'], 'dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments');
  fails(['FROM a', 'HEALTHCHECK FOO x'], 'dockerfile parse error line 2: Unknown type "FOO" in HEALTHCHECK (try CMD)');
  fails(['FROM a', 'HEALTHCHECK CMD'], 'dockerfile parse error line 2: Missing command after HEALTHCHECK CMD');
  fails(['FROM a', 'HEALTHCHECK --interval=1us CMD x'], 'dockerfile parse error line 2: Interval "interval" cannot be less than 1ms');
  fails(['FROM a', 'HEALTHCHECK --retries=-1 CMD x'], 'dockerfile parse error line 2: --retries cannot be negative (-1)');
  fails(['FROM a', 'HEALTHCHECK --timeout=5 CMD x'], 'dockerfile parse error line 2: time: missing unit in duration "5"');
  fails(['FROM a', 'VOLUME [""]'], 'dockerfile parse error line 2: VOLUME specified can not be an empty string');
  fails(['FROM a', 'RUN --mount=type=foo x'], 'dockerfile parse error line 2: unsupported mount type "foo"');
  fails(['FROM a', 'RUN --mount=from=$X x'], "dockerfile parse error line 2: 'from' doesn't support variable expansion, define alias stage instead");
  fails(['FROM a', 'RUN \\', '  --mount=type=secret,from=x x'], 'dockerfile parse error line 2: secret mount should not have a from');
});

test('--mount values parse into structures (with an expander for the deferred fields)', () => {
  const id = (w: string) => w;
  assert.deepEqual(parseMount('type=cache,target=/root/.cache,id=go,sharing=locked,mode=0755,uid=1,gid=2', id), {
    type: 'cache', readOnly: false, target: '/root/.cache', id: 'go', sharing: 'locked', mode: 0o755, uid: 1, gid: 2,
  });
  assert.deepEqual(parseMount('target=/src,from=build,source=/out,rw', id), { type: 'bind', readOnly: false, target: '/src', from: 'build', source: '/out' });
  assert.deepEqual(parseMount('type=bind,target=/src', id).readOnly, true);
  assert.deepEqual(parseMount('type=tmpfs,target=/t,size=64m', id), { type: 'tmpfs', readOnly: false, target: '/t', sizeLimit: 64 * 1024 * 1024 });
  assert.deepEqual(parseMount('type=secret,id=tok,required', id), { type: 'secret', readOnly: true, id: 'tok', required: true });
  assert.deepEqual(parseMount('type=ssh', id), { type: 'ssh', readOnly: true });
  assert.deepEqual(parseMount('type=cache,target=$D', (w) => w.replace('$D', '/x')).target, '/x');
  assert.deepEqual(parseMount('"type=bind,x",target=/a'.replace('"type=bind,x",', 'type=bind,'), id).target, '/a');
  const bad: [string, string][] = [
    ['type=bind,mode=0700,target=/a', 'mode not allowed for "bind" type mounts'],
    ['type=bind,size=1', "unexpected key 'size' for mount type 'bind'"],
    ['type=cache,sharing=nope', 'unsupported sharing value "nope"'],
    ['type=bind,sharing=shared', 'invalid cache sharing set for bind mount'],
    ['type=secret', 'invalid secret mount. one of source, target required'],
    ['type=secret,id=a,source=b', "both source and id can't be set"],
    ['type=cache,tagret=/a', "unexpected key 'tagret' in 'tagret=/a' (did you mean target?)"],
    ['type=cache,foo', "invalid field 'foo' must be a key=value pair"],
    ['type=cache,required', "unexpected key 'required' for mount type 'cache'"],
    ['type=cache,uid=x', 'invalid value x for uid'],
    ['type=cache,ro=maybe', 'invalid value for ro: maybe'],
    ['type=cache,target="a', 'failed to parse csv mounts: parse error on line 1, column 19: bare " in non-quoted-field'],
  ];
  for (const [v, msg] of bad) assert.throws(() => parseMount(v, id), { message: msg }, v);
});

test('helpers: CSV records, RAM sizes, Go durations', () => {
  assert.deepEqual(readCsvRecord('a,"b,c",d""'.replace('d""', 'd')), ['a', 'b,c', 'd']);
  assert.deepEqual(readCsvRecord('"x ""q"""'), ['x "q"']);
  assert.deepEqual(readCsvRecord(''), ['']);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('512'), 512);
  assert.equal(ramInBytes('1.5KiB'), 1536);
  assert.equal(ramInBytes('lots'), undefined);
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('-1.5ms'), -1.5e6);
  assert.throws(() => parseGoDuration('1x'), { message: 'time: unknown unit "x" in duration "1x"' });
  assert.throws(() => parseGoDuration('s'), { message: 'time: invalid duration "s"' });
});
