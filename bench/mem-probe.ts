// Memory probe (not part of npm run bench): one server (static or managed), RSS sampled through a storm.
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetCsv, writeManagedTree, writeStaticTree } from './fleet-gen.ts';
import { freshState, get, PHONES, polyprov, serve, stormAgainst } from './fleet-harness.ts';

const variant = process.argv[2] ?? 'managed';
const rounds = Number(process.argv[3] ?? 1);
const kb = (pid: number, k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
async function main() {
  const tmp = await mkdtemp(join(tmpdir(), 'memprobe-'));
  const root = join(tmp, 'root');
  if (variant === 'static') await writeStaticTree(root, PHONES, 8);
  else await writeManagedTree(root, 8);
  const st = await freshState('sqlite', root, { workers: 1 });
  st.env.NODE_OPTIONS = (process.env.PROBE_NODE_OPTIONS ?? '');
  if (variant === 'managed') {
    const csv = join(st.dir, 'fleet.csv');
    await writeFile(csv, fleetCsv(PHONES));
    const imp = await polyprov(st, ['fleet', 'import', csv, '--json']);
    if (imp.code !== 0) throw new Error(imp.stderr);
  }
  const s = await serve(st, root);
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`idle rss ${kb(s.pid, 'VmRSS').toFixed(0)} MB`);
  await get(s.http, '/metrics').catch(() => 0);
  for (let r = 1; r <= rounds; r++) {
    let peak = 0;
    const t = setInterval(() => { peak = Math.max(peak, kb(s.pid, 'VmRSS')); }, 100);
    const rep = await stormAgainst(s, { everyMs: 1e9 });
    clearInterval(t);
    console.log(`round ${r}: ${rep.totalSeconds.toFixed(1)} s, server CPU ${rep.serverCpuSeconds?.toFixed(1)} s; sampled peak ${peak.toFixed(0)} MB, HWM ${kb(s.pid, 'VmHWM').toFixed(0)} MB, after ${kb(s.pid, 'VmRSS').toFixed(0)} MB`);
  }
  try { const sm = readFileSync(`/proc/${s.pid}/smaps`, "utf8"); const r: Record<string, number> = {}; let n = ""; for (const l of sm.split("\n")) { const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l); if (m) n = m[1] || "[anon]"; else if (l.startsWith("Rss:")) r[n] = (r[n] ?? 0) + Number(l.split(/\s+/)[1]); } console.log(Object.entries(r).filter(([, v]) => v > 4000).map(([k, v]) => `${k}=${(v / 1024).toFixed(0)}MB`).join(" ")); } catch {}
  if (process.env.PROBE_HOLD) { console.log(`pid ${s.pid} http ${s.http} admin ${s.admin}`); await new Promise((r) => setTimeout(r, Number(process.env.PROBE_HOLD))); }
  await s.stop();
  await st.cleanup();
}
main().catch((e) => { console.error(e); process.exit(1); });
