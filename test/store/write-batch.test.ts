// Issue 16, Speed: "Per boot on a warm cache: zero database reads and at most one write batch".
// The audit recorder (src/core/audit.ts) hands each flush to the store as ONE write: the flush's
// inventory sightings and audit rows in one transaction. Counted here through a spy on the
// backend, SQLite and PostgreSQL (127.0.0.1:5432 db `test`, skipped saying why when absent): N
// warm phones each booting (14 requests, the three-node bench's application stage) make one
// transaction per flush, and on PostgreSQL a number of statements that does not grow with N (it
// was one UPDATE per phone and one audit statement of its own); afterwards the inventory shows
// every phone's last seen, counters and master.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { AuditRecorder } from '../../src/core/audit.ts';
import type { AuditEvent, Sighting } from '../../src/domain.ts';
import type { Logger } from '../../src/log.ts';
import { openStore } from '../../src/store/open.ts';
import type { PgStore } from '../../src/store/postgres/pg-store.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { pgTestSchemas } from '../support/pg-schema.ts';

const errors: unknown[] = [];
const log = { warn() {}, info() {}, debug() {}, error: (o: unknown) => void errors.push(o) } as unknown as Logger;
const pgs = await pgTestSchemas('pp_wbatch');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await pgs.dropAll();
});

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const mac = (i: number) => `0004f2${(0x200000 + i).toString(16)}` as Mac;

/** What record.ts queues for one application-stage boot: 12 reads, 2 log uploads, 14 audit rows. */
function boot(r: AuditRecorder, m: Mac, i: number, start: number): number {
  const files: Array<[string, 'read' | 'write', string]> = [
    ['000000000000.cfg', 'read', '200'], [`${m}-user.cfg`, 'read', '200'], ['site.cfg', 'read', '200'],
    [`overrides/${m}-phone.cfg`, 'read', '404'], [`overrides/${m}-web.cfg`, 'read', '404'], [`contacts/${m}-directory.xml`, 'read', '404'],
    ['000000000000-directory.xml', 'read', '404'], ['sip.ld', 'read', '206'], [`${m}-license.cfg`, 'read', '404'],
    ['000000000000-license.cfg', 'read', '404'], [`${m}-calls.xml`, 'read', '404'], [`${m}-phone.cfg`, 'read', '404'],
    [`logs/${m}-boot.log`, 'write', 'stored'], [`logs/${m}-app.log`, 'write', 'stored'],
  ];
  let at = start;
  for (const [k, [path, op, status]] of files.entries()) {
    at = start + k * 7 + (i % 5);
    const address = `127.1.0.${(i % 250) + 1}`;
    const ev: AuditEvent = { at: new Date(at), mac: m, address, transport: 'http', op, path, status, bytes: 10, durationMs: 1 };
    r.event(ev);
    const s: Sighting = { mac: m, at: new Date(at), source: 'http', address, model: 'VVX410', partNumber: '3111-46161-001', stage: 'application', appVersion: '5.9.5.0614', file: { path, op, status } };
    if (path === '000000000000.cfg') s.master = path;
    r.sighting(s);
  }
  return at;
}

interface Spy {
  transactions: number;
  statements: number;
  reset(): void;
}

/** Counts PostgreSQL transactions (BEGIN…COMMIT, or a statement outside one) and statements. */
function spyPg(store: PgStore): Spy {
  const spy: Spy = { transactions: 0, statements: 0, reset: () => Object.assign(spy, { transactions: 0, statements: 0 }) };
  const pool = store.db.pool;
  const wrapped = new WeakSet<pg.PoolClient>();
  const wrap = (c: pg.PoolClient | undefined) => {
    if (!c || wrapped.has(c)) return;
    wrapped.add(c);
    let inTx = false;
    const query = c.query.bind(c) as (...a: unknown[]) => unknown;
    (c as unknown as { query: unknown }).query = (...a: unknown[]) => {
      const text = typeof a[0] === 'string' ? a[0] : (a[0] as { text: string }).text;
      if (/^\s*BEGIN/i.test(text)) {
        inTx = true;
        spy.transactions++;
      } else if (/^\s*(COMMIT|ROLLBACK)/i.test(text)) inTx = false;
      else {
        spy.statements++;
        if (!inTx) spy.transactions++;
      }
      return query(...a);
    };
  };
  // pg-pool's own query() checks a client out with connect(callback): both forms go through here.
  const connect = pool.connect.bind(pool) as (...a: unknown[]) => unknown;
  (pool as unknown as { connect: unknown }).connect = (cb?: (err: Error | undefined, c: pg.PoolClient, done: unknown) => void) => {
    if (typeof cb === 'function') return connect((err: Error | undefined, c: pg.PoolClient, done: unknown) => (wrap(c), cb(err, c, done)));
    return (connect() as Promise<pg.PoolClient>).then((c) => (wrap(c), c));
  };
  return spy;
}

