// USAGE is src/archive's TarUsage (the layer size docker reports: unpacked bytes as moby's directory.Size
// counts them, not the tar's length) restated in plain JS for the worker, which cannot import bundled code;
// test/parity-images.test.ts and src/distribution tests check both agree.
export const USAGE = `
const U = { total: 0, sizes: new Map(), skip: 0, head: Buffer.alloc(512), fill: 0, meta: null, pax: null, gpax: null, ln: null, ll: null, end: false };
function num(b, o, n) {
  if (b[o] & 0x80) { let v = 0; for (let i = o + 1; i < o + n; i++) v = v * 256 + b[i]; return v; }
  const t = b.toString('latin1', o, o + n).split('\\0')[0].trim();
  return t ? parseInt(t, 8) : 0;
}
function cstr(b, o, n) { const e = b.indexOf(0, o); return b.toString('utf8', o, e < 0 || e > o + n ? o + n : e); }
function paxOf(buf, into) {
  let o = 0;
  while (o < buf.length && buf[o] !== 0) {
    const sp = buf.indexOf(32, o);
    const n = sp < 0 ? NaN : parseInt(buf.toString('latin1', o, sp), 10);
    if (!(n > 0)) break;
    const rec = buf.toString('utf8', sp + 1, o + n - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) into.set(rec.slice(0, eq), rec.slice(eq + 1));
    o += n;
  }
  return into;
}
function endMeta(m) {
  if (m.flag === 'x') U.pax = paxOf(m.buf, new Map(U.pax || U.gpax || []));
  else if (m.flag === 'g') U.gpax = paxOf(m.buf, U.gpax || new Map());
  else if (m.flag === 'L') U.ln = cstr(m.buf, 0, m.buf.length);
  else U.ll = cstr(m.buf, 0, m.buf.length);
}
function header() {
  const h = U.head;
  let zero = true;
  for (let i = 0; i < 512; i++) if (h[i] !== 0) { zero = false; break; }
  if (zero) { U.end = true; return; }
  // not a tar header (a blob that is not a layer tar): stop counting, as TarUsage does
  let sum = 256;
  for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += h[i];
  if (num(h, 148, 8) !== sum) { U.end = true; return; }
  const flag = String.fromCharCode(h[156]);
  let size = num(h, 124, 12);
  if (!(size >= 0)) { U.end = true; return; }
  if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
    if (size > 16777216) { U.end = true; return; }
    U.meta = { flag, buf: Buffer.alloc(size), fill: 0, pad: (512 - size % 512) % 512 };
    if (size === 0) { const m = U.meta; U.meta = null; endMeta(m); }
    return;
  }
  let name = cstr(h, 0, 100);
  if (h.toString('latin1', 257, 262) === 'ustar') { const pre = cstr(h, 345, 155); if (pre) name = pre + '/' + name; }
  let link = cstr(h, 157, 100);
  const p = U.pax || U.gpax;
  if (U.ln !== null) name = U.ln;
  if (U.ll !== null) link = U.ll;
  if (p) { if (p.has('path')) name = p.get('path'); if (p.has('linkpath')) link = p.get('linkpath'); if (p.has('size')) size = Number(p.get('size')); }
  U.pax = null; U.ln = null; U.ll = null;
  const known = '01234567\\0'.includes(flag);
  const isFile = flag === '0' || flag === '\\0' || flag === '7';
  const data = !known || isFile ? size : 0;
  U.skip = data + (512 - data % 512) % 512;
  if (!known) return;
  name = name.replace(/^(\\.\\/)+/, '').replace(/\\/+$/, '');
  const base = name.slice(name.lastIndexOf('/') + 1);
  let s = 0;
  if (isFile && !base.startsWith('.wh.')) s = size; else if (flag === '2') s = Buffer.byteLength(link);
  const prev = U.sizes.get(name);
  if (prev !== undefined) { U.total -= prev; U.sizes.delete(name); }
  if (s > 0) { U.sizes.set(name, s); U.total += s; }
}
function usage(c) {
  let off = 0;
  while (off < c.length && !U.end) {
    if (U.skip > 0) { const n = Math.min(U.skip, c.length - off); U.skip -= n; off += n; continue; }
    if (U.meta) {
      const m = U.meta; const n = Math.min(m.buf.length - m.fill, c.length - off);
      c.copy(m.buf, m.fill, off, off + n); m.fill += n; off += n;
      if (m.fill === m.buf.length) { U.meta = null; U.skip = m.pad; endMeta(m); }
      continue;
    }
    const n = Math.min(512 - U.fill, c.length - off);
    c.copy(U.head, U.fill, off, off + n); U.fill += n; off += n;
    if (U.fill === 512) { U.fill = 0; try { header(); } catch { U.end = true; } }
  }
}
`;
