// COPY/ADD sources and destinations with the classic builder's semantics (moby builder/dockerfile/copy.go):
//  - a source is a path relative to the context root (a leading `/` or `./` is dropped); a path or a symlink
//    that leaves the context is refused ("forbidden path outside the build context: ../x ()");
//  - a source with an unescaped `*` `?` `[` is matched (Go filepath.Match) against every path in the context;
//    each match counts as one source; no match → "no source files were specified";
//  - a missing plain source → "file not found in build context or excluded by .dockerignore: stat x: file does
//    not exist";
//  - a directory source copies its contents, not itself;
//  - more than one source needs a destination ending in `/`;
//  - a file goes to DEST/basename when DEST ends in `/` or is an existing directory, else to DEST;
//  - a relative DEST is under WORKDIR.
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { posix, sep } from 'node:path';
import { invalidArgument, notFound } from '../../errors/index.ts';
import { compileMatch, hasWildcards } from './match.ts';
import type { LazyContext } from './lazy.ts';

export interface SourceInfo {
  /** Path relative to the source root, slash-separated ('.' for the root itself). */
  rel: string;
  /** Absolute host path, symlinks of the source itself resolved (inside the root). */
  path: string;
  isDir: boolean;
  /** Downloaded by ADD from a URL (never unpacked). */
  remote?: boolean;
  /** Read in place from the received context tar (LazyContext); `path` is then ''. */
  tar?: LazyContext;
  /** COPY --parents: the front of `rel` to drop (the part before a `/./` pivot in the source as written). */
  pivot?: string;
}

function forbidden(p: string): Error {
  return invalidArgument(`forbidden path outside the build context: ${p} ()`, { code: 'PATH_OUTSIDE_CONTEXT' });
}

/** Strips a leading `/` and `./` as docker does, and cleans the path. */
export function contextRelative(src: string): string {
  let p = src.replace(/^\/+/, '');
  if (p.startsWith('./')) p = p.slice(2);
  const c = posix.normalize(p === '' ? '.' : p);
  return c.length > 1 && c.endsWith('/') ? c.slice(0, -1) : c;
}

async function resolveOne(root: string, rel: string, orig: string): Promise<SourceInfo> {
  if (rel === '..' || rel.startsWith('../')) throw forbidden(orig);
  const lexical = rel === '.' ? root : `${root}/${rel}`;
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // A dangling symlink that points outside is still an escape attempt, so say so.
      if (await pointsOutside(root, lexical)) throw forbidden(orig);
      throw notFound(`file not found in build context or excluded by .dockerignore: stat ${orig}: file does not exist`, {
        code: 'SOURCE_NOT_FOUND',
      });
    }
    throw e;
  }
  if (real !== root && !real.startsWith(root + sep)) throw forbidden(orig);
  const st = await stat(real);
  return { rel, path: real, isDir: st.isDirectory() };
}

async function pointsOutside(root: string, p: string): Promise<boolean> {
  try {
    const target = await readlink(p);
    const abs = posix.resolve(posix.dirname(p), target);
    return abs !== root && !abs.startsWith(root + '/');
  } catch {
    return false;
  }
}

/** Every path under `root` in lexical walk order (as filepath.Walk), relative, slash-separated. */
async function* walkRel(root: string, rel = ''): AsyncGenerator<string> {
  const names = (await readdir(rel ? `${root}/${rel}` : root)).sort();
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    yield r;
    if ((await lstat(`${root}/${r}`)).isDirectory()) yield* walkRel(root, r);
  }
}

/**
 * Resolves the sources of one COPY/ADD against `root` (the context, or a stage's/image's root filesystem).
 * Throws InvalidArgument (PATH_OUTSIDE_CONTEXT, NO_SOURCE_FILES) or NotFound (SOURCE_NOT_FOUND).
 */
