// The fleet's key on a PostgreSQL store (issue 14, Secrets: "on PostgreSQL every node must be given
// the same key, and a node whose key cannot decrypt the store's check value refuses to start"):
// no key is ever created; a store that never had a fleet still serves without one (as before);
// once it has one, no key or another key refuses the start. Skipped, saying why, without PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { missingPeer } from '../../test/support/peers.ts';
import { isProvError } from '../errors.ts';
import { parseScope } from '../fleet/scope.ts';
import { generateKey, keyText } from '../fleet/secret-key.ts';
import { createLogger } from '../log.ts';
import { loadServerOptions } from '../options.ts';
import { openCore, withAdmin } from './open-core.ts';

const URL_ = process.env.POLYPROV_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `pp_fleetkey_${process.pid}_${randomBytes(3).toString('hex')}`;

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
const dir = mkdtempSync(join(tmpdir(), 'polyprov-fleetkey-pg-'));
const saved = process.env.POLYPROV_SECRET_KEY;
afterEach(() => {
  if (saved === undefined) delete process.env.POLYPROV_SECRET_KEY;
  else process.env.POLYPROV_SECRET_KEY = saved;
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (why) return;
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).finally(() => c.end());
});

async function startError(opts: ReturnType<typeof loadServerOptions>): Promise<unknown> {
  try {
    const core = await openCore(opts, createLogger('silent'));
    await core.close();
    return undefined;
  } catch (e) {
    return e;
  }
}

if (why) {
  describe('the fleet key on PostgreSQL', () => {
    test.skip(`PostgreSQL not reachable at ${URL_} (${why}); set POLYPROV_TEST_PG_URL to run these tests`, () => undefined);
  });
} else {
  describe('the fleet key on PostgreSQL (issue 14, Secrets)', () => {
    test('issue 14 Secrets: no key is created on PostgreSQL; once the fleet exists, a node with no key or another key refuses to start', async () => {
      delete process.env.POLYPROV_SECRET_KEY;
      const u = new URL(URL_);
      u.searchParams.set('schema', SCHEMA);
      mkdirSync(join(dir, 'root'), { recursive: true });
      const opts = loadServerOptions({ root: join(dir, 'root'), data: join(dir, 'data'), storeUrl: u.toString() }, {});
      // A store that never had a fleet: serve starts without one, fleet calls say why.
      const core = await openCore(opts, createLogger('silent'));
      try {
        expect(core.fleet).toBeUndefined();
        expect(() => core.admin.fleet.tenants()).toThrow(/no secret key/);
      } finally {
        await core.close();
      }
      const key = keyText(generateKey());
      process.env.POLYPROV_SECRET_KEY = key;
      await withAdmin(opts, {}, (admin) => admin.fleet.apply([{ op: 'settings.set', scope: parseScope('global'), values: { 'device.prov.password': 'x' } }]));
      const ok = await openCore(opts, createLogger('silent'));
      await ok.close();
      delete process.env.POLYPROV_SECRET_KEY;
      const missing = await startError(opts);
      expect(isProvError(missing) && missing.code).toBe('PP_FLEET_KEY_MISSING');
      process.env.POLYPROV_SECRET_KEY = keyText(generateKey());
      const wrong = await startError(opts);
      expect(isProvError(wrong) && wrong.code).toBe('PP_FLEET_KEY_MISMATCH');
    }, 60_000);
  });
}
