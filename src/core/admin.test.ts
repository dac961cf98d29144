// The admin service over the in-memory store (issue 12 item 4): every change lands in the change
// record with who, when, what, old and new values, secrets masked before they are stored; and
// the enrolment credentials of a pending phone are derived, stable, and reset (issue 13 item 10).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openMemoryStore, type MemoryStore } from '../../test/support/memory-store.ts';
import type { Mac } from '../domain.ts';
import { loadServerOptions } from '../options.ts';
import { AdminService } from './admin.ts';
import { maskSecrets } from './change-record.ts';
import { enrolmentPassword } from './enrolment.ts';

const MAC = '0004f2000009' as Mac;
const T = new Date(Date.UTC(2026, 0, 5, 8, 0, 0));
let dir: string;
let store: MemoryStore;
let admin: AdminService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-admin-'));
  store = await openMemoryStore(join(dir, 'tmp'));
  admin = new AdminService({ store, options: loadServerOptions({ root: dir, data: dir }, {}), who: 'ada', clock: () => T });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('maskSecrets (the change record never holds a secret)', () => {
  test('password and hash fields, secret configuration parameters and URL credentials are masked at any depth', () => {
    expect(
      maskSecrets({
        user: 'p1',
        password: 'pw-1',
        ha1Md5: 'abc',
        params: [
          { name: 'reg.1.auth.password', value: 'sip-pw' },
          { name: 'reg.1.address', value: '1001' },
        ],
        'device.prov.password': 'prov-pw',
        server: 'ftp://bob:secret@host/dir',
        empty: { password: '' },
      }),
    ).toEqual({
      user: 'p1',
      password: '********',
      ha1Md5: '********',
      params: [
        { name: 'reg.1.auth.password', value: '********' },
        { name: 'reg.1.address', value: '1001' },
      ],
      'device.prov.password': '********',
      server: 'ftp://bob:***@host/dir',
      empty: { password: '' },
    });
  });
});

describe('admin service changes (issue 12 item 4)', () => {
  test('accounts add, passwd, remove and staging set are each recorded once, by who, with old and new values', async () => {
    expect(await admin.accounts.add('site1', 'site', 'first-pw')).toMatchObject({ status: 'added' });
    expect(await admin.accounts.add('site1', 'site', 'other-pw')).toEqual({ status: 'exists' });
    expect(await admin.accounts.passwd('site1', 'second-pw')).toBeDefined();
    expect(await admin.accounts.passwd('nobody', 'x')).toBeUndefined();
    expect((await admin.staging.set(true)).on).toBe(true);
    expect(await admin.accounts.remove('site1')).toBeDefined();
    expect(await admin.accounts.remove('site1')).toBeUndefined();
    const changes = await admin.changes({ target: 'site1' });
    expect(changes.map((c) => c.operation)).toEqual(['accounts.remove', 'accounts.passwd', 'accounts.add']);
    for (const c of changes) expect(c).toMatchObject({ who: 'ada', at: T, target: 'site1' });
    expect(changes[2]!.new).toMatchObject({ user: 'site1', kind: 'site', password: '********' });
    expect(JSON.stringify(await admin.changes())).not.toMatch(/first-pw|second-pw|ha1/);
    expect(await admin.changes({ target: 'staging' })).toEqual([{ at: T, who: 'ada', operation: 'staging.set', target: 'staging', old: { staging: false }, new: { staging: true } }]);
  });
});

describe('enrolment credentials (issue 13 item 10)', () => {
  test('derived from the store secret and the MAC: the same until reset, different per phone, and reset records the change', async () => {
    const a = await enrolmentPassword(store, MAC);
    expect(await enrolmentPassword(store, MAC)).toBe(a);
    expect(await enrolmentPassword(store, '0004f200000a' as Mac)).not.toBe(a);
    expect(await admin.staging.reset(MAC)).toEqual({ status: 'reset' });
    const b = await enrolmentPassword(store, MAC);
    expect(b).not.toBe(a);
    expect(await enrolmentPassword(store, MAC)).toBe(b);
    expect((await admin.changes({ target: MAC }))[0]).toMatchObject({ operation: 'staging.reset', who: 'ada' });
  });
});