export async function resolveSources(rootDir: string, sources: string[]): Promise<SourceInfo[]> {
  const root = await realpath(rootDir);
  const out: SourceInfo[] = [];
  for (const src of sources) {
    const rel = contextRelative(src);
    if (hasWildcards(rel)) {
      if (rel === '..' || rel.startsWith('../')) throw forbidden(rel);
      let m: (name: string) => boolean;
      try {
        m = compileMatch(rel);
      } catch {
        throw invalidArgument(`syntax error in pattern: ${src}`, { code: 'BAD_PATTERN' });
      }
      const before = out.length;
      // moby matches the pattern as written against paths without a trailing '/': `src/*/` matches nothing
      if (!/\/$/.test(src)) for await (const r of walkRel(root)) if (m(r)) out.push(await resolveOne(root, r, r));
      if (out.length === before) throw invalidArgument('no source files were specified', { code: 'NO_SOURCE_FILES' });
    } else {
      out.push(await resolveOne(root, rel, rel));
    }
  }
  return out;
}

/** The absolute destination: relative ones are joined to WORKDIR; a trailing `/` is kept. */
export function normalizeDest(workdir: string, dest: string): string {
  if (dest.startsWith('/')) return dest;
  const joined = posix.join('/', workdir || '/', dest);
  return dest.endsWith('/') && !joined.endsWith('/') ? joined + '/' : joined;
}

export type CopyOp =
  /** Copy the contents of host directory `from` into `to` (created if needed). */
  | { kind: 'dir'; from: string; to: string; src?: SourceInfo }
  /** Copy host file `from` to exactly `to`. */
  | { kind: 'file'; from: string; to: string; src?: SourceInfo }
  /** Write `data` to `to` (heredoc source). */
  | { kind: 'content'; data: string; to: string };

export interface PlanCopyOptions {
  cmd: 'COPY' | 'ADD';
  workdir: string;
  dest: string;
  sources: SourceInfo[];
  /** Heredoc sources: file name and data. */
  contents?: { path: string; data: string }[];
  /** Whether an absolute path in the image being built is an existing directory. */
  isDir(path: string): Promise<boolean>;
  /** COPY --parents: each source keeps its path (after its `pivot`) under the destination. */
  parents?: boolean;
}

/** For COPY --parents: the context-relative prefix before a source's `/./` pivot ('' when none). */
export function parentsPivot(src: string): string {
  const body = src.replace(/^\/+/, '').replace(/^\.\//, '');
  const i = body.indexOf('/./');
  return i < 0 ? '' : contextRelative(body.slice(0, i));
}

/** Turns resolved sources into concrete copy operations (pure apart from `isDir`). */
export async function planCopy(o: PlanCopyOptions): Promise<CopyOp[]> {
  const contents = o.contents ?? [];
  const count = o.sources.length + contents.length;
  if (count > 1 && !o.dest.endsWith('/') && !o.parents) {
    throw invalidArgument(
      `When using ${o.cmd} with more than one source file, the destination must be a directory and end with a /`,
      { code: 'DEST_NOT_DIR' },
    );
  }
  const dest = normalizeDest(o.workdir, o.dest);
  const destClean = dest.length > 1 && dest.endsWith('/') ? dest.slice(0, -1) : dest;
  const intoDir = dest.endsWith('/') || (await o.isDir(destClean));
  const ops: CopyOp[] = [];
  if (o.parents) {
    // Every source lands at DEST/<its path> (after the pivot): the destination is always a directory.
    for (const s of o.sources) {
      const pivot = s.pivot && (s.rel === s.pivot || s.rel.startsWith(s.pivot + '/')) ? s.pivot : '';
      const keep = pivot ? s.rel.slice(pivot.length).replace(/^\//, '') : s.rel === '.' ? '' : s.rel;
      const to = keep ? posix.join(destClean, keep) : destClean;
      const src = s.tar ? { src: s } : {};
      ops.push(s.isDir ? { kind: 'dir', from: s.path, to, ...src } : { kind: 'file', from: s.path, to, ...src });
    }
    for (const c of contents) ops.push({ kind: 'content', data: c.data, to: posix.join(destClean, posix.basename(c.path)) });
    return ops;
  }
  for (const s of o.sources) {
    const src = s.tar ? { src: s } : {};
    if (s.isDir) ops.push({ kind: 'dir', from: s.path, to: destClean, ...src });
    else ops.push({ kind: 'file', from: s.path, to: intoDir ? posix.join(destClean, posix.basename(s.rel)) : destClean, ...src });
  }
  for (const c of contents) {
    ops.push({ kind: 'content', data: c.data, to: intoDir ? posix.join(destClean, posix.basename(c.path)) : destClean });
  }
  return ops;
}
