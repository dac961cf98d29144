// Migration 9 (issue 14 Tenants: uploads keyed by MAC, kind and path), the same on SQLite and
// PostgreSQL: the rows a version-8 store held for one phone under two tenants, and what the
// migrated store must answer for them.
import { expect } from 'vitest';
import type { Store } from '../../src/store/store.ts';

/** Before: one key per MAC and kind, so /acme/'s upload (version 1) and /beta/'s (version 2) were one history. */
export const TENANT_UPLOAD_ROWS = [
  ['acme/overrides/0004f2000001-phone.cfg', 1, 'acme'],
  ['beta/overrides/0004f2000001-phone.cfg', 2, 'beta'],
] as const;

const key = (tenant: string) => ({ mac: '0004f2000001' as never, kind: 'override-phone' as const, path: `${tenant}/overrides/0004f2000001-phone.cfg` });

/** Each path is its own key after the migration, and the next version numbers on from that path's own. */
export async function checkUploadsPerPath(store: Store): Promise<void> {
  expect((await (await store.uploads.current(key('acme')))!.read()).toString()).toBe('acme');
  expect((await (await store.uploads.current(key('beta')))!.read()).toString()).toBe('beta');
  expect((await store.uploads.listForPhone('0004f2000001' as never)).map((f) => [f.key.path, f.version])).toEqual([[key('acme').path, 1], [key('beta').path, 2]]);
  const sink = await store.uploads.begin(key('acme'), { mode: 'replace', address: '192.0.2.2', maxBytes: 1000, keepVersions: 5 });
  await sink.write(Buffer.from('acme 2'));
  expect((await sink.commit()).version).toBe(2);
  expect((await store.uploads.history(key('beta'), 10)).map((f) => f.version)).toEqual([2]);
}