/** Counts SQLite transactions (every write of the store opens one through db.transaction). */
function spySqlite(store: SqliteStore): Spy {
  const spy: Spy = { transactions: 0, statements: 0, reset: () => Object.assign(spy, { transactions: 0, statements: 0 }) };
  const db = store.db;
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    spy.transactions++;
    return transaction(fn);
  }) as typeof db.transaction;
  return spy;
}

function backends(): Array<[string, () => Promise<{ store: Store; spy: Spy; pg?: pg.Pool }>]> {
  const data = () => {
    const d = mkdtempSync(join(tmpdir(), 'polyprov-wbatch-'));
    dirs.push(d);
    return d;
  };
  const list: Array<[string, () => Promise<{ store: Store; spy: Spy; pg?: pg.Pool }>]> = [
    ['sqlite', async () => {
      const store = await openStore({ data: data(), storeUrl: 'sqlite' });
      return { store, spy: spySqlite(store as SqliteStore) };
    }],
  ];
  if (!pgs.why) {
    list.push(['postgres', async () => {
      const store = await openStore({ data: data(), storeUrl: pgs.fresh() });
      return { store, spy: spyPg(store as PgStore), pg: (store as PgStore).db.pool };
    }]);
  }
  return list;
}

if (pgs.why) describe('write batch: postgres', () => test.skip(pgs.skipTitle, () => undefined));

for (const [name, open] of backends()) {
  describe(`${name}: a recorder flush is one write batch (issue 16, Speed)`, () => {
    test('N warm boots: one transaction per flush (statements not growing with N on PostgreSQL); the inventory shows every phone after it', async () => {
      const { store, spy, pg: pool } = await open();
      // flushMs far off: the test flushes by hand, one flush per round.
      const rec = new AuditRecorder(store, log, { flushMs: 60_000, maxBatch: 1_000_000 });
      try {
        const stmts: number[] = [];
        for (const n of [10, 300]) {
          // Cold: the phones are first seen (rows created).
          for (let i = 0; i < n; i++) boot(rec, mac(i), i, T0);
          await rec.flush();
          // Warm: the same phones boot again.
          spy.reset();
          const start = T0 + 60_000 * n;
          let last = 0;
          for (let i = 0; i < n; i++) last = Math.max(last, boot(rec, mac(i), i, start));
          await rec.flush();
          expect(spy.transactions, `${n} warm boots`).toBe(1);
          stmts.push(spy.statements);
          const phones = (await store.phones.list()).filter((p) => p.mac <= mac(n - 1));
          expect(phones).toHaveLength(n);
          for (const [i, p] of phones.entries()) {
            expect(p.mac).toBe(mac(i));
            // Every phone's last seen is its warm boot's last request; both boots counted (4 reads answered, 2 uploads each).
            expect(p.lastSeen.getTime()).toBe(start + 13 * 7 + (i % 5));
            expect(p.firstSeen.getTime()).toBe(T0 + (i % 5));
            expect(p).toMatchObject({ fetchedCount: n === 10 || i >= 10 ? 8 : 16, uploadedCount: n === 10 || i >= 10 ? 4 : 8, master: '000000000000.cfg', appVersion: '5.9.5.0614', model: 'VVX410' });
          }
          expect(last).toBe(start + 13 * 7 + 4);
          expect(await store.audit.query({ since: new Date(start), limit: 100_000 })).toHaveLength(14 * n);
          if (pool) {
            // The database's own word: every row this flush wrote carries one transaction id.
            const r = await pool.query(
              `SELECT count(DISTINCT x) AS n FROM (SELECT xmin::text AS x FROM phones WHERE mac <= $1 UNION ALL SELECT xmin::text FROM audit WHERE at >= $2) t`,
              [mac(n - 1), start],
            );
            expect(Number(r.rows[0].n)).toBe(1);
          }
        }
        // PostgreSQL: seed, lock, one UPDATE, one audit INSERT, whatever N (it was 1 + N + 3).
        if (pool) expect(stmts).toEqual([4, 4]);
        expect(errors).toEqual([]);
      } finally {
        await rec.close();
        await store.close();
      }
    }, 60_000);
  });
}
