// Store calls per boot on a warm cache (issue 16, Speed: "Per boot on a warm cache: zero
// database reads and at most one write batch"). A real boot server in this process (one worker,
// SQLite), its store's every method wrapped to count calls; phones boot over HTTP as a VVX does
// (master, its line file, the site file, its override, the image), once to warm the caches, then
// again with the counters running. The pollers that run whether phones boot or not (the fleet
// generation, the staging switch) are measured over an idle window of the same length and taken
// off (one poll more or less in the busy window is the timers', not a boot's). Used by http-nginx.ts.
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadServerOptions } from '../src/options.ts';
import { startServer } from '../src/server.ts';

const READ = /^(get|list|current|history|listForPhone|query|load|generation|byHash|forPhone|boots)$/;

export interface StoreCounts {
  calls: Map<string, number>;
  reset(): void;
}

/** Wraps every method of the store's parts so each call is counted as `part.method`. */
export function countStoreCalls(store: object): StoreCounts {
  const calls = new Map<string, number>();
  for (const [part, obj] of Object.entries(store)) {
    if (!obj || typeof obj !== 'object') continue;
    const names = new Set<string>();
    for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
      for (const n of Object.getOwnPropertyNames(o)) if (n !== 'constructor') names.add(n);
    }
    for (const name of names) {
      const fn = (obj as Record<string, unknown>)[name];
      if (typeof fn !== 'function') continue;
      const key = `${part}.${name}`;
      (obj as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return (fn as (...a: unknown[]) => unknown).apply(this, args);
      };
    }
  }
  return { calls, reset: () => calls.clear() };
}

function get(port: number, path: string, mac: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, agent: false, headers: { 'user-agent': `FileTransport PolycomVVX-VVX_410-UA/5.9.5.0614 (SN:${mac}) Type/Application` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end();
  });
}

export async function warmBoots(
  data: string,
  root: string,
  count: typeof countStoreCalls,
  phones = 50,
): Promise<{ boots: number; readsPerBoot: number; writeBatchesPerBoot: number; readsByCall: Record<string, number>; writesByCall: Record<string, number>; idle: Record<string, number> }> {
  const macs = Array.from({ length: phones }, (_, i) => `0004f2${(0x100000 + i).toString(16).slice(1)}`);
  for (const mac of macs) writeFileSync(join(root, `${mac}-line.cfg`), `<polycomConfig reg.1.address="${mac}"/>`);
  const options = Object.freeze({ ...loadServerOptions({ root, data, http: '127.0.0.1:0', policy: 'open' }, {}), rateLimitPerSec: 1_000_000, rateLimitBurst: 1_000_000 });
  const server = await startServer(options, pino({ level: 'silent' }));
  const port = server.listening.find((l) => l.transport === 'http')!.port;
  const counts = count(server.store);
  const boot = async (mac: string) => {
    for (const p of ['/000000000000.cfg', `/${mac}-line.cfg`, '/site.cfg', `/overrides/${mac}-phone.cfg`, '/sip.ld']) await get(port, p, mac);
  };
  const settle = () => new Promise((r) => setTimeout(r, 600)); // past the audit's 200 ms batching
  try {
    for (const mac of macs) await boot(mac); // cold: phones first seen, files first read
    await settle();
    const t0 = Date.now();
    counts.reset();
    for (let i = 0; i < 3; i++) for (const mac of macs) await boot(mac);
    await settle();
    const busy = new Map(counts.calls);
    const took = Date.now() - t0;
    counts.reset();
    await new Promise((r) => setTimeout(r, took));
    const idle = new Map(counts.calls);
    const boots = 3 * macs.length;
    const reads: Record<string, number> = {};
    const writes: Record<string, number> = {};
    for (const [k, n] of busy) {
      // A call also made in the idle window is a poller (fleet generation, staging switch): its
      // timer does not line up with the windows, so one poll more or less in the busy window is
      // not a boot's doing. It counts against the boots only when clearly above the idle rate.
      const i = idle.get(k) ?? 0;
      const net = i === 0 ? n : n > Math.ceil(i * 1.5) + 1 ? n - i : 0;
      if (net <= 0) continue;
      (READ.test(k.slice(k.indexOf('.') + 1)) ? reads : writes)[k] = net;
    }
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    return { boots, readsPerBoot: sum(reads) / boots, writeBatchesPerBoot: sum(writes) / boots, readsByCall: reads, writesByCall: writes, idle: Object.fromEntries(idle) };
  } finally {
    await server.close();
  }
}
