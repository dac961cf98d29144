// The embedded store's temporary fault (issue 13 item 13, the same handling as a PostgreSQL
// outage): another process holding SQLite's write lock past busy_timeout is PP_STORE_UNAVAILABLE
// ("retry later" on every wire, audit spooled), not an internal error; the store works again as
// soon as the lock is released, and the refused upload left the previous version current.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'polyprov-sqlite-busy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('issue 13 item 13: a write lock held by another process past busy_timeout is PP_STORE_UNAVAILABLE, and nothing is lost', async () => {
  const file = join(dir, 'polyprov.db');
  const store = new SqliteStore({ file, tmpDir: join(dir, 'tmp'), busyTimeoutMs: 50 });
  await store.init();
  const key = { mac: '0004f2000001' as Mac, kind: 'override-phone' as const, path: 'overrides/0004f2000001-phone.cfg' };
  const opts = { mode: 'replace' as const, address: '192.0.2.1', maxBytes: 1 << 20, keepVersions: 10 };
  const put = async (body: string) => {
    const sink = await store.uploads.begin(key, opts);
    await sink.write(Buffer.from(body));
    return sink.commit();
  };
  await put('<PHONE_CONFIG v="1"/>');

  // Another process (a CLI command, a second server) holds the write lock.
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  try {
    await expect(put('<PHONE_CONFIG v="2"/>')).rejects.toMatchObject({ code: 'PP_STORE_UNAVAILABLE' });
    const event = { at: new Date(), address: '192.0.2.1', transport: 'http' as const, op: 'read', path: 'x', status: '200', bytes: 0, durationMs: 1 };
    await expect(store.audit.append([event])).rejects.toMatchObject({ code: 'PP_STORE_UNAVAILABLE' });
    await expect(store.settings.set('staging', 'on')).rejects.toMatchObject({ code: 'PP_STORE_UNAVAILABLE' });
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
  // Released: the store works again, and the refused upload never became a version.
  const cur = await store.uploads.current(key);
  expect((await cur!.read()).toString()).toBe('<PHONE_CONFIG v="1"/>');
  expect((await put('<PHONE_CONFIG v="3"/>')).version).toBe(2);
  await store.close();
});
