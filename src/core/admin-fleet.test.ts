// AdminService.fleet over the in-memory store (issue 14, "Every change goes through the core's admin
// service"): each fleet change lands in the change record with who, secrets masked; `replace`
// moves the contact directory and call lists and removes the old MAC's account; rotate is recorded;
// a fleet that could not open (no key, wrong key) refuses fleet calls only.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openMemoryStore, type MemoryStore } from '../../test/support/memory-store.ts';
import type { Mac, UploadKey } from '../domain.ts';
import { isProvError, ProvError } from '../errors.ts';
import { FleetService } from '../fleet/fleet-service.ts';
import { parseScope } from '../fleet/scope.ts';
import { SecretBox } from '../fleet/secret-box.ts';
import { generateKey } from '../fleet/secret-key.ts';
import { loadServerOptions } from '../options.ts';
import { AdminService } from './admin.ts';

const A = '0004f2000001' as Mac;
const C = '0004f20000c1' as Mac;
const PW = 'sip-<pw>&"1';
const T = new Date(Date.UTC(2026, 0, 5, 8, 0, 0));

let dir: string;
let store: MemoryStore;
let fleet: FleetService;
let admin: AdminService;
const options = () => loadServerOptions({ root: join(dir, 'root'), data: dir }, {});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-admin-fleet-'));
  mkdirSync(join(dir, 'root', 'firmware'), { recursive: true });
  store = await openMemoryStore(join(dir, 'tmp'));
  fleet = await FleetService.open(store, new SecretBox(generateKey()), { root: join(dir, 'root') });
  admin = new AdminService({ store, options: options(), who: 'ada', clock: () => T, fleet });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function upload(key: UploadKey, body: string): Promise<void> {
  const sink = await store.uploads.begin(key, { mode: 'replace', address: '192.0.2.7', maxBytes: 1 << 20, keepVersions: 5 });
  await sink.write(Buffer.from(body));
  await sink.commit();
}

