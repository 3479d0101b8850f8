// Container streams: `POST /containers/{id}/attach` (hijacked: raw bytes with a tty, docker's 8-byte
// multiplexed frames without) and `GET /containers/{id}/logs`. The runtime's attachment already yields docker's
// frames, so without a tty they pass through untouched (filtered only when one of stdout/stderr is not wanted).
import type { Readable, Writable } from 'node:stream';
import { invalidArgument } from '../../errors/index.ts';
import { readLogs, frames, type LogRecord } from '../../runtime/index.ts';
import type { Context, HijackContext } from '../router.ts';
import { containerStore } from './container-store.ts';

/** docker's 8-byte stream header + payload. */
export function frame(stream: 1 | 2, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

function write(out: Writable, b: Buffer): Promise<void> {
  if (out.destroyed) return Promise.resolve();
  if (out.write(b)) return Promise.resolve();
  return new Promise((r) => { const done = () => { out.off('drain', done); out.off('close', done); r(); }; out.on('drain', done); out.on('close', done); });
}

/** docker's --since/--until: seconds since epoch, with optional fraction ("1700000000.123456789"). */
function timeParam(v: string | null): number | undefined {
  if (!v || v === '0') return undefined;
  const n = Number(v);
  if (Number.isNaN(n)) throw invalidArgument(`invalid value for "since": ${v}`);
  return n * 1000;
}

export async function logsRoute(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const stdout = ctx.bool('stdout');
  const stderr = ctx.bool('stderr');
  if (!stdout && !stderr) throw invalidArgument('You must choose at least one stream');
  const st = await s.runtime.inspect(r.Id);
  const tty = st.tty;
  const tailRaw = ctx.query.get('tail');
  const tail = !tailRaw || tailRaw === 'all' ? undefined : Number(tailRaw);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw invalidArgument(`invalid value for "tail": ${tailRaw}`);
  const follow = ctx.bool('follow');
  const timestamps = ctx.bool('timestamps');
  const details = ctx.bool('details');
  const ac = new AbortController();
  ctx.res.on('close', () => ac.abort());
  ctx.res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  ctx.res.flushHeaders();
  const exited = follow && (st.status === 'running' || st.status === 'paused' || st.status === 'created') ? s.runtime.wait(r.Id, ac.signal) : Promise.resolve();
  exited.catch(() => {});
  const stop = ctx.onStop(() => ac.abort());
  try {
    const recs: AsyncIterable<LogRecord> = readLogs(s.runtime.logPath(r.Id), {
      follow, tail, since: timeParam(ctx.query.get('since')), until: timeParam(ctx.query.get('until')), signal: ac.signal, exited,
    });
    for await (const rec of recs) {
      if (rec.stream === 'stdout' ? !stdout : !stderr) continue;
      // --details: the entry's attributes (none without --log-opt labels/env) and a space, as moby's daemon/logs.go
      const line = details ? Buffer.concat([Buffer.from(' '), rec.data]) : rec.data;
      const data = timestamps ? Buffer.concat([Buffer.from(rec.time + ' '), line]) : line;
      await write(ctx.res, tty ? data : frame(rec.stream === 'stdout' ? 1 : 2, data));
    }
  } catch (e) {
    if (!ac.signal.aborted) s.log.debug(`logs ${r.Id}: ${String(e)}`);
  } finally {
    stop();
    if (!ctx.res.writableEnded) ctx.res.end();
  }
}

/**
 * Relays a container's output to `out` (raw with a tty, multiplexed frames without) and, when given, `input`
 * to its stdin; `logs` replays the log first. Ends when the container's output ends or `out` closes.
 */
async function relay(ctx: Context | HijackContext, out: Writable, input: Readable | undefined, head: Buffer): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  const st = await s.runtime.inspect(r.Id);
  const tty = st.tty;
  const want = { stdout: ctx.bool('stdout'), stderr: ctx.bool('stderr') };
  const live = ctx.bool('stream') && st.status !== 'exited' && st.status !== 'dead';
  // `docker run` without -i attaches for output before it starts the container: that output is exactly the
  // log from its first byte, so it is followed from the log file (ended by the exit) instead of through conmon's
  // attach socket, which needs the relay process spawned (5–12 ms on run's critical path; see runtime/relay.ts).
  // With stdin, a tty, a log that rotates (max-size) or a running container, the socket it is.
  const fromLog = live && !input && !tty && st.status === 'created' && !ctx.bool('logs') && !st.logSizeMax;
  const att = live && !fromLog ? await s.runtime.attach(r.Id) : undefined;
  // dockerd logs an attach event for every attach (docker run's included), before start
  s.events.publish({ Type: 'container', Action: 'attach', id: r.Id, attributes: { ...(r.Config.Labels ?? {}), image: r.ImageName, name: r.Name.slice(1) } });
  if ('upgrade' in ctx) ctx.upgrade(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  else ctx.res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  out.on('error', () => {});
  const emit = async (stream: 1 | 2, data: Buffer): Promise<void> => {
    if (stream === 1 ? !want.stdout : !want.stderr) return;
    await write(out, tty ? data : frame(stream, data));
  };
  try {
    if (ctx.bool('logs')) {
      for await (const rec of readLogs(s.runtime.logPath(r.Id), {})) await emit(rec.stream === 'stdout' ? 1 : 2, rec.data);
    }
    if (fromLog) {
      const ac = new AbortController();
      out.once('close', () => ac.abort());
      const exited = s.runtime.wait(r.Id, ac.signal);
      exited.catch(() => {});
      for await (const rec of readLogs(s.runtime.logPath(r.Id), { follow: true, signal: ac.signal, exited })) {
        await emit(rec.stream === 'stdout' ? 1 : 2, rec.data);
      }
    }
    if (att) {
      if (input) {
        if (head.length) att.stdin.write(head);
        input.pipe(att.stdin);
      }
      out.once('close', () => att.close());
      if (!tty && want.stdout && want.stderr) {
        att.output.pipe(out, { end: false });
        await new Promise<void>((res) => { att.output.once('end', () => res()); att.output.once('close', () => res()); out.once('close', () => res()); });
      } else {
        for await (const f of frames(att.output as AsyncIterable<Buffer>)) await emit(f.stream, f.data);
      }
    }
  } catch (e) {
    s.log.debug(`attach ${r.Id}: ${String(e)}`);
  } finally {
    att?.close();
    if (!out.destroyed) out.end();
  }
}

/** `POST /containers/{id}/attach` hijacked (`Upgrade: tcp`): the docker CLI's way, stdin included. */
export async function attachRoute(ctx: HijackContext): Promise<void> {
  await relay(ctx, ctx.socket, ctx.bool('stdin') ? ctx.socket : undefined, ctx.head);
}

/** `POST /containers/{id}/attach` without Upgrade (dockerode's default): output only, on the response. */
export async function attachPlain(ctx: Context): Promise<void> {
  await relay(ctx, ctx.res, undefined, Buffer.alloc(0));
}
