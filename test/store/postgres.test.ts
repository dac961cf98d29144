// The conformance suite against PostgreSQL (issue 4: "a PostgreSQL backend for several nodes").
// Each store gets a fresh schema of its own; all are dropped afterwards. Skipped, saying why,
// when no PostgreSQL answers at $POLYPROV_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import { PgConnection } from '../../src/store/postgres/connection.ts';
import { MIGRATIONS } from '../../src/store/postgres/migrations.ts';
import { storeTests } from './conformance.ts';
import { checkUploadsPerPath, TENANT_UPLOAD_ROWS } from './migration-9.ts';
import { pgTestSchemas } from '../support/pg-schema.ts';

const pgs = await pgTestSchemas('pp_test');
const why = pgs.why;
const URL_ = pgs.url;
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await pgs.dropAll();
});

/** A store on a fresh schema, with the storeUrl and data directory a second node opens it by. */
async function makeStore() {
  const storeUrl = pgs.fresh();
  const data = mkdtempSync(join(tmpdir(), 'polyprov-pg-'));
  dirs.push(data);
  return { store: await openStore({ data, storeUrl }), tmpDir: join(data, 'tmp'), storeUrl, data };
}

if (why) {
  describe('postgres', () => {
    test.skip(pgs.skipTitle, () => undefined);
  });
  console.warn(`[postgres.test] SKIPPED: PostgreSQL not reachable at ${URL_}: ${why}`);
} else {
  storeTests(makeStore, 'postgres');

  describe('postgres: schema', () => {
    test('migrations are recorded once per schema and reopening applies nothing twice', async () => {
      const { store, data, storeUrl } = await makeStore();
      await store.close();
      const schema = pgs.names.at(-1)!;
      await (await openStore({ data, storeUrl })).close();
      const c = new pg.Client({ connectionString: URL_ });
      await c.connect();
      try {
        const r = await c.query(`SELECT version FROM ${schema}.schema_version ORDER BY version`);
        expect(r.rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
        const idx = await c.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1`, [schema]);
        expect(idx.rows.map((x: { indexname: string }) => x.indexname)).toContain('audit_by_mac_at');
      } finally {
        await c.end();
      }
    });

    test('issue 14 Tenants: migration 9 keeps a version-8 schema\'s uploads under the paths they were stored at, each now its own key', async () => {
      const storeUrl = pgs.fresh();
      const schema = pgs.names.at(-1)!;
      const data = mkdtempSync(join(tmpdir(), 'polyprov-pg-'));
      dirs.push(data);
      const c = new pg.Client({ connectionString: URL_ });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA ${schema}`);
        await c.query(`SET search_path TO ${schema}`);
        await c.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
        for (const m of MIGRATIONS.filter((x) => x.version <= 8)) {
          await c.query(m.sql);
          await c.query('INSERT INTO schema_version (version) VALUES ($1)', [m.version]);
        }
        for (const [path, version, body] of TENANT_UPLOAD_ROWS) {
          await c.query(`INSERT INTO upload_versions (mac, kind, path, version, size, sha256, stored_at, address, locked, tree_version, content)
            VALUES ('0004f2000001', 'override-phone', $1, $2, $3, 'x', $4, '192.0.2.1', FALSE, NULL, $5)`, [path, version, body.length, 1000 * version, Buffer.from(body)]);
        }
      } finally {
        await c.end();
      }
      const store = await openStore({ data, storeUrl });
      try {
        await checkUploadsPerPath(store);
      } finally {
        await store.close();
      }
    });

    test('two stores on one schema (two nodes) see each other’s commits; concurrent commits stay whole', async () => {
      const a = await makeStore();
      const b = await openStore({ data: a.data, storeUrl: a.storeUrl });
      try {
        const key = { mac: '0004f2000001' as never, kind: 'override-phone' as const, path: 'overrides/0004f2000001-phone.cfg' };
        const opts = { mode: 'replace' as const, address: '192.0.2.1', maxBytes: 1 << 20, keepVersions: 10 };
        const bodies = [Buffer.alloc(5000, 0x61), Buffer.alloc(7000, 0x62)];
        const sa = await a.store.uploads.begin(key, opts);
        const sb = await b.uploads.begin(key, opts);
        await sa.write(bodies[0]!);
        await sb.write(bodies[1]!);
        const [fa, fb] = await Promise.all([sa.commit(), sb.commit()]);
        expect(new Set([fa.version, fb.version])).toEqual(new Set([1, 2]));
        const cur = await b.uploads.current(key);
        const content = await cur!.read();
        expect(content.equals(fa.version === 2 ? bodies[0]! : bodies[1]!)).toBe(true);
        expect((await a.store.uploads.current(key))!.sha256).toBe(cur!.sha256);
      } finally {
        await b.close();
        await a.store.close();
      }
    });
  });

  describe('postgres: the managed fleet on several nodes (issue 14, Model and Scale)', () => {
    test('two nodes on one schema: applies from both are serialised, each sees the other\'s generation and data', async () => {
      const a = await makeStore();
      const b = await openStore({ data: a.data, storeUrl: a.storeUrl });
      try {
        const t = (name: string) => ({ op: 'putTenant' as const, tenant: { name, createdAt: new Date(1000) } });
        const gens = await Promise.all([
          ...['a1', 'a2', 'a3'].map((n) => a.store.fleet.apply([t(n)])),
          ...['b1', 'b2', 'b3'].map((n) => b.fleet.apply([t(n)])),
        ]);
        expect([...gens].sort()).toEqual([1, 2, 3, 4, 5, 6]);
        expect(await b.fleet.generation()).toBe(6);
        expect((await a.store.fleet.load()).tenants.map((x) => x.name)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
      } finally {
        await b.close();
        await a.store.close();
      }
    });

    test('a connection lost in the middle of an apply is PP_STORE_UNAVAILABLE and nothing of it is applied', async () => {
      const { store } = await makeStore();
      const schema = pgs.names.at(-1)!;
      await store.fleet.apply([{ op: 'putTenant', tenant: { name: 'default', createdAt: new Date(1000) } }]);
      const holder = new pg.Client({ connectionString: URL_ });
      const killer = new pg.Client({ connectionString: URL_ });
      await holder.connect();
      await killer.connect();
      try {
        // Hold the generation row: the apply's transaction waits on it, then its connection is killed.
        await holder.query('BEGIN');
        await holder.query(`UPDATE ${schema}.fleet_generation SET generation = generation WHERE id = 1`);
        const ops = [{ op: 'putTenant' as const, tenant: { name: 'lost', createdAt: new Date(2000) } }];
        const applying = store.fleet.apply(ops);
        // Handled at once: it may reject while the killer's query is still answering (an unhandled rejection to vitest).
        applying.catch(() => undefined);
        let pid: number | undefined;
        for (let i = 0; i < 100 && pid === undefined; i++) {
          await new Promise((r) => setTimeout(r, 50));
          const r = await killer.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE fleet_generation%'`);
          pid = r.rows[0]?.pid;
        }
        expect(pid).toBeDefined();
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        await expect(applying).rejects.toMatchObject({ code: 'PP_STORE_UNAVAILABLE' });
        await holder.query('ROLLBACK');
        expect(await store.fleet.generation()).toBe(1);
        expect((await store.fleet.load()).tenants.map((x) => x.name)).toEqual(['default']);
        expect(await store.fleet.apply(ops)).toBe(2);
      } finally {
        await holder.end();
        await killer.end();
      }
    });
  });

  describe('postgres: faults (issue 13 item 13)', () => {
    test('a connection killed in the middle of a transaction is PP_STORE_UNAVAILABLE, not a crash, and the next query reconnects', async () => {
      const db = new PgConnection({ connectionString: URL_, poolSize: 2 });
      db.open();
      const killer = new pg.Client({ connectionString: URL_ });
      await killer.connect();
      try {
        // The checked-out client is the one whose 'error' event crashed the process before.
        const failed = db.tx(async (c) => {
          const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
          await killer.query('SELECT pg_terminate_backend($1)', [pid]);
          await new Promise((r) => setTimeout(r, 100)); // the 'error' event arrives while no query runs
          await c.query('SELECT 1');
        });
        await expect(failed).rejects.toMatchObject({ code: 'PP_STORE_UNAVAILABLE' });
        expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
      } finally {
        await killer.end();
        await db.close();
      }
    });

    test('a database nobody answers for is PP_STORE_UNAVAILABLE when the store opens', async () => {
      const dead = new URL(URL_);
      dead.port = '1'; // nothing listens on tcpmux
      const data = mkdtempSync(join(tmpdir(), 'polyprov-pg-'));
      dirs.push(data);
      await expect(openStore({ data, storeUrl: dead.toString() })).rejects.toMatchObject({ code: 'PP_STORE_UNAVAILABLE' });
    });
  });
}
