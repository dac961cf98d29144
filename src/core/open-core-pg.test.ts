// The fleet's key on a PostgreSQL store (issue 14, Secrets: "on PostgreSQL every node must be given
// the same key, and a node whose key cannot decrypt the store's check value refuses to start"):
// no key is ever created; a store that never had a fleet still serves without one (as before);
// once it has one, no key or another key refuses the start. Skipped, saying why, without PostgreSQL.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { pgTestSchemas } from '../../test/support/pg-schema.ts';
import { isProvError } from '../errors.ts';
import { parseScope } from '../fleet/scope.ts';
import { generateKey, keyText } from '../fleet/secret-key.ts';
import { createLogger } from '../log.ts';
import { loadServerOptions } from '../options.ts';
import { openCore, withAdmin } from './open-core.ts';

const pgs = await pgTestSchemas('pp_fleetkey');
const why = pgs.why;
const dir = mkdtempSync(join(tmpdir(), 'polyprov-fleetkey-pg-'));
const saved = process.env.POLYPROV_SECRET_KEY;
afterEach(() => {
  if (saved === undefined) delete process.env.POLYPROV_SECRET_KEY;
  else process.env.POLYPROV_SECRET_KEY = saved;
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgs.dropAll();
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
    test.skip(pgs.skipTitle, () => undefined);
  });
} else {
  describe('the fleet key on PostgreSQL (issue 14, Secrets)', () => {
    test('issue 14 Secrets: no key is created on PostgreSQL; once the fleet exists, a node with no key or another key refuses to start', async () => {
      delete process.env.POLYPROV_SECRET_KEY;
      mkdirSync(join(dir, 'root'), { recursive: true });
      const opts = loadServerOptions({ root: join(dir, 'root'), data: join(dir, 'data'), storeUrl: pgs.fresh() }, {});
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
