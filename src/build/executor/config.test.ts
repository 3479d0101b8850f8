import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyMetadata, nopCreatedBy, copyCreatedBy, runCreatedBy, exposedPorts, normalizeWorkdir, goDuration, goQuoteList,
  DEFAULT_SHELL, type ConfigState,
} from './config.ts';
import { parseDockerfile } from '../dockerfile/convert.ts';

const cmds = (...l: string[]) => parseDockerfile(['FROM a', ...l].join('\n')).stages[0]!.commands;
const fresh = (): ConfigState => ({ config: {}, shell: [...DEFAULT_SHELL], cmdSet: false });

test('metadata instructions change the config as docker does and return its #(nop) comment', () => {
  const s = fresh();
  s.config.Env = ['PATH=/bin', 'A=old'];
  const notes: string[] = [];
  const out = cmds(
    'ENV A=1 B=2', 'LABEL a=b c=d', 'MAINTAINER me', 'EXPOSE 80 53/udp 8000-8001', 'USER app', 'VOLUME /data /logs',
    'STOPSIGNAL SIGINT', 'CMD echo hi', 'WORKDIR /srv', 'WORKDIR app/../web', 'HEALTHCHECK --interval=5s --retries=3 CMD true',
    'HEALTHCHECK CMD ["x"]', 'ONBUILD RUN x', 'ARG X Y=1', 'SHELL ["/bin/bash", "-c"]', 'ENTRYPOINT run',
  ).map((c) => applyMetadata(s, c, (n) => notes.push(n)));
  assert.deepEqual(out, [
    'ENV A=1 B=2', 'LABEL a=b c=d', 'MAINTAINER me', 'EXPOSE 53/udp 80 8000-8001', 'USER app', 'VOLUME [/data /logs]',
    'STOPSIGNAL SIGINT', 'CMD ["/bin/sh" "-c" "echo hi"]', 'WORKDIR /srv', 'WORKDIR /srv/web',
    // dockerd 20.10's HealthConfig has four durations; a fifth (StartInterval) only when given
    'HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" \'\\x03\'}', 'HEALTHCHECK &{["CMD" "x"] "0s" "0s" "0s" \'\\x00\'}',
    'ONBUILD RUN x', 'ARG X Y=1', 'SHELL [/bin/bash -c]', 'ENTRYPOINT ["/bin/bash" "-c" "run"]',
  ]);
  assert.deepEqual(notes, ['Note: overriding previous HEALTHCHECK: [CMD-SHELL true]\n']);
  const c = s.config;
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'B=2']);
  assert.deepEqual(c.Labels, { a: 'b', c: 'd' });
  assert.equal(s.author, 'me');
  assert.deepEqual(Object.keys(c.ExposedPorts!), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {} });
  assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo hi'], 'CMD set in this stage survives ENTRYPOINT');
  assert.deepEqual(c.Entrypoint, ['/bin/bash', '-c', 'run']);
  assert.equal(c.WorkingDir, '/srv/web');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'x'] });
  assert.deepEqual(c.OnBuild, ['RUN x']);
  assert.deepEqual(c.Shell, ['/bin/bash', '-c']);
});

test('ENTRYPOINT clears an inherited CMD; an empty one unsets itself', () => {
  const s = fresh();
  s.config.Cmd = ['inherited'];
  applyMetadata(s, cmds('ENTRYPOINT ["a"]')[0]!);
  assert.equal(s.config.Cmd, null);
  applyMetadata(s, cmds('ENTRYPOINT []')[0]!);
  assert.equal(s.config.Entrypoint, null);
  assert.throws(() => applyMetadata(fresh(), cmds('EXPOSE 80-70')[0]!), /invalid range/);
  assert.throws(() => applyMetadata(fresh(), cmds('RUN x')[0]!), /not a metadata instruction/);
});

test('created_by strings in docker history shape', () => {
  assert.equal(nopCreatedBy(DEFAULT_SHELL, 'ENV A=1'), '/bin/sh -c #(nop)  ENV A=1');
  assert.equal(nopCreatedBy(DEFAULT_SHELL, 'WORKDIR /app'), '/bin/sh -c #(nop) WORKDIR /app');
  assert.equal(copyCreatedBy(DEFAULT_SHELL, 'COPY', 'file:abc', '/app/'), '/bin/sh -c #(nop) COPY file:abc in /app/ ');
  assert.equal(runCreatedBy(DEFAULT_SHELL, ['make all'], true, ['A=1', 'B=2']), '|2 A=1 B=2 /bin/sh -c make all');
  assert.equal(runCreatedBy(DEFAULT_SHELL, ['/bin/x', 'y'], false, []), '/bin/x y');
});

test('helpers: ports, workdirs, Go durations and %q lists', () => {
  assert.deepEqual(exposedPorts(['8080/TCP']), { '8080/tcp': {} });
  assert.throws(() => exposedPorts(['http']), /invalid containerPort: http/);
  assert.equal(normalizeWorkdir('', 'a'), '/a');
  assert.equal(normalizeWorkdir('/a/b', '../c/./d/'), '/a/c/d');
  assert.equal(normalizeWorkdir('/a', '/x/..'), '/');
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(1.5e9), '1.5s');
  assert.equal(goDuration(90e9), '1m30s');
  assert.equal(goDuration(3600e9), '1h0m0s');
  assert.equal(goDuration(250e6), '250ms');
  assert.equal(goQuoteList(['a "b"', 'c']), '["a \\"b\\"" "c"]');
  assert.equal(goQuoteList(null), '[]');
});
