// Issue 16, Several nodes, one PostgreSQL: "`polyprov store copy --to postgres://…` (reading the
// store that --data/--config name) moves a site from the embedded store to PostgreSQL with its
// history." A SQLite site with a bit of everything — inventory and boot timeline, an override with
// three versions and a rolling log, audit, the change record, accounts, the staging switch, the
// managed fleet with a sealed secret, an API token — copied by the CLI into a fresh schema; every
// table's row count and a few values per section compare equal, the upload history keeps its
// versions, the copied fleet opens with the site's secret key, and a second copy is refused
// (the target is not empty).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeAccount } from '../../src/core/digest.ts';
import { openAdmin } from '../../src/core/open-core.ts';
import type { Mac } from '../../src/domain.ts';
import { FleetService } from '../../src/fleet/fleet-service.ts';
import { SecretBox } from '../../src/fleet/secret-box.ts';
import { parseKeyText } from '../../src/fleet/secret-key.ts';
import { loadServerOptions } from '../../src/options.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store, UploadKey } from '../../src/store/store.ts';
import { runCli } from '../phone/serve-child.ts';
import { missingPeer } from '../support/peers.ts';
import { makeSite, pgUnreachable, type Site } from './nodes-support.ts';

const why = await pgUnreachable();
if (why) missingPeer('PostgreSQL at 127.0.0.1:5432 (POLYPROV_TEST_PG_URL)', 'postgresql', `not reachable: ${why}`);

const MAC = '0004f2abc001' as Mac;
const MAC2 = '0004f2abc002' as Mac;
const KEY: UploadKey = { mac: MAC, kind: 'override-phone', path: `overrides/${MAC}-phone.cfg` };
const LOG: UploadKey = { mac: MAC, kind: 'log-app', path: `logs/${MAC}-app.log` };
const T0 = Date.UTC(2026, 5, 1, 8);

