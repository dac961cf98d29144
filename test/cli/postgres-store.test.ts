// The state commands against the PostgreSQL store named by the server options' storeUrl
// (issue 4: "a PostgreSQL backend for several nodes … nothing backend-specific above src/store/").
// Skipped, saying why, when no PostgreSQL answers at $POLYPROV_TEST_PG_URL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { ha1 } from '../../src/core/digest.ts';
import { openStore } from '../../src/store/open.ts';
import { polyprov } from './run-cli.ts';
import { missingPeer } from '../support/peers.ts';

const URL_ = process.env.POLYPROV_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `pp_cli_${process.pid}_${randomBytes(3).toString('hex')}`;

async function reachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: URL_, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const why = await reachable();
if (why) missingPeer('PostgreSQL at 127.0.0.1:5432 (POLYPROV_TEST_PG_URL)', 'postgresql', `not reachable: ${why}`);
const dir = mkdtempSync(join(tmpdir(), 'polyprov-cli-pg-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (why) return;
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).finally(() => c.end());
});

if (why) {
  describe('state commands on PostgreSQL', () => {
    test.skip(`PostgreSQL not reachable at ${URL_} (${why}); set POLYPROV_TEST_PG_URL to run these tests`, () => undefined);
  });
} else {
  describe('state commands on PostgreSQL (storeUrl)', () => {
    test('accounts add/list and phones read and write the PostgreSQL store the options name', async () => {
      const u = new URL(URL_);
      u.searchParams.set('schema', SCHEMA);
      const cfg = join(dir, 'polyprov.json');
      writeFileSync(cfg, JSON.stringify({ storeUrl: u.toString(), data: 'data', realm: 'pg-realm' }));
      const add = await polyprov(['accounts', 'add', 'site', '--password-stdin', '--config', cfg], { input: 'pg-secret\n' });
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
      const store = await openStore({ data: join(dir, 'data'), storeUrl: u.toString() });
      try {
        expect((await store.accounts.get('site'))!.ha1Sha256).toBe(ha1('SHA-256', 'site', 'pg-realm', 'pg-secret'));
        await store.phones.recordSighting({ mac: '0004f2000001' as never, at: new Date(), source: 'http', address: '192.0.2.5', model: 'VVX400' });
      } finally {
        await store.close();
      }
      const list = await polyprov(['accounts', 'list', '--json', '--config', cfg]);
      expect((JSON.parse(list.stdout) as Array<{ user: string }>).map((a) => a.user)).toEqual(['site']);
      const phones = await polyprov(['phones', '--json', '--config', cfg]);
      expect(JSON.parse(phones.stdout)).toMatchObject([{ mac: '0004f2000001', model: 'VVX400', address: '192.0.2.5' }]);
    });
  });
}
