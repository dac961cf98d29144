// The state commands against the PostgreSQL store named by the server options' storeUrl
// (issue 4: "a PostgreSQL backend for several nodes … nothing backend-specific above src/store/").
// Skipped, saying why, when no PostgreSQL answers at $POLYPROV_TEST_PG_URL.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ha1 } from '../../src/core/digest.ts';
import { openStore } from '../../src/store/open.ts';
import { polyprov } from './run-cli.ts';
import { pgTestSchemas } from '../support/pg-schema.ts';

const pgs = await pgTestSchemas('pp_cli');
const why = pgs.why;
const dir = mkdtempSync(join(tmpdir(), 'polyprov-cli-pg-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgs.dropAll();
});

if (why) {
  describe('state commands on PostgreSQL', () => {
    test.skip(pgs.skipTitle, () => undefined);
  });
} else {
  describe('state commands on PostgreSQL (storeUrl)', () => {
    test('accounts add/list and phones read and write the PostgreSQL store the options name', async () => {
      const storeUrl = pgs.fresh();
      const cfg = join(dir, 'polyprov.json');
      writeFileSync(cfg, JSON.stringify({ storeUrl, data: 'data', realm: 'pg-realm' }));
      const add = await polyprov(['accounts', 'add', 'site', '--password-stdin', '--config', cfg], { input: 'pg-secret\n' });
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
      const store = await openStore({ data: join(dir, 'data'), storeUrl });
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
