// The whole of `POST /build` except HTTP itself, so the daemon's route is a few lines:
//
//   const job = await prepareBuild({ builder, layout, query: url.searchParams, body: req, signal });
//   //   ↑ throws before anything is written: answer with the error's status and {"message"} (docker does)
//   res.writeHead(200, { 'Content-Type': 'application/json' });
//   try { await job.run((m) => res.write(JSON.stringify(m) + '\n')); } catch { /* sent as errorDetail */ }
//   finally { await job.cleanup(); res.end(); }
//
// The context is received as a LazyContext under <data-root>/tmp (streamed to disk, never in memory); the
// signal (client gone) cancels the build, which kills RUN containers and leaves nothing tagged.
import type { Readable } from 'node:stream';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataRoot } from '../layout/index.ts';
import { parseBuildQuery } from './query.ts';
import { LazyContext } from './context/lazy.ts';
import type { Builder, BuildEvent, BuildResult } from './executor/builder.ts';

export interface BuildJob {
  /** Runs the build, writing the classic stream; rejects with the build's error (already written). */
  run(write: (msg: BuildEvent) => void): Promise<BuildResult>;
  /** Removes the received context. Safe to call twice. */
  cleanup(): Promise<void>;
}

export async function prepareBuild(o: {
  builder: Builder; layout: DataRoot; query: URLSearchParams; body: Readable; signal?: AbortSignal; secrets?: Record<string, string>;
}): Promise<BuildJob> {
  const q = parseBuildQuery(o.query);
  await mkdir(o.layout.tmp, { recursive: true });
  const work = await mkdtemp(join(o.layout.tmp, 'ctx-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  let context: LazyContext;
  try {
    context = await LazyContext.receive(o.body, work, {
      dockerfile: q.dockerfile || undefined, signal: o.signal, hashes: q.options.noCache ? undefined : o.builder.contextHashes,
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    run: (write) => o.builder.build({
      ...q.options, context, pull: q.pull, networkMode: q.networkMode, secrets: o.secrets, signal: o.signal, onEvent: write,
    }),
    cleanup,
  };
}