describe('AdminService.fleet (issue 14, Every change goes through the core\'s admin service)', () => {
  test('issue 14: every applied change is in the change record with who; secrets masked, never clear', async () => {
    await admin.fleet.apply([{ op: 'tenant.add', tenant: 'acme' }, { op: 'phone.put', phone: { mac: A, tenant: 'acme', model: 'VVX410' } }]);
    await admin.fleet.apply([{ op: 'settings.set', scope: parseScope(`phone:${A}`), values: { 'reg.1.address': '1001', 'reg.1.auth.password': PW } }]);
    const changes = await admin.changes({});
    expect(changes.map((c) => [c.who, c.operation, c.target])).toEqual([
      ['ada', 'settings.set', `phone:${A}`],
      ['ada', 'fleet.phone.add', A],
      ['ada', 'fleet.tenant.add', 'acme'],
    ]);
    expect(changes[0]!.new).toMatchObject({ 'reg.1.address': '1001' });
    expect(JSON.stringify(changes)).not.toContain('sip-<pw>');
    // A dry run and a no-op record nothing.
    await admin.fleet.apply([{ op: 'settings.set', scope: parseScope('global'), values: { 'reg.1.label': 'x' } }], { dryRun: true });
    await admin.fleet.apply([{ op: 'settings.set', scope: parseScope(`phone:${A}`), values: { 'reg.1.auth.password': PW } }]);
    expect(await admin.changes({})).toHaveLength(3);
  });

  test('issue 14: an import is recorded row by row plus its counts; a refused import records nothing', async () => {
    const csv = `mac,tenant,reg.1.address,reg.1.auth.password\n${A},acme,1001,${PW.replace(/"/g, '')}\n`;
    const bad = await admin.fleet.importCsv(Buffer.from(csv), 'f.csv');
    expect(bad.errors[0]).toMatch(/^f\.csv:2: tenant: unknown tenant "acme"/);
    expect(await admin.changes({})).toEqual([]);
    const r = await admin.fleet.importCsv(Buffer.from(csv), 'f.csv', { create: true });
    expect(r).toMatchObject({ added: 1, changed: 0, unchanged: 0, errors: [] });
    const ops = (await admin.changes({})).map((c) => c.operation);
    // One record per row (the phone with its settings), then the file's counts.
    expect(ops).toEqual(['fleet.import', 'fleet.phone.add', 'fleet.tenant.add']);
    expect((await admin.changes({ target: A }))[0]!.new).toMatchObject({ tenant: 'acme', settings: { 'reg.1.address': '1001', 'reg.1.auth.password': '********' } });
    expect(JSON.stringify(await admin.changes({}))).not.toContain('sip-<pw>');
    expect((await admin.changes({ target: 'f.csv' }))[0]!.new).toEqual({ added: 1, changed: 0, unchanged: 0 });
  });

  test('issue 14 CLI fleet replace: settings, contact directory and call lists move; the old account goes; history kept; all recorded', async () => {
    await admin.fleet.apply([{ op: 'phone.put', phone: { mac: A, model: 'VVX410' } }, { op: 'settings.set', scope: parseScope(`phone:${A}`), values: { 'reg.1.auth.password': PW } }]);
    await upload({ mac: A, kind: 'directory', path: `${A}-directory.xml` }, '<directory>old</directory>');
    await upload({ mac: A, kind: 'calls', path: `${A.toUpperCase()}-calls.xml` }, '<calls/>');
    await upload({ mac: A, kind: 'override-phone', path: `${A}-phone.cfg` }, '<x/>');
    await store.accounts.put({ user: `p-${A}`, kind: 'phone', realm: 'polyprov', ha1Md5: 'a', ha1Sha256: 'b', mac: A, createdAt: T });
    const r = await admin.fleet.replace('00:04:f2:00:00:01', C);
    expect(r.uploads.sort()).toEqual([`${C.toUpperCase()}-calls.xml`, `${C}-directory.xml`]);
    expect(r.accounts).toEqual([`p-${A}`]);
    expect(admin.fleet.phone(A)).toBeUndefined();
    expect(admin.fleet.effective(C)).toMatchObject([{ name: 'reg.1.auth.password', value: PW }]);
    const dirNew = await store.uploads.current({ mac: C, kind: 'directory', path: `${C}-directory.xml` });
    expect((await dirNew!.read()).toString()).toBe('<directory>old</directory>');
    expect(await store.uploads.current({ mac: A, kind: 'directory', path: `${A}-directory.xml` })).toBeDefined();
    expect(await store.uploads.current({ mac: C, kind: 'override-phone', path: `${C}-phone.cfg` })).toBeUndefined();
    expect(await store.accounts.forPhone(A)).toBeUndefined();
    const ops = (await admin.changes({})).map((c) => c.operation);
    expect(ops.slice(0, 4).sort()).toEqual(['accounts.remove', 'fleet.phone.replace', 'fleet.replace.upload', 'fleet.replace.upload']);
    expect(JSON.stringify(await admin.changes({}))).not.toContain('sip-<pw>');
  });

  test('issue 14 Secrets: rotate is recorded; the fleet then opens with the new key only', async () => {
    await admin.fleet.apply([{ op: 'settings.set', scope: parseScope('global'), values: { 'device.prov.password': 'pp' } }]);
    const key = generateKey();
    const r = await admin.fleet.rotate(key);
    expect(r.settings).toBe(1);
    expect((await admin.changes({}))[0]).toMatchObject({ who: 'ada', operation: 'secrets.rotate', target: 'fleet', new: { resealed: 1 } });
    await FleetService.open(store, new SecretBox(key));
  });

  test('issue 14 Serving: adding a tenant named like a file or folder at the tree root is refused, PP_FLEET_TENANT_CLASH', async () => {
    await expect(admin.fleet.apply([{ op: 'tenant.add', tenant: 'firmware' }])).rejects.toMatchObject({ code: 'PP_FLEET_TENANT_CLASH' });
    expect(await admin.changes({})).toEqual([]);
  });

  test('issue 14 Secrets: a fleet that could not open refuses fleet calls with its reason; the rest of the admin service works', async () => {
    const why = new ProvError('PP_FLEET_KEY_MISSING', 'no secret key');
    const a = new AdminService({ store, options: options(), who: 'ada', fleet: why });
    let caught: unknown;
    try {
      a.fleet.tenants();
    } catch (e) {
      caught = e;
    }
    expect(isProvError(caught) && caught.code).toBe('PP_FLEET_KEY_MISSING');
    expect(await a.accounts.list()).toEqual([]);
  });

  test('issue 16 leftover (CLI commands open the fleet only when they use it): a lazy fleet is read once, on open() or the first write; reads before it are refused', async () => {
    let loads = 0;
    const box = new SecretBox(generateKey());
    await store.close();
    store = await openMemoryStore(join(dir, 'tmp2'));
    const a = new AdminService({ store, options: options(), who: 'ada', clock: () => T, fleet: async () => (loads++, FleetService.open(store, box, { root: join(dir, 'root') })) });
    expect(await a.accounts.list()).toEqual([]);
    expect(a.fleet.available).toBe(false);
    expect(() => a.fleet.phones()).toThrow(/read on first use/);
    expect(loads).toBe(0);
    await Promise.all([a.fleet.open(), a.fleet.open()]);
    expect(loads).toBe(1);
    expect(a.fleet.available).toBe(true);
    const b = new AdminService({ store, options: options(), who: 'ada', clock: () => T, fleet: async () => (loads++, FleetService.open(store, box, { root: join(dir, 'root') })) });
    await b.fleet.apply([{ op: 'phone.put', phone: { mac: A } }]);
    expect(loads).toBe(2);
    expect(b.fleet.phone(A)?.mac).toBe(A);
    await b.fleet.open();
    expect(loads).toBe(2);
  });
});
