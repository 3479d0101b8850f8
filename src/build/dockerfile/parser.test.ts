import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseHeredoc } from './parser.ts';
import { isKind } from '../../errors/index.ts';

const lines = (...l: string[]): string => l.join('\n') + '\n';

function parseErr(text: string, re: RegExp): void {
  assert.throws(() => parse(text), (e) => {
    assert.ok(isKind(e, 'InvalidArgument', 'DOCKERFILE_PARSE'), String(e));
    assert.match((e as Error).message, re);
    return true;
  });
}

test('directives are read only at the top, once each, case-insensitively', () => {
  const r = parse(lines('# syntax=docker/dockerfile:1', '#  ESCAPE = `', '# check=skip=all', 'FROM busybox'));
  assert.deepEqual(r.directives.map((d) => [d.name, d.value, d.line]), [
    ['syntax', 'docker/dockerfile:1', 1], ['escape', '`', 2], ['check', 'skip=all', 3],
  ]);
  assert.equal(r.escapeToken, '`');
  // After a comment, an empty line or an instruction, they are plain comments.
  assert.equal(parse(lines('# hello', '# escape=`', 'FROM a')).escapeToken, '\\');
  assert.equal(parse(lines('', '# escape=`', 'FROM a')).escapeToken, '\\');
  assert.equal(parse(lines('FROM a', '# escape=`', 'RUN x')).escapeToken, '\\');
  // An unknown directive ends the directive block.
  assert.equal(parse(lines('# foo=bar', '# escape=`', 'FROM a')).escapeToken, '\\');
  parseErr(lines('# escape=`', '# escape=\\', 'FROM a'), /line 2: only one escape parser directive can be used/);
  parseErr(lines('# escape=x', 'FROM a'), /line 1: invalid escape token 'x' does not match ` or \\/);
});

test('a BOM is ignored and CRLF lines work', () => {
  const r = parse('\ufeffFROM a\r\nRUN b \\\r\n  c\r\n');
  assert.deepEqual(r.nodes.map((n) => n.args), [['a'], ['b   c']]);
});

test('continuations join lines; comments and blank lines inside are skipped', () => {
  const r = parse(lines(
    'FROM a',
    'RUN echo a \\',
    '  # a comment inside',
    '    b \\',
    '',
    '  c',
    'RUN x \\  ',
    'y',
  ));
  assert.equal(r.nodes[1]!.args[0], 'echo a     b   c');
  assert.equal(r.nodes[1]!.line, 2);
  assert.equal(r.nodes[1]!.endLine, 6);
  assert.equal(r.nodes[2]!.args[0], 'x y');
  assert.deepEqual(r.warnings, [
    '[WARNING]: Empty continuation line found in:\n    RUN echo a     b   c',
    '[WARNING]: Empty continuation lines will become errors in a future release.',
  ]);
});

test('the backtick escape continues lines and leaves backslashes alone', () => {
  const r = parse(lines('# escape=`', 'FROM a', 'RUN dir c:\\ `', '  /w', 'COPY . c:\\app\\'));
  assert.equal(r.nodes[1]!.args[0], 'dir c:\\   /w');
  assert.deepEqual(r.nodes[2]!.args, ['.', 'c:\\app\\']);
});

test('comments: whole lines only, collected for the next instruction', () => {
  const r = parse(lines('# first', '  # second', 'FROM a # not a comment', '#', 'RUN x'));
  assert.deepEqual(r.nodes[0]!.args, ['a', '#', 'not', 'a', 'comment']);
  assert.deepEqual(r.nodes[0]!.comments, ['first', 'second']);
  assert.deepEqual(r.nodes[1]!.comments, []);
});

test('exec form vs shell form, and invalid JSON falling back to shell form', () => {
  const r = parse(lines(
    'FROM a', 'CMD ["echo", "hi there"]', 'CMD [echo, hi]', 'ENTRYPOINT ["a",', 'RUN []', 'COPY ["a b", "c"]', 'COPY a  b   c/',
    'SHELL ["/bin/bash", "-c"]', 'VOLUME ["/a", "/b"]', 'VOLUME /c /d',
  ));
  const n = r.nodes;
  assert.deepEqual([n[1]!.args, n[1]!.json], [['echo', 'hi there'], true]);
  assert.deepEqual([n[2]!.args, n[2]!.json], [['[echo, hi]'], false]);
  assert.deepEqual([n[3]!.args, n[3]!.json], [['["a",'], false]);
  assert.deepEqual([n[4]!.args, n[4]!.json], [[], true]);
  assert.deepEqual(n[5]!.args, ['a b', 'c']);
  assert.deepEqual(n[6]!.args, ['a', 'b', 'c/']);
  assert.deepEqual(n[7]!.args, ['/bin/bash', '-c']);
  assert.deepEqual(n[8]!.args, ['/a', '/b']);
  assert.deepEqual(n[9]!.args, ['/c', '/d']);
  parseErr(lines('FROM a', 'CMD ["a", 1]'), /line 2: when using JSON array syntax, arrays must be comprised of strings only/);
});

test('flags are cut off the front with quotes removed; -- ends them', () => {
  const r = parse(lines('FROM --platform=linux/amd64 a AS b', 'COPY --from=b --chown="1:1" --link a b', 'RUN --mount=type=secret,id="x y" -- echo', 'RUN -- --x'));
  assert.deepEqual(r.nodes[0]!.flags, ['--platform=linux/amd64']);
  assert.deepEqual(r.nodes[0]!.args, ['a', 'AS', 'b']);
  assert.deepEqual(r.nodes[1]!.flags, ['--from=b', '--chown=1:1', '--link']);
  assert.deepEqual(r.nodes[2]!.flags, ['--mount=type=secret,id=x y']);
  assert.deepEqual(r.nodes[2]!.args, ['echo']);
  assert.deepEqual(r.nodes[3]!.flags, []);
  assert.deepEqual(r.nodes[3]!.args, ['--x']);
});

test('ENV and LABEL: key=value pairs keep quotes for the expander; legacy form takes the rest of the line', () => {
  const r = parse(lines('FROM a', 'ENV A=1 B="two words" C=a\\ b', 'ENV D  some  value ', 'LABEL "x.y"=z', 'ENV E='));
  assert.deepEqual(r.nodes[1]!.args, ['A', '1', 'B', '"two words"', 'C', 'a\\ b']);
  assert.deepEqual(r.nodes[2]!.args, ['D', 'some  value']);
  assert.equal(r.nodes[2]!.legacyKeyValue, true);
  assert.deepEqual(r.nodes[3]!.args, ['"x.y"', 'z']);
  assert.deepEqual(r.nodes[4]!.args, ['E', '']);
  parseErr(lines('FROM a', 'ENV A'), /line 2: ENV must have two arguments/);
  parseErr(lines('FROM a', 'LABEL a=b c'), /line 2: Syntax error - can't find = in "c". Must be of the form: name=value/);
});

test('heredocs: bodies, several per instruction, <<- tab stripping, quoted delimiters', () => {
  const r = parse(lines(
    'FROM a',
    'RUN <<EOF',
    'echo $HOME',
    'EOF',
    'RUN cat <<-"A" > /a && cat <<B > /b',
    '\tone',
    '\tA',
    'two',
    'B',
    'COPY <<-EOT /etc/x',
    '\t\tbody',
    '\t EOT',
    '\tEOT',
    'RUN ["cat", "<<EOF"]',
    'RUN echo "<<NOT" <<\'Q\'x',
    'ok',
    'Qx',
  ));
  const [, run1, run2, copy, json, quoted] = r.nodes;
  assert.deepEqual(run1!.heredocs, [{ name: 'EOF', content: 'echo $HOME\n', expand: true, chomp: false, fd: 0 }]);
  assert.deepEqual([run1!.line, run1!.endLine], [2, 4]);
  assert.deepEqual(run2!.heredocs.map((h) => [h.name, h.content, h.expand, h.chomp]), [['A', '\tone\n', false, true], ['B', 'two\n', true, false]]);
  assert.deepEqual(copy!.heredocs.map((h) => [h.name, h.content]), [['EOT', '\t\tbody\n\t EOT\n']]);
  assert.deepEqual(json!.heredocs, []);
  assert.deepEqual(quoted!.heredocs.map((h) => [h.name, h.expand]), [['Qx', false]]);
  assert.deepEqual([quoted!.line, quoted!.endLine], [15, 17]);
  // Not heredoc-capable instructions ignore <<.
  assert.deepEqual(parse(lines('FROM a', 'ENV A=<<EOF')).nodes[1]!.heredocs, []);
});

test('ONBUILD keeps its trigger as a sub-node, heredocs included', () => {
  const r = parse(lines('FROM a', 'ONBUILD RUN <<EOF', 'x', 'EOF', 'ONBUILD COPY --from=b a b'));
  assert.equal(r.nodes[1]!.sub!.keyword, 'run');
  assert.equal(r.nodes[1]!.sub!.heredocs[0]!.content, 'x\n');
  assert.deepEqual(r.nodes[2]!.sub!.flags, ['--from=b']);
});

test('parseHeredoc recognises openers and their options', () => {
  assert.deepEqual(parseHeredoc('<<EOF'), { name: 'EOF', content: '', expand: true, chomp: false, fd: 0 });
  assert.deepEqual(parseHeredoc('2<<-"E O"'), { name: 'E O', content: '', expand: false, chomp: true, fd: 2 });
  assert.equal(parseHeredoc('<<'), undefined);
  assert.equal(parseHeredoc('a<<EOF'), undefined);
  assert.equal(parseHeredoc('<<EOF<<'), undefined);
});

test('parse errors: unterminated heredoc, empty file', () => {
  parseErr(lines('FROM a', 'RUN <<EOF', 'echo'), /^dockerfile parse error line 2: unterminated heredoc$/);
  parseErr(lines('FROM a', 'RUN <<A <<B', 'A', 'x'), /line 2: unterminated heredoc/);
  parseErr(lines('# just a comment', ''), /file with no instructions/);
  parseErr('', /file with no instructions/);
});
