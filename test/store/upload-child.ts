// Child process for test/store/sqlite.test.ts: opens the store, does an upload up to a point,
// tells the parent on stdout, and waits to be killed with SIGKILL.
//   between-writes DATA BYTES   write half of a BYTES upload, then wait
//   before-commit DATA BYTES    write a whole BYTES upload (not committed), then wait
//   commit-loop DATA      commit self-checking versions in a loop, printing each version number
//   open-record DATA N    open the store (maybe fresh), record sightings of phone N, upload, exit
import { createHash } from 'node:crypto';
import type { Mac } from '../../src/config/types.ts';
import { openStore } from '../../src/store/open.ts';
import type { UploadKey } from '../../src/store/store.ts';

export const KEY: UploadKey = { mac: '0004f2000001' as Mac, kind: 'override-phone', path: 'overrides/0004f2000001-phone.cfg' };

/** A body that proves itself whole: a header naming its length and a digest of the rest. */
export function selfCheckingBody(n: number): Buffer {
  // Odd versions exceed the in-memory spool and go through a temp file; even ones stay in memory.
  const filler = Buffer.alloc((n % 2 ? 150_000 : 20_000) + (n % 7) * 1000, 0x41 + (n % 26));
  const digest = createHash('sha256').update(filler).digest('hex');
  return Buffer.concat([Buffer.from(`n=${n};len=${filler.length};sha=${digest};`), filler]);
}

export function checkSelfCheckingBody(b: Buffer): number | undefined {
  const m = /^n=(\d+);len=(\d+);sha=([0-9a-f]{64});/.exec(b.subarray(0, 120).toString('latin1'));
  if (!m) return undefined;
  const filler = b.subarray(m[0].length);
  if (filler.length !== Number(m[2])) return undefined;
  if (createHash('sha256').update(filler).digest('hex') !== m[3]) return undefined;
  return Number(m[1]);
}

async function main(): Promise<void> {
  const [mode, data, size] = process.argv.slice(2);
  const store = await openStore({ data: data!, storeUrl: 'sqlite' });
  const opts = { mode: 'replace' as const, address: '192.0.2.99', maxBytes: 1 << 20, keepVersions: 3 };
  if (mode === 'open-record') {
    const n = Number(size);
    const mac = `0004f2${String(n).padStart(6, '0')}` as Mac;
    for (let i = 0; i < 20; i++) await store.phones.recordSighting({ mac, at: new Date(), source: 'http', address: '192.0.2.1', file: { path: 'x.cfg', op: 'read', status: '200' } });
    const sink = await store.uploads.begin(KEY, { ...opts, mode: 'append' });
    await sink.write(Buffer.from(`line from ${n}\n`));
    await sink.commit();
    await store.close();
    process.stdout.write('DONE\n');
    return;
  }
  if (mode === 'between-writes' || mode === 'before-commit') {
    const sink = await store.uploads.begin(KEY, opts);
    const body = Buffer.alloc(Number(size ?? 65536), 0x5a);
    const upto = mode === 'between-writes' ? body.length / 2 : body.length;
    for (let i = 0; i < upto; i += 4096) await sink.write(body.subarray(i, Math.min(i + 4096, upto)));
    process.stdout.write('READY\n');
  } else if (mode === 'commit-loop') {
    for (let n = 1; n < 100_000; n++) {
      const sink = await store.uploads.begin(KEY, opts);
      const body = selfCheckingBody(n);
      for (let i = 0; i < body.length; i += 3000) await sink.write(body.subarray(i, i + 3000));
      await sink.commit();
      process.stdout.write(`COMMITTED ${n}\n`);
    }
  }
  // Wait for SIGKILL (bounded: give up after a minute so a broken test leaves no orphan).
  setTimeout(() => process.exit(9), 60_000);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