describe.skipIf(why !== undefined)('issue 16, Several nodes: polyprov store copy --to postgres:// moves a SQLite site with its history', () => {
  let site: Site;
  let pgSite: Site;
  let cfg: string;

  beforeAll(async () => {
    site = makeSite({ storeUrl: 'sqlite' });
    pgSite = makeSite();
    cfg = site.config(0);
    const options = loadServerOptions({ config: cfg });
    const s = await openAdmin(options, { who: 'copy-test' });
    try {
      await s.admin.accounts.add('site', 'site', 'site-pass');
      await s.admin.staging.set(true);
      await s.admin.fleet.apply([
        { op: 'phone.put', phone: { mac: MAC, model: 'VVX411', label: 'Reception' } },
        { op: 'settings.set', scope: { kind: 'phone', tenant: 'default', name: MAC }, values: { 'reg.1.address': '1001', 'reg.1.auth.password': 's3cret-line' } },
        { op: 'settings.set', scope: { kind: 'global', tenant: '', name: '' }, values: { 'tcpIpApp.sntp.address': 'pool.ntp.org' } },
      ], {});
    } finally {
      await s.close();
    }
    const store = await openStore(options);
    try {
      await store.accounts.put(makeAccount('phone', 'phone1', 'p1', 'polyprov', MAC));
      await store.phones.recordSightings([
        { mac: MAC, at: new Date(T0), source: 'http', address: '192.0.2.10', model: 'VVX411', appVersion: '6.4.3', stage: 'application', bootStart: true },
        { mac: MAC2, at: new Date(T0 + 1000), source: 'tftp', address: '192.0.2.11', stage: 'bootrom', bootStart: true },
      ]);
      for (let v = 1; v <= 3; v++) {
        const sink = await store.uploads.begin(KEY, { mode: 'replace', address: '192.0.2.10', maxBytes: 1 << 20, keepVersions: 10 });
        await sink.write(Buffer.from(`<PHONE_CONFIG><OVERRIDES up.note="version ${v}"/></PHONE_CONFIG>`));
        await sink.commit({ locked: v === 2 });
      }
      const log = await store.uploads.begin(LOG, { mode: 'append', address: '192.0.2.10', maxBytes: 1 << 20, keepVersions: 1, capBytes: 1000 });
      await log.write(Buffer.from([0, 1, 2, 255, 254]));
      await log.commit();
      await store.audit.append(Array.from({ length: 250 }, (_, i) => ({ at: new Date(T0 + i), mac: MAC, address: '192.0.2.10', transport: 'http' as const, op: 'read', path: `f${i}.cfg`, status: 'ok', bytes: i, durationMs: 1.5 })));
      await store.tokens.put({ name: 'ops', role: 'operator', hash: 'c'.repeat(64), createdAt: new Date(T0) });
    } finally {
      await store.close();
    }
  }, 120_000);

  afterAll(async () => {
    await site?.cleanup();
    await pgSite?.cleanup();
  });

  async function both<T>(fn: (s: Store) => Promise<T>): Promise<[T, T]> {
    const a = await openStore(loadServerOptions({ config: cfg }));
    const b = await openStore({ data: join(pgSite.dir, 'data-check'), storeUrl: pgSite.storeUrl });
    try {
      return [await fn(a), await fn(b)];
    } finally {
      await a.close();
      await b.close();
    }
  }

  test('every table arrives with the same rows; uploads keep their versions; the fleet opens with the same key', async () => {
    const r = await runCli(['store', 'copy', '--to', pgSite.storeUrl, '--config', cfg, '--json'], undefined, 120_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { tables: Array<{ table: string; rows: number }>; dropped: string[] };
    expect(report.dropped).toEqual([]);
    const rows = Object.fromEntries(report.tables.map((t) => [t.table, t.rows]));
    for (const t of ['accounts', 'settings', 'phones', 'phone_boots', 'upload_versions', 'audit', 'changes', 'fleet_phones', 'fleet_settings', 'fleet_generation', 'api_tokens']) expect(rows[t], t).toBeGreaterThan(0);
    expect(rows.upload_versions).toBe(4);
    expect(rows.audit).toBe(250);

    // The target's own count of each table equals the report.
    const c = new pg.Client({ connectionString: pgSite.storeUrl.replace(/\?.*$/, '') });
    await c.connect();
    try {
      for (const t of report.tables) {
        const n = Number((await c.query(`SELECT count(*) AS n FROM ${pgSite.schema}.${t.table}`)).rows[0].n);
        expect(n, t.table).toBe(t.rows);
      }
    } finally {
      await c.end();
    }

    const [hs, hp] = await both(async (s) => (await s.uploads.history(KEY, 10)).map((f) => ({ version: f.version, sha256: f.sha256, size: f.size, locked: f.locked, storedAt: f.storedAt.getTime(), address: f.address })));
    expect(hp).toEqual(hs);
    expect(hp.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(hp.map((v) => v.locked)).toEqual([false, true, false]);
    const [ls, lp] = await both(async (s) => {
      const f = await s.uploads.current(LOG);
      return (await f!.read()).toString('hex');
    });
    expect(lp).toBe(ls);
    expect(lp).toBe('000102fffe');
    const [as, ap] = await both((s) => s.accounts.list());
    expect(ap).toEqual(as);
    const [ps, pp] = await both((s) => s.phones.list());
    expect(pp).toEqual(ps);
    const [bs, bp] = await both((s) => s.phones.boots(MAC, 10));
    expect(bp).toEqual(bs);
    const [aus, aup] = await both((s) => s.audit.query({ limit: 1000 }));
    expect(aup).toEqual(aus);
    const [cs, cp] = await both((s) => s.changes.query({ limit: 100 }));
    expect(cp).toEqual(cs);
    expect(cp.map((x) => x.operation)).toContain('staging.set');
    const [fs, fp] = await both((s) => s.fleet.load());
    expect(fp).toEqual(fs);
    const [ts, tp] = await both((s) => s.tokens.list());
    expect(tp).toEqual(ts);
    const [ss, sp] = await both(async (s) => [await s.settings.get('staging'), await s.settings.get('digest.secret')]);
    expect(sp).toEqual(ss);

    // Nodes on the target open the copied fleet with the site's key (its secretKeyFile).
    const key = parseKeyText(readFileSync(join(site.dir, 'secret.key'), 'utf8'))!;
    const pgStore = await openStore({ data: join(pgSite.dir, 'data-check'), storeUrl: pgSite.storeUrl });
    try {
      const fleet = await FleetService.open(pgStore, new SecretBox(key));
      expect(fleet.managedFile(MAC).body.toString()).toContain('reg.1.address="1001"');
      // A new row after the copy gets an id past the copied ones (sequences moved).
      await pgStore.audit.append([{ at: new Date(T0 + 10_000), address: '192.0.2.99', transport: 'http', op: 'read', path: 'after.cfg', status: 'ok', bytes: 0, durationMs: 1 }]);
      expect((await pgStore.audit.query({ limit: 1 }))[0]!.path).toBe('after.cfg');
    } finally {
      await pgStore.close();
    }
  }, 180_000);

  test('a second copy into the same (no longer empty) store is refused and changes nothing', async () => {
    const r = await runCli(['store', 'copy', '--to', pgSite.storeUrl, '--config', cfg], undefined, 120_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not empty/);
    const [ns, np] = await both(async (s) => (await s.uploads.history(KEY, 10)).length);
    expect(np).toBe(ns);
  }, 180_000);
});
