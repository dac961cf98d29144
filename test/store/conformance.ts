// One conformance suite for every Store backend (STYLE.md §3): each backend's test file calls
// storeTests(makeStore) and adds its own checks. Every test gets a fresh, empty, initialised store.
// Document references: issue 4 (Uploads, Inventory and audit), RFC 7616 (Digest HA1).
import { readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { ha1, makeAccount } from '../../src/core/digest.ts';
import type { AuditEvent, Sighting, Store, UploadKey, UploadOptions } from '../../src/store/store.ts';
import { SPOOL_MEMORY_BYTES } from '../../src/store/upload-temp.ts';
import { prng } from '../support/prng.ts';
import { auditBatchTests } from './conformance-audit-batches.ts';
import { fleetTests } from './conformance-fleet.ts';
import { fleetChangesTests } from './conformance-fleet-changes.ts';
import { watchTests } from './conformance-watch.ts';

export interface StoreUnderTest {
  store: Store;
  /** The directory upload temp files go to (`<data>/tmp`), to check nothing is left behind. */
  tmpDir: string;
}

const MAC1 = '0004f2000001' as Mac;
const MAC2 = '0004f2000002' as Mac;
const MAC3 = '64167f000003' as Mac;
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const at = (sec: number) => new Date(T0 + sec * 1000);

const phoneKey = (mac: Mac = MAC1): UploadKey => ({ mac, kind: 'override-phone', path: `overrides/${mac}-phone.cfg` });
const logKey = (mac: Mac = MAC1): UploadKey => ({ mac, kind: 'log-app', path: `logs/${mac}-app.log` });
const replace = (o: Partial<UploadOptions> = {}): UploadOptions => ({ mode: 'replace', address: '192.0.2.10', maxBytes: 1 << 20, keepVersions: 5, ...o });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function storeTests(makeStore: () => Promise<StoreUnderTest>, name = 'store'): void {
  const open: Store[] = [];
  async function fresh(): Promise<StoreUnderTest> {
    const s = await makeStore();
    open.push(s.store);
    return s;
  }
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  async function upload(store: Store, key: UploadKey, body: Buffer | string, o: Partial<UploadOptions> = {}, chunk = 7) {
    const sink = await store.uploads.begin(key, replace(o));
    const b = Buffer.from(body);
    for (let i = 0; i < b.length; i += chunk) await sink.write(b.subarray(i, i + chunk));
    return sink.commit();
  }

  describe(`${name}: phones (issue 4, Inventory)`, () => {
    const sight = (o: Partial<Sighting>): Sighting => ({ mac: MAC1, at: at(0), source: 'http', address: '192.0.2.10', ...o });

    test('an unknown phone is absent and the inventory starts empty', async () => {
      const { store } = await fresh();
      expect(await store.phones.get(MAC1)).toBeUndefined();
      expect(await store.phones.list()).toEqual([]);
      expect(await store.phones.boots(MAC1, 10)).toEqual([]);
    });

    test('a first sighting creates the row: first/last seen, model, part number, address, source', async () => {
      const { store } = await fresh();
      await store.phones.recordSighting(sight({ model: 'SPIP650', partNumber: '2345-12600-001', address: '192.0.2.20' }));
      const p = await store.phones.get(MAC1);
      expect(p).toMatchObject({
        mac: MAC1, model: 'SPIP650', partNumber: '2345-12600-001', address: '192.0.2.20', lastSource: 'http',
        fetchedCount: 0, uploadedCount: 0, overrideLocked: false,
      });
      expect(p!.firstSeen.getTime()).toBe(T0);
      expect(p!.lastSeen.getTime()).toBe(T0);
      expect(p!.lastBoot).toBeUndefined();
      expect(p!.appVersion).toBeUndefined();
      expect(p!.bootromVersion).toBeUndefined();
    });

    test('polycom-facts §3.4 User-Agent: the bootROM stage reports its own version, the application stage the application version', async () => {
      const { store } = await fresh();
      // bootROM 4.0.0 boots: the UA version is the bootROM's; a caller passing it as appVersion too must not pollute appVersion.
      await store.phones.recordSighting(sight({ at: at(0), stage: 'bootrom', bootromVersion: '4.0.0.0155', appVersion: '4.0.0.0155', bootStart: true }));
      let p = await store.phones.get(MAC1);
      expect(p!.bootromVersion).toBe('4.0.0.0155');
      expect(p!.appVersion).toBeUndefined();
      // The application then starts and reports its version; the bootROM version stays.
      await store.phones.recordSighting(sight({ at: at(20), stage: 'application', appVersion: '3.1.3.0439', bootStart: true }));
      p = await store.phones.get(MAC1);
      expect(p!.bootromVersion).toBe('4.0.0.0155');
      expect(p!.appVersion).toBe('3.1.3.0439');
      // Next reboot: the bootROM again; the application version must survive.
      await store.phones.recordSighting(sight({ at: at(100), stage: 'bootrom', appVersion: '4.0.0.0155' }));
      p = await store.phones.get(MAC1);
      expect(p!.appVersion).toBe('3.1.3.0439');
      expect(p!.bootromVersion).toBe('4.0.0.0155');
    });

    test('polycom-facts §3.4: a UC Software Updater version (Type/Updater) is recorded as the bootROM/Updater version', async () => {
      const { store } = await fresh();
      await store.phones.recordSighting(sight({ at: at(0), stage: 'application', appVersion: '4.0.4.2906' }));
      await store.phones.recordSighting(sight({ at: at(5), stage: 'updater', appVersion: '5.0.3.1667' }));
      const p = await store.phones.get(MAC1);
      expect(p!.appVersion).toBe('4.0.4.2906');
      expect(p!.bootromVersion).toBe('5.0.3.1667');
    });

    test('a sighting without a stage records both versions as given (DHCP option 60 sub-options 4 and 5)', async () => {
      const { store } = await fresh();
      await store.phones.recordSighting(sight({ source: 'dhcp', appVersion: '3.2.3.1734', bootromVersion: '4.1.0.0001' }));
      expect(await store.phones.get(MAC1)).toMatchObject({ appVersion: '3.2.3.1734', bootromVersion: '4.1.0.0001', lastSource: 'dhcp' });
    });

    test('counters: successful reads count as fetched, successful writes as uploaded, refusals as neither', async () => {
      const { store } = await fresh();
      await store.phones.recordSightings([
        sight({ at: at(1), file: { path: '0004f2000001.cfg', op: 'read', status: '200' } }),
        sight({ at: at(2), file: { path: 'sip.ld', op: 'read', status: '206' } }),
        sight({ at: at(3), file: { path: 'sip.cfg', op: 'read', status: '304' } }),
        sight({ at: at(4), source: 'tftp', file: { path: 'phone1.cfg', op: 'read', status: 'tftp:ok' } }),
        sight({ at: at(5), source: 'ftp', file: { path: 'x.cfg', op: 'read', status: 'ftp:226' } }),
        sight({ at: at(6), file: { path: 'missing.cfg', op: 'read', status: '404' } }),
        sight({ at: at(7), file: { path: 'overrides/0004f2000001-phone.cfg', op: 'write', status: '201' } }),
        sight({ at: at(8), file: { path: 'overrides/0004f2000001-phone.cfg', op: 'write', status: '413' } }),
        sight({ at: at(9), source: 'tftp', file: { path: 'sip.ld', op: 'read', status: 'tftp:aborted' } }),
      ]);
      const p = await store.phones.get(MAC1);
      expect(p!.fetchedCount).toBe(5);
      expect(p!.uploadedCount).toBe(1);
      expect(p!.lastSource).toBe('tftp');
    });

    test('last error is set by a string, kept when absent, cleared by null', async () => {
      const { store } = await fresh();
      await store.phones.recordSighting(sight({ at: at(1), error: 'PP_AUTH_FAILED wrong password' }));
      await store.phones.recordSighting(sight({ at: at(2) }));
      expect((await store.phones.get(MAC1))!.lastError).toBe('PP_AUTH_FAILED wrong password');
      await store.phones.recordSighting(sight({ at: at(3), error: null }));
      expect((await store.phones.get(MAC1))!.lastError).toBeUndefined();
    });

    test('bootStart sets last boot and adds to the boot timeline, newest first, bounded', async () => {
      const { store } = await fresh();
      for (let i = 0; i < 30; i++) {
        await store.phones.recordSighting(sight({ at: at(i * 60), bootStart: true, stage: i % 2 ? 'application' : 'bootrom', bootromVersion: '4.0.0.0155', appVersion: '3.1.3.0439', userAgent: `UA ${i}` }));
        await store.phones.recordSighting(sight({ at: at(i * 60 + 5), file: { path: 'sip.cfg', op: 'read', status: '200' } }));
      }
      const p = await store.phones.get(MAC1);
      expect(p!.lastBoot!.getTime()).toBe(at(29 * 60).getTime());
      const boots = await store.phones.boots(MAC1, 3);
      expect(boots.map((b) => b.at.getTime())).toEqual([at(29 * 60), at(28 * 60), at(27 * 60)].map((d) => d.getTime()));
      expect(boots[0]).toMatchObject({ stage: 'application', version: '3.1.3.0439', source: 'http', address: '192.0.2.10', userAgent: 'UA 29' });
      expect(boots[1]).toMatchObject({ stage: 'bootrom', version: '4.0.0.0155' });
      const all = await store.phones.boots(MAC1, 1000);
      expect(all.length).toBeGreaterThanOrEqual(10);
      expect(all.length).toBeLessThan(30);
      expect(await store.phones.boots(MAC2, 10)).toEqual([]);
    });

    test('out-of-order sightings: first seen moves earlier, last seen and address never move back', async () => {
      const { store } = await fresh();
      await store.phones.recordSighting(sight({ at: at(100), address: '192.0.2.50', model: 'VVX400' }));
      await store.phones.recordSighting(sight({ at: at(10), address: '192.0.2.9', model: 'SPIP650', partNumber: '3111-46135-002', bootStart: true }));
      const p = await store.phones.get(MAC1);
      expect(p!.firstSeen.getTime()).toBe(at(10).getTime());
      expect(p!.lastSeen.getTime()).toBe(at(100).getTime());
      expect(p!.address).toBe('192.0.2.50');
      expect(p!.model).toBe('VVX400');
      expect(p!.partNumber).toBe('3111-46135-002'); // a gap is filled even from an older sighting
      expect(p!.lastBoot!.getTime()).toBe(at(10).getTime());
    });

    test('recordSightings (a batch) folds exactly like the same sightings one by one', async () => {
      const list: Sighting[] = [
        sight({ at: at(0), stage: 'bootrom', bootromVersion: '4.0.0.0155', bootStart: true, file: { path: '0004f2000001.cfg', op: 'read', status: '200' } }),
        sight({ mac: MAC2, at: at(1), model: 'VVX400', address: '192.0.2.11' }),
        sight({ at: at(30), stage: 'application', appVersion: '3.1.3.0439', bootStart: true, sipUser: '1001', sipPort: 5060 }),
        sight({ at: at(31), file: { path: 'overrides/0004f2000001-phone.cfg', op: 'write', status: '200' }, error: 'PP_X' }),
      ];
      const a = (await fresh()).store;
      const b = (await fresh()).store;
      await a.phones.recordSightings(list);
      for (const s of list) await b.phones.recordSighting(s);
      expect(await a.phones.list()).toEqual(await b.phones.list());
      expect(await a.phones.get(MAC1)).toMatchObject({ sipUser: '1001', sipPort: 5060, uploadedCount: 1, fetchedCount: 1, lastError: 'PP_X' });
      expect(await a.phones.boots(MAC1, 10)).toEqual(await b.phones.boots(MAC1, 10));
      await a.phones.recordSightings([]);
    });

    test('list: ordered by MAC, filtered by MAC prefix (any case and separators), last seen and limit', async () => {
      const { store } = await fresh();
      await store.phones.recordSightings([
        sight({ mac: MAC3, at: at(0) }),
        sight({ mac: MAC2, at: at(50) }),
        sight({ mac: MAC1, at: at(100) }),
      ]);
      expect((await store.phones.list()).map((p) => p.mac)).toEqual([MAC1, MAC2, MAC3]);
      expect((await store.phones.list({ macPrefix: '00:04:F2' })).map((p) => p.mac)).toEqual([MAC1, MAC2]);
      expect((await store.phones.list({ macPrefix: '64167f' })).map((p) => p.mac)).toEqual([MAC3]);
      expect((await store.phones.list({ macPrefix: '0004f3' })).map((p) => p.mac)).toEqual([]);
      expect((await store.phones.list({ seenSince: at(50) })).map((p) => p.mac)).toEqual([MAC1, MAC2]);
      expect((await store.phones.list({ limit: 2 })).map((p) => p.mac)).toEqual([MAC1, MAC2]);
      expect((await store.phones.get('0004F2000002' as Mac))?.mac).toBe(MAC2);
    });

    test('issue 4 override policy: setOverrideLocked flags the phone and clears the flag', async () => {
      const { store } = await fresh();
      await store.phones.recordSighting(sight({}));
      await store.phones.setOverrideLocked(MAC1, true);
      expect((await store.phones.get(MAC1))!.overrideLocked).toBe(true);
      await store.phones.recordSighting(sight({ at: at(5) }));
      expect((await store.phones.get(MAC1))!.overrideLocked).toBe(true);
      await store.phones.setOverrideLocked(MAC1, false);
      expect((await store.phones.get(MAC1))!.overrideLocked).toBe(false);
      await store.phones.setOverrideLocked(MAC2, true); // unknown phone: no error, no row
      expect(await store.phones.get(MAC2)).toBeUndefined();
    });

    test('issue 4 override policy: an override upload\'s sighting flags the phone (even its first sighting), the newest one decides', async () => {
      const { store } = await fresh();
      await store.phones.recordSighting(sight({ overrideLocked: true }));
      expect((await store.phones.get(MAC1))!.overrideLocked).toBe(true);
      await store.phones.recordSighting(sight({ at: at(5) }));
      expect((await store.phones.get(MAC1))!.overrideLocked).toBe(true);
      await store.phones.recordSightings([sight({ at: at(9), overrideLocked: false }), sight({ at: at(7), overrideLocked: true })]);
      expect((await store.phones.get(MAC1))!.overrideLocked).toBe(false);
    });
  });

  describe(`${name}: uploads (issue 4, Uploads)`, () => {
    test('a committed upload becomes current with its size, sha-256, address, time, path and bytes', async () => {
      const { store, tmpDir } = await fresh();
      const body = '<PHONE_CONFIG><OVERRIDES up.backlight.onIntensity="1"/></PHONE_CONFIG>\n';
      const before = Date.now();
      const f = await upload(store, phoneKey(), body);
      expect(f).toMatchObject({ version: 1, size: Buffer.byteLength(body), sha256: sha(Buffer.from(body)), address: '192.0.2.10', locked: false });
      expect(f.key).toEqual(phoneKey());
      expect(f.storedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect((await f.read()).toString()).toBe(body);
      const cur = await store.uploads.current(phoneKey());
      expect(cur).toMatchObject({ version: 1, sha256: f.sha256, size: f.size });
      expect((await cur!.read()).toString()).toBe(body);
      expect(readdirSync(tmpDir)).toEqual([]);
    });

    test('nothing is visible before commit; an upload in progress leaves the previous version current', async () => {
      const { store } = await fresh();
      const sink = await store.uploads.begin(phoneKey(), replace());
      await sink.write(Buffer.from('half of a fi'));
      expect(sink.bytes).toBe(12);
      expect(await store.uploads.current(phoneKey())).toBeUndefined();
      await sink.commit();
      const second = await store.uploads.begin(phoneKey(), replace());
      await second.write(Buffer.from('new content, not yet committed'));
      expect((await (await store.uploads.current(phoneKey()))!.read()).toString()).toBe('half of a fi');
      await second.abort();
    });

    test('abort() discards the upload and its temp file; the previous version stays current', async () => {
      const { store, tmpDir } = await fresh();
      await upload(store, phoneKey(), 'version one');
      const sink = await store.uploads.begin(phoneKey(), replace());
      await sink.write(Buffer.from('broken'));
      await sink.abort();
      await sink.abort(); // idempotent
      const cur = await store.uploads.current(phoneKey());
      expect(cur!.version).toBe(1);
      expect((await cur!.read()).toString()).toBe('version one');
      expect((await store.uploads.history(phoneKey(), 10)).length).toBe(1);
      await expect(sink.commit()).rejects.toMatchObject({ code: 'PP_UPLOAD_FAILED' });
      expect(readdirSync(tmpDir)).toEqual([]);
    });

    test('issue 4 size limits: a write past maxBytes throws PP_UPLOAD_TOO_LARGE and discards the upload', async () => {
      const { store, tmpDir } = await fresh();
      await upload(store, phoneKey(), 'small');
      const sink = await store.uploads.begin(phoneKey(), replace({ maxBytes: 100 }));
      await sink.write(Buffer.alloc(60, 0x41));
      await expect(sink.write(Buffer.alloc(41, 0x42))).rejects.toMatchObject({ code: 'PP_UPLOAD_TOO_LARGE' });
      await expect(sink.write(Buffer.alloc(1))).rejects.toMatchObject({ code: 'PP_UPLOAD_FAILED' });
      await expect(sink.commit()).rejects.toMatchObject({ code: 'PP_UPLOAD_FAILED' });
      await sink.abort();
      expect((await (await store.uploads.current(phoneKey()))!.read()).toString()).toBe('small');
      expect(readdirSync(tmpDir)).toEqual([]);
      // Exactly maxBytes is accepted.
      const ok = await upload(store, phoneKey(), Buffer.alloc(100, 0x43), { maxBytes: 100 });
      expect(ok.size).toBe(100);
    });

    test('an empty upload is a version (white paper, Reset Local Config writes an empty -phone.cfg)', async () => {
      const { store } = await fresh();
      await upload(store, phoneKey(), 'x');
      const f = await upload(store, phoneKey(), '');
      expect(f.size).toBe(0);
      expect((await (await store.uploads.current(phoneKey()))!.read()).length).toBe(0);
    });

    test('history is newest first, versions count up, and n bounds it', async () => {
      const { store } = await fresh();
      for (let i = 1; i <= 4; i++) await upload(store, phoneKey(), `v${i}`, { address: `192.0.2.${i}` });
      const h = await store.uploads.history(phoneKey(), 10);
      expect(h.map((f) => f.version)).toEqual([4, 3, 2, 1]);
      expect(h.map((f) => f.address)).toEqual(['192.0.2.4', '192.0.2.3', '192.0.2.2', '192.0.2.1']);
      expect(await Promise.all(h.map(async (f) => (await f.read()).toString()))).toEqual(['v4', 'v3', 'v2', 'v1']);
      expect(h[0]!.sha256).toBe(sha(Buffer.from('v4')));
      expect((await store.uploads.history(phoneKey(), 2)).map((f) => f.version)).toEqual([4, 3]);
      expect(await store.uploads.history(phoneKey(MAC2), 10)).toEqual([]);
    });

    test('issue 4 history: only the last keepVersions versions are kept', async () => {
      const { store } = await fresh();
      for (let i = 1; i <= 7; i++) await upload(store, phoneKey(), `v${i}`, { keepVersions: 3 });
      const h = await store.uploads.history(phoneKey(), 100);
      expect(h.map((f) => f.version)).toEqual([7, 6, 5]);
      await upload(store, phoneKey(), 'v8', { keepVersions: 1 });
      expect((await store.uploads.history(phoneKey(), 100)).map((f) => f.version)).toEqual([8]);
    });

    test('issue 4 logs: append mode adds to the current version and keeps only the last capBytes (rolling log)', async () => {
      const { store } = await fresh();
      const o = { mode: 'append' as const, capBytes: 32, keepVersions: 1 };
      await upload(store, logKey(), 'line 1\n', o);
      await upload(store, logKey(), 'line 2\n', o);
      expect((await (await store.uploads.current(logKey()))!.read()).toString()).toBe('line 1\nline 2\n');
      await upload(store, logKey(), 'line 3 is a much longer line\n', o);
      const cur = await store.uploads.current(logKey());
      const all = 'line 1\nline 2\nline 3 is a much longer line\n';
      expect((await cur!.read()).toString()).toBe(all.slice(all.length - 32));
      expect(cur!.size).toBe(32);
      expect(cur!.sha256).toBe(sha(Buffer.from(all.slice(all.length - 32))));
      // One upload larger than the cap keeps its own tail.
      await upload(store, logKey(), 'A'.repeat(20) + 'B'.repeat(20), o);
      expect((await (await store.uploads.current(logKey()))!.read()).toString()).toBe('A'.repeat(12) + 'B'.repeat(20));
      // maxBytes limits one upload, not the log it is appended to.
      await upload(store, logKey(), '0123456789', { ...o, maxBytes: 10 });
      expect((await (await store.uploads.current(logKey()))!.read()).toString().endsWith('0123456789')).toBe(true);
    });

    test('append without a cap keeps everything; replace after append starts over', async () => {
      const { store } = await fresh();
      await upload(store, logKey(), 'a', { mode: 'append' });
      await upload(store, logKey(), 'b', { mode: 'append' });
      expect((await (await store.uploads.current(logKey()))!.read()).toString()).toBe('ab');
      await upload(store, logKey(), 'c');
      expect((await (await store.uploads.current(logKey()))!.read()).toString()).toBe('c');
    });

    test('issue 4: concurrent uploads of one file end with one complete version, never a mix (seed 42)', async () => {
      const { store, tmpDir } = await fresh();
      await upload(store, phoneKey(), 'previous');
      const random = prng(42);
      const n = 6;
      const bodies = Array.from({ length: n }, (_, i) => Buffer.alloc(3000 + i * 17, 0x61 + i));
      const sinks = await Promise.all(bodies.map(() => store.uploads.begin(phoneKey(), replace())));
      // Interleave the writers chunk by chunk in a seeded order.
      const offsets = bodies.map(() => 0);
      for (let step = 0; step < 10_000 && offsets.some((o, i) => o < bodies[i]!.length); step++) {
        const i = Math.floor(random() * n);
        if (offsets[i]! >= bodies[i]!.length) continue;
        const len = 1 + Math.floor(random() * 400);
        await sinks[i]!.write(bodies[i]!.subarray(offsets[i], offsets[i]! + len));
        offsets[i] = Math.min(offsets[i]! + len, bodies[i]!.length);
      }
      // Commit all at once, in a seeded order; the last to commit wins.
      const order = [...Array(n).keys()].sort(() => random() - 0.5);
      const results = await Promise.all(order.map((i) => sinks[i]!.commit()));
      const newest = results.reduce((a, b) => (b.version > a.version ? b : a));
      const cur = await store.uploads.current(phoneKey());
      expect(cur!.version).toBe(newest.version);
      const content = await cur!.read();
      const winner = bodies.findIndex((b) => b.equals(content));
      expect(winner).toBeGreaterThanOrEqual(0);
      expect(cur!.sha256).toBe(sha(bodies[winner]!));
      // Every kept version is one whole body.
      for (const f of await store.uploads.history(phoneKey(), 100)) {
        const b = await f.read();
        expect(b.equals(Buffer.from('previous')) || bodies.some((x) => x.equals(b))).toBe(true);
      }
      expect(new Set(results.map((r) => r.version)).size).toBe(n);
      expect(readdirSync(tmpDir)).toEqual([]);
    });

    test('concurrent appends to one log each land whole', async () => {
      const { store } = await fresh();
      const o = { mode: 'append' as const, keepVersions: 1 };
      const parts = ['alpha\n', 'bravo\n', 'charlie\n', 'delta\n'];
      const sinks = await Promise.all(parts.map(() => store.uploads.begin(logKey(), replace(o))));
      for (let i = 0; i < parts.length; i++) await sinks[i]!.write(Buffer.from(parts[i]!));
      await Promise.all(sinks.map((s) => s.commit()));
      const text = (await (await store.uploads.current(logKey()))!.read()).toString();
      expect(text.length).toBe(parts.join('').length);
      for (const p of parts) expect(text).toContain(p);
    });

    test('listForPhone returns the current version of each of that phone’s uploads only', async () => {
      const { store } = await fresh();
      await upload(store, phoneKey(), 'p1');
      await upload(store, phoneKey(), 'p2');
      await upload(store, { mac: MAC1, kind: 'override-web', path: `overrides/${MAC1}-web.cfg` }, 'w1');
      await upload(store, { mac: MAC1, kind: 'directory', path: `contacts/${MAC1}-directory.xml` }, '<directory/>');
      await upload(store, phoneKey(MAC2), 'other');
      const list = await store.uploads.listForPhone(MAC1);
      expect(list.map((f) => f.key.kind).sort()).toEqual(['directory', 'override-phone', 'override-web']);
      const ph = list.find((f) => f.key.kind === 'override-phone')!;
      expect(ph.version).toBe(2);
      expect((await ph.read()).toString()).toBe('p2');
      expect(await store.uploads.listForPhone(MAC3)).toEqual([]);
    });

    test('clear removes every version of one key and nothing else', async () => {
      const { store } = await fresh();
      await upload(store, phoneKey(), 'p1');
      await upload(store, phoneKey(), 'p2');
      await upload(store, logKey(), 'log');
      await store.uploads.clear(phoneKey());
      expect(await store.uploads.current(phoneKey())).toBeUndefined();
      expect(await store.uploads.history(phoneKey(), 10)).toEqual([]);
      expect(await store.uploads.current(logKey())).toBeDefined();
      const f = await upload(store, phoneKey(), 'after clear');
      expect((await f.read()).toString()).toBe('after clear');
    });

    test('issue 14 Tenants: two keys differing only by path keep separate current versions, histories, pruning and clear', async () => {
      const { store } = await fresh();
      const acme: UploadKey = { mac: MAC1, kind: 'override-phone', path: `acme/overrides/${MAC1}-phone.cfg` };
      const beta: UploadKey = { mac: MAC1, kind: 'override-phone', path: `beta/overrides/${MAC1}-phone.cfg` };
      await upload(store, acme, 'acme 1', { keepVersions: 2 });
      await upload(store, beta, 'beta 1', { keepVersions: 2 });
      await upload(store, acme, 'acme 2', { keepVersions: 2 });
      // Each key numbers its own versions; the other's upload replaced nothing.
      const a = await store.uploads.current(acme);
      const b = await store.uploads.current(beta);
      expect([a!.version, a!.key.path, (await a!.read()).toString()]).toEqual([2, acme.path, 'acme 2']);
      expect([b!.version, b!.key.path, (await b!.read()).toString()]).toEqual([1, beta.path, 'beta 1']);
      expect(await Promise.all((await store.uploads.history(acme, 10)).map(async (f) => (await f.read()).toString()))).toEqual(['acme 2', 'acme 1']);
      expect(await Promise.all((await store.uploads.history(beta, 10)).map(async (f) => (await f.read()).toString()))).toEqual(['beta 1']);
      // Pruning is per key: three more versions of beta (keep 2) leave acme's two alone.
      for (let i = 2; i <= 4; i++) await upload(store, beta, `beta ${i}`, { keepVersions: 2 });
      expect((await store.uploads.history(beta, 10)).map((f) => f.version)).toEqual([4, 3]);
      expect((await store.uploads.history(acme, 10)).map((f) => f.version)).toEqual([2, 1]);
      // listForPhone: one current upload per key, ordered by kind then path.
      await upload(store, { mac: MAC1, kind: 'directory', path: `acme/${MAC1}-directory.xml` }, '<directory/>');
      const list = await store.uploads.listForPhone(MAC1);
      expect(list.map((f) => [f.key.kind, f.key.path, f.version])).toEqual([
        ['directory', `acme/${MAC1}-directory.xml`, 1],
        ['override-phone', acme.path, 2],
        ['override-phone', beta.path, 4],
      ]);
      // Append mode appends to its own key only.
      const logA: UploadKey = { mac: MAC1, kind: 'log-app', path: `acme/${MAC1}-app.log` };
      const logB: UploadKey = { mac: MAC1, kind: 'log-app', path: `beta/${MAC1}-app.log` };
      await upload(store, logA, 'a1\n', { mode: 'append', keepVersions: 1 });
      await upload(store, logB, 'b1\n', { mode: 'append', keepVersions: 1 });
      await upload(store, logA, 'a2\n', { mode: 'append', keepVersions: 1 });
      expect((await (await store.uploads.current(logA))!.read()).toString()).toBe('a1\na2\n');
      expect((await (await store.uploads.current(logB))!.read()).toString()).toBe('b1\n');
      // clear(key) removes only that path's versions.
      await store.uploads.clear(acme);
      expect(await store.uploads.current(acme)).toBeUndefined();
      expect(await store.uploads.history(acme, 10)).toEqual([]);
      expect((await store.uploads.current(beta))!.version).toBe(4);
      expect((await upload(store, acme, 'acme again')).version).toBe(1);
    });

    test('issue 4 override policy: commit records whether locked parameters were present', async () => {
      const { store } = await fresh();
      const f = await (async () => {
        const sink = await store.uploads.begin(phoneKey(), replace());
        await sink.write(Buffer.from('<x reg.1.address="evil"/>'));
        return sink.commit({ locked: true });
      })();
      expect(f.locked).toBe(true);
      expect((await store.uploads.current(phoneKey()))!.locked).toBe(true);
      await upload(store, phoneKey(), 'clean');
      expect((await store.uploads.current(phoneKey()))!.locked).toBe(false);
    });

    test('a large upload spills to a temp file under <data>/tmp (bounded memory); none is left after commit or abort', async () => {
      const { store, tmpDir } = await fresh();
      const big = Buffer.alloc(3 * SPOOL_MEMORY_BYTES + 123);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
      const sink = await store.uploads.begin(phoneKey(), replace());
      for (let i = 0; i < big.length; i += 10_000) await sink.write(big.subarray(i, i + 10_000));
      expect(readdirSync(tmpDir).length).toBe(1);
      const f = await sink.commit();
      expect(readdirSync(tmpDir)).toEqual([]);
      expect(f.size).toBe(big.length);
      expect((await (await store.uploads.current(phoneKey()))!.read()).equals(big)).toBe(true);
      const aborted = await store.uploads.begin(phoneKey(), replace());
      await aborted.write(big);
      await aborted.abort();
      expect(readdirSync(tmpDir)).toEqual([]);
      const tooBig = await store.uploads.begin(phoneKey(), replace({ maxBytes: 2 * SPOOL_MEMORY_BYTES }));
      await tooBig.write(big.subarray(0, SPOOL_MEMORY_BYTES + 1));
      await expect(tooBig.write(big.subarray(0, SPOOL_MEMORY_BYTES))).rejects.toMatchObject({ code: 'PP_UPLOAD_TOO_LARGE' });
      expect(readdirSync(tmpDir)).toEqual([]);
      expect((await store.uploads.current(phoneKey()))!.version).toBe(1);
    });

    test('a caller reusing its chunk buffer does not change what was received', async () => {
      const { store } = await fresh();
      const sink = await store.uploads.begin(phoneKey(), replace());
      const buf = Buffer.from('first');
      await sink.write(buf);
      buf.write('XXXXX');
      await sink.write(Buffer.from('-second'));
      expect((await (await sink.commit()).read()).toString()).toBe('first-second');
    });

    test('binary content survives byte for byte (every byte value)', async () => {
      const { store } = await fresh();
      const body = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
      await upload(store, { mac: MAC1, kind: 'calls', path: `calls/${MAC1}-calls.xml` }, body, {}, 100);
      const cur = await store.uploads.current({ mac: MAC1, kind: 'calls', path: `calls/${MAC1}-calls.xml` });
      expect((await cur!.read()).equals(body)).toBe(true);
    });
  });

  describe(`${name}: audit (issue 4, Inventory and audit)`, () => {
    const ev = (o: Partial<AuditEvent>): AuditEvent => ({
      at: at(0), address: '192.0.2.10', transport: 'http', op: 'read', path: 'sip.cfg', status: '200', bytes: 100, durationMs: 1.5, ...o,
    });

    test('append stores a batch; query returns newest first with every field', async () => {
      const { store } = await fresh();
      await store.audit.append([]);
      await store.audit.append([
        ev({ at: at(1), mac: MAC1, user: 'site', code: undefined }),
        ev({ at: at(3), mac: MAC2, op: 'write', path: `overrides/${MAC2}-phone.cfg`, status: '413', code: 'PP_UPLOAD_TOO_LARGE', bytes: 0 }),
        ev({ at: at(2), transport: 'tftp', status: 'tftp:ok' }),
      ]);
      const all = await store.audit.query({});
      expect(all.map((e) => e.at.getTime())).toEqual([at(3), at(2), at(1)].map((d) => d.getTime()));
      expect(all[0]).toEqual(ev({ at: at(3), mac: MAC2, op: 'write', path: `overrides/${MAC2}-phone.cfg`, status: '413', code: 'PP_UPLOAD_TOO_LARGE', bytes: 0 }));
      expect(all[1]).toEqual(ev({ at: at(2), transport: 'tftp', status: 'tftp:ok' }));
      expect(all[2]).toEqual(ev({ at: at(1), mac: MAC1, user: 'site' }));
    });

    test('query filters by phone, since (inclusive), until (exclusive), and limit (default 100)', async () => {
      const { store } = await fresh();
      const batch: AuditEvent[] = [];
      for (let i = 0; i < 150; i++) batch.push(ev({ at: at(i), mac: i % 3 === 0 ? MAC1 : MAC2 }));
      await store.audit.append(batch);
      expect((await store.audit.query({})).length).toBe(100);
      expect((await store.audit.query({ limit: 500 })).length).toBe(150);
      const m1 = await store.audit.query({ mac: MAC1, limit: 500 });
      expect(m1.length).toBe(50);
      expect(m1.every((e) => e.mac === MAC1)).toBe(true);
      const win = await store.audit.query({ since: at(10), until: at(20), limit: 500 });
      expect(win.map((e) => (e.at.getTime() - T0) / 1000)).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
      expect((await store.audit.query({ mac: MAC1, since: at(140), limit: 2 })).map((e) => (e.at.getTime() - T0) / 1000)).toEqual([147, 144]);
    });
  });

  describe(`${name}: one write batch (issue 16, Speed: a recorder flush is one transaction)`, () => {
    const ev = (o: Partial<AuditEvent>): AuditEvent => ({
      at: at(0), address: '192.0.2.10', transport: 'http', op: 'read', path: 'sip.cfg', status: '200', bytes: 100, durationMs: 1.5, ...o,
    });
    const sight = (o: Partial<Sighting>): Sighting => ({ mac: MAC1, at: at(0), source: 'http', address: '192.0.2.10', ...o });

    test('record stores the events and folds the sightings exactly as append and recordSightings one by one (boots kept and pruned too)', async () => {
      // 40 phones, each with a bootROM boot start, application reads, an override upload and a
      // refusal; phone 0 boots 25 times (more than the boots kept per phone).
      const macs = Array.from({ length: 40 }, (_, i) => `0004f2${(0x100 + i).toString(16).padStart(6, '0')}` as Mac);
      const sightings: Sighting[] = [];
      const events: AuditEvent[] = [];
      macs.forEach((mac, i) => {
        const file = (path: string, op: 'read' | 'write' = 'read', status = '200') => ({ path, op, status });
        sightings.push(
          sight({ mac, at: at(i), stage: 'bootrom', bootromVersion: '4.0.0.0155', bootStart: true, userAgent: 'FileTransport PolycomVVX', file: file('000000000000.cfg'), master: '000000000000.cfg' }),
          sight({ mac, at: at(i + 30), stage: 'application', appVersion: '5.9.5.0614', model: 'VVX410', partNumber: '3111-46162-001', file: file(`${mac}-user.cfg`) }),
          sight({ mac, at: at(i + 31), file: file(`overrides/${mac}-phone.cfg`, 'write', 'stored'), overrideLocked: i % 2 === 0, sipUser: `${1000 + i}`, sipPort: 5060 }),
          sight({ mac, at: at(i + 29), error: `PP_UPLOAD_TOO_LARGE overrides/${mac}-web.cfg` }),
        );
        events.push(ev({ at: at(i), mac }), ev({ at: at(i + 30), mac, path: `${mac}-user.cfg` }), ev({ at: at(i + 31), mac, op: 'write', status: 'stored' }));
      });
      for (let b = 0; b < 25; b++) sightings.push(sight({ mac: macs[0]!, at: at(100 + b), stage: 'bootrom', bootStart: true }));
      events.push(ev({ at: at(200) })); // a request that named no phone
      const a = (await fresh()).store;
      const b = (await fresh()).store;
      // A phone both know already: the batch updates existing rows as well as creating new ones.
      for (const s of [a, b]) await s.phones.recordSighting(sight({ mac: macs[1]!, at: at(-50), model: 'VVX400', address: '192.0.2.99' }));
      await a.audit.record(events, sightings);
      for (const s of sightings) await b.phones.recordSighting(s);
      await b.audit.append(events);
      const listA = await a.phones.list();
      expect(listA).toHaveLength(40);
      expect(listA).toEqual(await b.phones.list());
      for (const mac of [macs[0]!, macs[1]!, macs[39]!]) expect(await a.phones.boots(mac, 100)).toEqual(await b.phones.boots(mac, 100));
      expect((await a.phones.boots(macs[0]!, 100)).length).toBeLessThan(26); // pruned
      expect(await a.phones.get(macs[1]!)).toMatchObject({ firstSeen: at(-50), lastSeen: at(32), model: 'VVX410', fetchedCount: 2, uploadedCount: 1, overrideLocked: false, sipPort: 5060 });
      expect(await a.phones.get(macs[2]!)).toMatchObject({ overrideLocked: true, lastError: `PP_UPLOAD_TOO_LARGE overrides/${macs[2]}-web.cfg`, master: '000000000000.cfg' });
      expect(await a.audit.query({ limit: 1000 })).toEqual(await b.audit.query({ limit: 1000 }));
      expect(await a.audit.query({ limit: 1000 })).toHaveLength(121);
    });

    test('record with only events, only sightings, or nothing', async () => {
      const { store } = await fresh();
      await store.audit.record([], []);
      await store.audit.record([ev({ at: at(1) })], []);
      await store.audit.record([], [sight({ at: at(2) })]);
      expect((await store.audit.query({})).length).toBe(1);
      expect(await store.phones.get(MAC1)).toMatchObject({ firstSeen: at(2), lastSeen: at(2) });
      expect(await store.phones.list()).toHaveLength(1);
    });
  });

  describe(`${name}: accounts (issue 4, Access policy; RFC 7616)`, () => {
    test('put, get, list, forPhone and remove', async () => {
      const { store } = await fresh();
      const site = makeAccount('site', 'site', 'pw-site', 'polyprov');
      const ph = makeAccount('phone', 'p-0004f2000001', 'pw-phone', 'polyprov', MAC1);
      ph.pending = true;
      await store.accounts.put(site);
      await store.accounts.put(ph);
      expect(await store.accounts.get('site')).toEqual(site);
      expect(await store.accounts.get('p-0004f2000001')).toEqual(ph);
      expect(await store.accounts.get('nobody')).toBeUndefined();
      expect((await store.accounts.list()).map((a) => a.user)).toEqual(['p-0004f2000001', 'site']);
      expect((await store.accounts.forPhone(MAC1))?.user).toBe('p-0004f2000001');
      expect(await store.accounts.forPhone(MAC2)).toBeUndefined();
      // put replaces (passwd, enrolment confirmed)
      const ph2 = { ...makeAccount('phone', 'p-0004f2000001', 'new', 'polyprov', MAC1), createdAt: ph.createdAt };
      await store.accounts.put(ph2);
      const got = await store.accounts.get('p-0004f2000001');
      expect(got).toEqual(ph2);
      expect(got!.pending).toBeUndefined();
      expect(await store.accounts.remove('site')).toBe(true);
      expect(await store.accounts.remove('site')).toBe(false);
      expect((await store.accounts.list()).map((a) => a.user)).toEqual(['p-0004f2000001']);
    });

    test('RFC 7616 §3.4.2: accounts hold HA1 per realm (MD5 and SHA-256), never the password', async () => {
      const { store } = await fresh();
      const password = 'Circle of Life';
      const a = makeAccount('site', 'Mufasa', password, 'http-auth@example.org');
      expect(a.ha1Md5).toBe(createHash('md5').update('Mufasa:http-auth@example.org:Circle of Life').digest('hex'));
      expect(a.ha1Sha256).toBe(ha1('SHA-256', 'Mufasa', 'http-auth@example.org', password));
      await store.accounts.put(a);
      const back = await store.accounts.get('Mufasa');
      expect(JSON.stringify(back)).not.toContain(password);
      expect(JSON.stringify(await store.accounts.list())).not.toContain(password);
      expect(Object.keys(back!).sort()).toEqual(['createdAt', 'ha1Md5', 'ha1Sha256', 'kind', 'realm', 'user']);
      // A different realm gives a different HA1: the hash is bound to the realm.
      expect(ha1('MD5', 'Mufasa', 'other', password)).not.toBe(a.ha1Md5);
    });
  });

  describe(`${name}: settings`, () => {
    test('get, set, overwrite and delete (undefined)', async () => {
      const { store } = await fresh();
      expect(await store.settings.get('staging')).toBeUndefined();
      await store.settings.set('staging', 'on');
      expect(await store.settings.get('staging')).toBe('on');
      await store.settings.set('staging', 'off');
      expect(await store.settings.get('staging')).toBe('off');
      await store.settings.set('staging', undefined);
      expect(await store.settings.get('staging')).toBeUndefined();
      await store.settings.set('empty', '');
      expect(await store.settings.get('empty')).toBe('');
    });
  });

  describe(`${name}: change record (issue 12, Administration through the core)`, () => {
    test('append keeps who, when, what and the old and new values; query is newest first', async () => {
      const { store } = await fresh();
      await store.changes.append({ at: at(0), who: 'alice', operation: 'staging.set', target: 'staging', old: { staging: false }, new: { staging: true } });
      await store.changes.append({ at: at(5), who: 'bob', operation: 'accounts.remove', target: 'site', old: { user: 'site', kind: 'site', password: '[secret]' } });
      await store.changes.append({ at: at(5), who: 'carol', operation: 'accounts.add', target: 'p1', new: { user: 'p1', nested: [1, 'two', null] } });
      const all = await store.changes.query({});
      expect(all.map((c) => c.who)).toEqual(['carol', 'bob', 'alice']); // same time: the later append first
      expect(all[2]).toEqual({ at: at(0), who: 'alice', operation: 'staging.set', target: 'staging', old: { staging: false }, new: { staging: true } });
      expect(all[1]).toEqual({ at: at(5), who: 'bob', operation: 'accounts.remove', target: 'site', old: { user: 'site', kind: 'site', password: '[secret]' } });
      expect('new' in all[1]!).toBe(false);
      expect(all[0]!.new).toEqual({ user: 'p1', nested: [1, 'two', null] });
    });

    test('query filters by since (inclusive) and target, and limit bounds it (default 100)', async () => {
      const { store } = await fresh();
      for (let i = 0; i < 105; i++) await store.changes.append({ at: at(i), who: 'ops', operation: 'overrides.clear', target: i % 2 ? MAC1 : MAC2, new: { n: i } });
      expect(await store.changes.query({})).toHaveLength(100);
      const since = await store.changes.query({ since: at(100) });
      expect(since.map((c) => c.new)).toEqual([{ n: 104 }, { n: 103 }, { n: 102 }, { n: 101 }, { n: 100 }]);
      const one = await store.changes.query({ target: MAC1, since: at(100), limit: 1 });
      expect(one).toEqual([{ at: at(103), who: 'ops', operation: 'overrides.clear', target: MAC1, new: { n: 103 } }]);
      expect(await store.changes.query({ limit: 0 })).toEqual([]);
    });
  });

  describe(`${name}: the phone layout's state (issue 13 items 3 and 4)`, () => {
    test('item 4: a phone keeps the master file it last read (newest sighting wins, order-independent)', async () => {
      const { store } = await fresh();
      const sight = (o: Partial<Sighting>): Sighting => ({ mac: MAC1, at: at(0), source: 'http', address: '192.0.2.10', ...o });
      await store.phones.recordSightings([
        sight({ at: at(20), master: 'tenant1/000000000000.cfg' }),
        sight({ at: at(10), master: '000000000000.cfg' }),
        sight({ at: at(30) }),
      ]);
      expect((await store.phones.get(MAC1))!.master).toBe('tenant1/000000000000.cfg');
    });

    test('item 3: an upload keeps the tree version it was stored against', async () => {
      const { store } = await fresh();
      const f = await upload(store, phoneKey(), 'over the tree', { treeVersion: 'abc123' });
      expect(f.treeVersion).toBe('abc123');
      expect((await store.uploads.current(phoneKey()))!.treeVersion).toBe('abc123');
      await upload(store, phoneKey(), 'no tree file', { treeVersion: '' });
      expect((await store.uploads.current(phoneKey()))!.treeVersion).toBe('');
      await upload(store, phoneKey(), 'unrecorded');
      expect((await store.uploads.current(phoneKey()))!.treeVersion).toBeUndefined();
    });
  });

  // The managed fleet, API tokens and check-sync jobs (issues 14, 15).
  fleetTests(fresh, name);
  fleetChangesTests(fresh, name);
  watchTests(fresh, name);
  auditBatchTests(fresh, name);
}
