// The boot service's own cost per request, without a socket (issue 16, Speed: profile before
// optimising). One process, the embedded store, the per-phone file of bench/http-nginx.ts read
// N times through CoreBootService.handle as the HTTP face calls it, the transfer reported done;
// prints CPU µs per request (median of rounds) and heap bytes allocated per request.
// `npx tsx bench/core-loop.ts [requests] [rounds]`; POLYPROV_NO_DIST is irrelevant (this runs the source).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openCore } from '../src/core/open-core.ts';
import type { BootRequest } from '../src/core/request.ts';
import { loadServerOptions } from '../src/options.ts';

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const MAC = '0004f2000001';
const work = mkdtempSync(join(tmpdir(), 'polyprov-core-loop-'));
const root = join(work, 'site');
mkdirSync(join(root, 'overrides'), { recursive: true });
writeFileSync(join(root, '000000000000.cfg'), '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-line.cfg, site.cfg" OVERRIDES_DIRECTORY="overrides"/>');
writeFileSync(join(root, `${MAC}-line.cfg`), `<polycomConfig reg.1.address="1001" reg.1.auth.userId="1001" ${'feature.x="1" '.repeat(70)}/>`);
const options = loadServerOptions({ root, data: join(work, 'data'), policy: 'open', rateLimitPerSec: 1_000_000, rateLimitBurst: 1_000_000 });
const core = await openCore(options, pino({ level: 'error' }));
const req: BootRequest = { transport: 'http', remote: { address: '127.0.0.1', port: 40000 }, op: 'read', path: `/${MAC}-line.cfg`, userAgent: 'wrk', signal: new AbortController().signal };

async function round(n: number): Promise<{ us: number; bytes: number }> {
  const c0 = process.cpuUsage();
  const h0 = process.memoryUsage().heapUsed;
  let allocated = 0;
  let last = h0;
  for (let i = 0; i < n; i++) {
    const r = await core.boot.handle({ ...req });
    if (r.kind !== 'file') throw new Error(`answered ${r.kind}`);
    r.done({ bytes: r.size, durationMs: 0.1, status: '200', aborted: false });
    // A server answers a few requests per turn of the event loop, then timers (the audit's) run.
    if ((i & 63) === 63) await new Promise((r) => setImmediate(r));
    if ((i & 1023) === 0) {
      const h = process.memoryUsage().heapUsed;
      if (h >= last) allocated += h - last; // a GC in between undercounts: a lower bound
      last = h;
    }
  }
  await core.boot.audit.flush();
  const c = process.cpuUsage(c0);
  return { us: (c.user + c.system) / n, bytes: allocated / n };
}

await round(Math.min(N, 20_000)); // warm
const rows: Array<{ us: number; bytes: number }> = [];
for (let r = 0; r < ROUNDS; r++) rows.push(await round(N));
const us = rows.map((x) => x.us).sort((a, b) => a - b);
process.stdout.write(`core handle + record + audit write: ${us[Math.floor(us.length / 2)]!.toFixed(2)} µs CPU/request (rounds ${us.map((x) => x.toFixed(2)).join(' ')}); ~${Math.round(rows[0]!.bytes)} heap bytes/request (lower bound)\n`);
await core.close();
