// Conformance cases of the managed fleet (issue 14, "Model (both stores, in the conformance
// suite)"), API tokens and check-sync jobs (issue 15), included by test/store/conformance.ts so
// every backend (memory, SQLite, PostgreSQL) runs them on a fresh, empty store.
import { describe, expect, test } from 'vitest';
import { makeAccount } from '../../src/core/digest.ts';
import type { CheckSyncJob, FleetData, FleetOp, Mac, ManagedPhone, Scope, Setting } from '../../src/domain.ts';
import type { Store } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const at = (sec: number) => new Date(T0 + sec * 1000);
const M1 = '0004f2000001' as Mac;
const M2 = '0004f2000002' as Mac;
const M3 = '64167f000003' as Mac;

const G: Scope = { kind: 'global', tenant: '', name: '' };
const tenantScope = (t: string): Scope => ({ kind: 'tenant', tenant: t, name: t });
const siteScope = (t: string, n: string): Scope => ({ kind: 'site', tenant: t, name: n });
const groupScope = (t: string, n: string): Scope => ({ kind: 'group', tenant: t, name: n });
const phoneScope = (t: string, mac: string): Scope => ({ kind: 'phone', tenant: t, name: mac });

const phone = (mac: Mac, o: Partial<ManagedPhone> = {}): ManagedPhone => ({ mac, tenant: 'default', groups: [], createdAt: at(0), updatedAt: at(0), ...o });
const set = (scope: Scope, name: string, value: string, sealed = false): FleetOp => ({ op: 'setSetting', setting: { scope, name, value, sealed } });
const putPhone = (p: ManagedPhone): FleetOp => ({ op: 'putPhone', phone: p });
const putTenant = (name: string, sec = 0): FleetOp => ({ op: 'putTenant', tenant: { name, createdAt: at(sec) } });

/** A small two-tenant fleet: default (hq, lab; sales, ops) and acme (hq; sales). */
const SEED: FleetOp[] = [
  putTenant('default'),
  putTenant('acme', 1),
  { op: 'putSite', site: { tenant: 'default', name: 'hq' } },
  { op: 'putSite', site: { tenant: 'default', name: 'lab' } },
  { op: 'putSite', site: { tenant: 'acme', name: 'hq' } },
  { op: 'putGroup', group: { tenant: 'default', name: 'sales' } },
  { op: 'putGroup', group: { tenant: 'default', name: 'ops' } },
  { op: 'putGroup', group: { tenant: 'acme', name: 'sales' } },
  putPhone(phone(M1, { model: 'VVX411', label: 'Reception', site: 'hq', groups: ['sales', 'ops'] })),
  putPhone(phone(M2, { site: 'lab', groups: ['ops'] })),
  putPhone(phone(M3, { tenant: 'acme', model: 'VVX250', site: 'hq', groups: ['sales'] })),
  set(G, 'tcpIpApp.sntp.address', 'pool.ntp.org'),
  set(tenantScope('acme'), 'voIpProt.server.1.address', 'sip.acme.example'),
  set(siteScope('default', 'hq'), 'voIpProt.server.1.address', 'sip.hq.example'),
  set(siteScope('acme', 'hq'), 'voIpProt.server.1.address', 'sip.acme-hq.example'),
  set(groupScope('default', 'sales'), 'feature.presence.enabled', '1'),
  set(groupScope('acme', 'sales'), 'feature.presence.enabled', '0'),
  set(phoneScope('default', M1), 'reg.1.address', '1001'),
  set(phoneScope('default', M1), 'reg.1.auth.password', 'v1.aaa.bbb.ccc', true),
  set(phoneScope('default', M2), 'reg.1.address', '1002'),
  set(phoneScope('acme', M3), 'reg.1.address', '2001'),
];

const settingsAt = (d: FleetData, kind: Scope['kind'], name?: string) => d.settings.filter((s) => s.scope.kind === kind && (name === undefined || s.scope.name === name));
const phoneOf = (d: FleetData, mac: Mac) => d.phones.find((p) => p.mac === mac);

export function fleetTests(fresh: () => Promise<{ store: Store }>, name: string): void {
  describe(`${name}: managed fleet (issue 14, Model)`, () => {
    test('an empty fleet loads empty at generation 0', async () => {
      const { store } = await fresh();
      expect(await store.fleet.generation()).toBe(0);
      expect(await store.fleet.load()).toEqual({ generation: 0, tenants: [], sites: [], groups: [], phones: [], settings: [] });
    });

    test('every apply bumps the generation by one and returns it; load() and generation() report it', async () => {
      const { store } = await fresh();
      expect(await store.fleet.apply([putTenant('default')])).toBe(1);
      expect(await store.fleet.apply([set(G, 'a.b', '1'), set(G, 'a.c', '2')])).toBe(2);
      expect(await store.fleet.apply([])).toBe(3);
      expect(await store.fleet.generation()).toBe(3);
      expect((await store.fleet.load()).generation).toBe(3);
    });

    test('tenants, sites, groups, phones (ordered groups) and settings (sealed flag) round-trip, in a stable order', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      const d = await store.fleet.load();
      expect(d.tenants).toEqual([{ name: 'acme', createdAt: at(1) }, { name: 'default', createdAt: at(0) }]);
      expect(d.sites).toEqual([{ tenant: 'acme', name: 'hq' }, { tenant: 'default', name: 'hq' }, { tenant: 'default', name: 'lab' }]);
      expect(d.groups).toEqual([{ tenant: 'acme', name: 'sales' }, { tenant: 'default', name: 'ops' }, { tenant: 'default', name: 'sales' }]);
      expect(d.phones.map((p) => p.mac)).toEqual([M1, M2, M3]);
      expect(phoneOf(d, M1)).toEqual(phone(M1, { model: 'VVX411', label: 'Reception', site: 'hq', groups: ['sales', 'ops'] }));
      // Absent optional fields stay absent (not null, not '').
      expect(phoneOf(d, M2)).toEqual({ mac: M2, tenant: 'default', site: 'lab', groups: ['ops'], createdAt: at(0), updatedAt: at(0) });
      expect(phoneOf(d, M3)!.tenant).toBe('acme');
      expect(d.settings).toHaveLength(10);
      expect(d.settings.find((s) => s.name === 'reg.1.auth.password')).toEqual({ scope: phoneScope('default', M1), name: 'reg.1.auth.password', value: 'v1.aaa.bbb.ccc', sealed: true });
      expect(d.settings.find((s) => s.name === 'tcpIpApp.sntp.address')).toEqual({ scope: G, name: 'tcpIpApp.sntp.address', value: 'pool.ntp.org', sealed: false });
      expect(settingsAt(d, 'tenant')).toEqual([{ scope: tenantScope('acme'), name: 'voIpProt.server.1.address', value: 'sip.acme.example', sealed: false }]);
      // The order is by scope kind, tenant, name, then parameter: the same on every backend.
      const keys = d.settings.map((s) => `${s.scope.kind}|${s.scope.kind === 'phone' ? '' : s.scope.tenant}|${s.scope.name}|${s.name}`);
      expect(keys).toEqual([...keys].sort());
      expect(await store.fleet.load()).toEqual(d);
    });

    test('putPhone and putTenant are upserts that keep createdAt; setSetting replaces value and sealed flag', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      await store.fleet.apply([
        putTenant('acme', 500),
        putPhone(phone(M1, { model: 'VVX450', groups: ['ops', 'sales'], createdAt: at(900), updatedAt: at(900) })),
        set(phoneScope('default', M1), 'reg.1.address', 'v1.x.y.z', true),
      ]);
      const d = await store.fleet.load();
      expect(d.tenants.find((t) => t.name === 'acme')!.createdAt).toEqual(at(1));
      // The label and site the new record leaves out are gone; createdAt stays, updatedAt moves.
      expect(phoneOf(d, M1)).toEqual({ mac: M1, tenant: 'default', model: 'VVX450', groups: ['ops', 'sales'], createdAt: at(0), updatedAt: at(900) });
      expect(d.settings.filter((s) => s.scope.kind === 'phone' && s.scope.name === M1 && s.name === 'reg.1.address')).toEqual([
        { scope: phoneScope('default', M1), name: 'reg.1.address', value: 'v1.x.y.z', sealed: true },
      ]);
      expect(d.phones).toHaveLength(3);
      expect(d.settings).toHaveLength(10);
    });

    test('a phone scope is keyed by the MAC alone: its settings report the phone\'s tenant and follow it to another tenant', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      // Written with another tenant and MAC spelling: the same setting, not a second one.
      await store.fleet.apply([set(phoneScope('acme', '0004F2000001'), 'reg.1.address', '1009')]);
      let d = await store.fleet.load();
      expect(settingsAt(d, 'phone', M1).filter((s) => s.name === 'reg.1.address')).toEqual([{ scope: phoneScope('default', M1), name: 'reg.1.address', value: '1009', sealed: false }]);
      await store.fleet.apply([putPhone(phone(M1, { tenant: 'acme' }))]);
      d = await store.fleet.load();
      expect(settingsAt(d, 'phone', M1).map((s) => s.scope.tenant)).toEqual(['acme', 'acme']);
      await store.fleet.apply([{ op: 'unsetSetting', scope: phoneScope('default', M1), name: 'reg.1.address' }]);
      expect(settingsAt(await store.fleet.load(), 'phone', M1).map((s) => s.name)).toEqual(['reg.1.auth.password']);
    });

    test('unsetSetting removes that one setting at that scope only', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      await store.fleet.apply([
        { op: 'unsetSetting', scope: siteScope('default', 'hq'), name: 'voIpProt.server.1.address' },
        { op: 'unsetSetting', scope: G, name: 'no.such.param' },
      ]);
      const d = await store.fleet.load();
      expect(settingsAt(d, 'site')).toEqual([{ scope: siteScope('acme', 'hq'), name: 'voIpProt.server.1.address', value: 'sip.acme-hq.example', sealed: false }]);
      expect(d.settings).toHaveLength(9);
    });

    test('removeSite drops the site, its settings, and the site from the phones naming it — of that tenant only', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      await store.fleet.apply([{ op: 'removeSite', tenant: 'default', name: 'hq' }]);
      const d = await store.fleet.load();
      expect(d.sites).toEqual([{ tenant: 'acme', name: 'hq' }, { tenant: 'default', name: 'lab' }]);
      expect(settingsAt(d, 'site')).toEqual([{ scope: siteScope('acme', 'hq'), name: 'voIpProt.server.1.address', value: 'sip.acme-hq.example', sealed: false }]);
      expect(phoneOf(d, M1)!.site).toBeUndefined();
      expect('site' in phoneOf(d, M1)!).toBe(false);
      expect(phoneOf(d, M1)!.groups).toEqual(['sales', 'ops']);
      expect(phoneOf(d, M2)!.site).toBe('lab');
      expect(phoneOf(d, M3)!.site).toBe('hq');
    });

    test('removeGroup drops the group, its settings, and the group from the phones naming it, the others kept in order', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      await store.fleet.apply([putPhone(phone(M2, { groups: ['ops', 'sales'] }))]);
      await store.fleet.apply([{ op: 'removeGroup', tenant: 'default', name: 'sales' }]);
      const d = await store.fleet.load();
      expect(d.groups).toEqual([{ tenant: 'acme', name: 'sales' }, { tenant: 'default', name: 'ops' }]);
      expect(settingsAt(d, 'group')).toEqual([{ scope: groupScope('acme', 'sales'), name: 'feature.presence.enabled', value: '0', sealed: false }]);
      expect(phoneOf(d, M1)!.groups).toEqual(['ops']);
      expect(phoneOf(d, M2)!.groups).toEqual(['ops']);
      expect(phoneOf(d, M3)!.groups).toEqual(['sales']);
      // A group added back later goes after the remaining ones.
      await store.fleet.apply([putPhone(phone(M1, { groups: ['ops', 'sales'] }))]);
      expect(phoneOf(await store.fleet.load(), M1)!.groups).toEqual(['ops', 'sales']);
    });

    test('removePhone drops the phone and its phone-scope settings, nothing else', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      await store.fleet.apply([{ op: 'removePhone', mac: M1 }]);
      const d = await store.fleet.load();
      expect(d.phones.map((p) => p.mac)).toEqual([M2, M3]);
      expect(settingsAt(d, 'phone').map((s) => s.scope.name)).toEqual([M2, M3]);
      expect(d.settings).toHaveLength(8);
      // Put back: no old settings or groups come back with it.
      await store.fleet.apply([putPhone(phone(M1))]);
      expect(settingsAt(await store.fleet.load(), 'phone', M1)).toEqual([]);
    });

    test('removeTenant drops its sites, groups, phones and the settings at all of them; other tenants and global stay', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      await store.fleet.apply([{ op: 'removeTenant', name: 'acme' }]);
      const d = await store.fleet.load();
      expect(d.tenants.map((t) => t.name)).toEqual(['default']);
      expect(d.sites).toEqual([{ tenant: 'default', name: 'hq' }, { tenant: 'default', name: 'lab' }]);
      expect(d.groups).toEqual([{ tenant: 'default', name: 'ops' }, { tenant: 'default', name: 'sales' }]);
      expect(d.phones.map((p) => p.mac)).toEqual([M1, M2]);
      expect(d.settings.some((s) => s.scope.tenant === 'acme')).toBe(false);
      expect(settingsAt(d, 'phone', M3)).toEqual([]);
      expect(settingsAt(d, 'global')).toHaveLength(1);
      expect(d.settings).toHaveLength(6);
    });

    test('ops apply in order within one apply: a setting written after its phone was removed and put back stays', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      await store.fleet.apply([
        set(phoneScope('default', M2), 'reg.2.address', '1102'),
        { op: 'removePhone', mac: M2 },
        putPhone(phone(M2, { createdAt: at(50), updatedAt: at(50) })),
        set(phoneScope('default', M2), 'reg.1.address', '2002'),
        set(G, 'x.y', '1'),
        { op: 'unsetSetting', scope: G, name: 'x.y' },
        set(G, 'x.z', '1'),
        { op: 'unsetSetting', scope: G, name: 'x.z' },
        set(G, 'x.z', '2'),
      ]);
      const d = await store.fleet.load();
      expect(phoneOf(d, M2)).toEqual(phone(M2, { createdAt: at(50), updatedAt: at(50) }));
      expect(settingsAt(d, 'phone', M2).map((s) => [s.name, s.value])).toEqual([['reg.1.address', '2002']]);
      expect(settingsAt(d, 'global').map((s) => [s.name, s.value])).toEqual([['tcpIpApp.sntp.address', 'pool.ntp.org'], ['x.z', '2']]);
    });

    test('apply is all or nothing: a failing op rolls back every op before it, and the generation stays', async () => {
      const { store } = await fresh();
      await store.fleet.apply(SEED);
      const before = await store.fleet.load();
      const bad: FleetOp[] = [
        putTenant('zeta'),
        putPhone(phone('0004f2000009' as Mac, { tenant: 'zeta' })),
        set(G, 'tcpIpApp.sntp.address', 'changed'),
        { op: 'removeTenant', name: 'acme' },
        { op: 'removeSite', tenant: 'default', name: 'hq' },
        set({ kind: 'nowhere', tenant: '', name: '' } as unknown as Scope, 'a.b', '1'),
        set(G, 'after.failure', '1'),
      ];
      await expect(store.fleet.apply(bad)).rejects.toMatchObject({ code: 'PP_INTERNAL' });
      await expect(store.fleet.apply([putTenant('zeta'), { op: 'renameTenant' } as unknown as FleetOp])).rejects.toMatchObject({ code: 'PP_INTERNAL' });
      expect(await store.fleet.generation()).toBe(before.generation);
      expect(await store.fleet.load()).toEqual(before);
      // The store is usable afterwards.
      expect(await store.fleet.apply([putTenant('zeta')])).toBe(before.generation + 1);
    });

    test('concurrent applies (several requests, several nodes) each get their own generation and none is lost', async () => {
      const { store } = await fresh();
      const gens = await Promise.all(Array.from({ length: 6 }, (_, i) => store.fleet.apply([
        putPhone(phone(`0004f20000a${i}` as Mac)),
        set(phoneScope('default', `0004f20000a${i}`), 'reg.1.address', `${i}`),
        set(G, `c.${i}`, `${i}`),
      ])));
      expect([...gens].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      const d = await store.fleet.load();
      expect(d.generation).toBe(6);
      expect(d.phones).toHaveLength(6);
      expect(d.settings).toHaveLength(12);
    });

    test('values handed out are copies: changing a loaded record or an applied op changes nothing stored', async () => {
      const { store } = await fresh();
      const p = phone(M1, { groups: ['sales'] });
      const s: Setting = { scope: G, name: 'a.b', value: '1', sealed: false };
      await store.fleet.apply([putPhone(p), { op: 'setSetting', setting: s }]);
      p.groups.push('ops');
      s.value = '2';
      const d = await store.fleet.load();
      d.phones[0]!.groups.push('x');
      d.settings[0]!.value = '3';
      const again = await store.fleet.load();
      expect(again.phones[0]!.groups).toEqual(['sales']);
      expect(again.settings[0]!.value).toBe('1');
    });

    test('issue 14 Scale: 2,000 phones with two lines (8 settings each) in one apply load back whole; a re-apply adds nothing; removing the tenant empties it', async () => {
      const { store } = await fresh();
      const N = 2000;
      const ops: FleetOp[] = [putTenant('big'), { op: 'putSite', site: { tenant: 'big', name: 's1' } }, { op: 'putGroup', group: { tenant: 'big', name: 'g1' } }];
      for (let i = 0; i < N; i++) {
        const mac = `0004f2${i.toString(16).padStart(6, '0')}` as Mac;
        ops.push(putPhone(phone(mac, { tenant: 'big', model: 'VVX411', label: `Desk ${i}`, site: 's1', groups: ['g1'] })));
        for (const line of [1, 2]) {
          const sc = phoneScope('big', mac);
          ops.push(set(sc, `reg.${line}.address`, `${1000 + i}-${line}`), set(sc, `reg.${line}.auth.userId`, `u${i}-${line}`));
          ops.push(set(sc, `reg.${line}.auth.password`, `v1.iv${i}.tag.ct${line}`, true), set(sc, `reg.${line}.label`, `Line ${line}`));
        }
      }
      expect(await store.fleet.apply(ops)).toBe(1);
      let d = await store.fleet.load();
      expect(d.phones).toHaveLength(N);
      expect(d.settings).toHaveLength(N * 8);
      expect(d.phones[N - 1]).toMatchObject({ mac: `0004f2${(N - 1).toString(16).padStart(6, '0')}`, label: `Desk ${N - 1}`, groups: ['g1'] });
      expect(d.settings.filter((s) => s.sealed)).toHaveLength(N * 2);
      expect(await store.fleet.apply(ops)).toBe(2);
      d = await store.fleet.load();
      expect(d.phones).toHaveLength(N);
      expect(d.settings).toHaveLength(N * 8);
      expect(d.phones.every((p) => p.groups.length === 1)).toBe(true);
      await store.fleet.apply([{ op: 'removeTenant', name: 'big' }]);
      d = await store.fleet.load();
      expect(d.phones).toEqual([]);
      expect(d.settings).toEqual([]);
    }, 60_000);
  });

  describe(`${name}: accounts belong to a tenant (issue 14, Serving: Tenants)`, () => {
    test('Account.tenant round-trips; absent means the default tenant and stays absent', async () => {
      const { store } = await fresh();
      await store.accounts.put({ ...makeAccount('phone', 'a1', 'pw', 'polyprov', M1), tenant: 'acme' });
      await store.accounts.put(makeAccount('phone', 'a2', 'pw', 'polyprov', M2));
      expect((await store.accounts.get('a1'))!.tenant).toBe('acme');
      expect('tenant' in (await store.accounts.get('a2'))!).toBe(false);
      expect((await store.accounts.forPhone(M1))!.tenant).toBe('acme');
      expect((await store.accounts.list()).map((a) => a.tenant)).toEqual(['acme', undefined]);
    });
  });

  describe(`${name}: API tokens (issue 15, stored by hash)`, () => {
    const tok = (n: string, o: Partial<import('../../src/domain.ts').ApiToken> = {}) => ({ name: n, role: 'operator' as const, hash: n.padEnd(64, '0'), createdAt: at(0), ...o });

    test('put, get, byHash, list by name, remove; tenant absent stays absent', async () => {
      const { store } = await fresh();
      expect(await store.tokens.list()).toEqual([]);
      await store.tokens.put(tok('zed', { role: 'admin' }));
      await store.tokens.put(tok('acme-ops', { tenant: 'acme', createdAt: at(5) }));
      expect(await store.tokens.get('zed')).toEqual(tok('zed', { role: 'admin' }));
      expect('tenant' in (await store.tokens.get('zed'))!).toBe(false);
      expect(await store.tokens.byHash(tok('acme-ops').hash)).toEqual(tok('acme-ops', { tenant: 'acme', createdAt: at(5) }));
      expect(await store.tokens.byHash('f'.repeat(64))).toBeUndefined();
      expect(await store.tokens.get('nobody')).toBeUndefined();
      expect((await store.tokens.list()).map((t) => t.name)).toEqual(['acme-ops', 'zed']);
      expect(await store.tokens.remove('zed')).toBe(true);
      expect(await store.tokens.remove('zed')).toBe(false);
      expect(await store.tokens.byHash(tok('zed').hash)).toBeUndefined();
      expect((await store.tokens.list()).map((t) => t.name)).toEqual(['acme-ops']);
    });

    test('a name is unique (put replaces it) and so is a hash (another name with the same hash is refused)', async () => {
      const { store } = await fresh();
      await store.tokens.put(tok('a'));
      await store.tokens.put(tok('a', { role: 'read-only', hash: 'e'.repeat(64) }));
      expect(await store.tokens.list()).toEqual([tok('a', { role: 'read-only', hash: 'e'.repeat(64) })]);
      expect(await store.tokens.byHash(tok('a').hash)).toBeUndefined();
      await expect(store.tokens.put(tok('b', { hash: 'e'.repeat(64) }))).rejects.toMatchObject({ code: 'PP_INTERNAL' });
      expect((await store.tokens.list()).map((t) => t.name)).toEqual(['a']);
    });
  });

  describe(`${name}: check-sync jobs (issue 15, POST /api/v1/checksync)`, () => {
    const job = (id: string, sec: number, macs: Mac[], o: Partial<CheckSyncJob> = {}): CheckSyncJob => ({
      id, createdAt: at(sec), who: 'ops-token', request: { macs, note: 'x' }, targets: macs.map((mac) => ({ mac, status: 'pending' })), ...o,
    });

    test('a job round-trips with its request and targets in order; unknown ids are absent', async () => {
      const { store } = await fresh();
      const j = job('j1', 0, [M3, M1, M2], { tenant: 'acme', request: { scope: 'site:acme/hq', all: false, n: [1, 2] } });
      await store.jobs.create(j);
      expect(await store.jobs.get('j1')).toEqual(j);
      expect(await store.jobs.get('nope')).toBeUndefined();
      const k = job('j2', 1, [], { request: 'all' });
      await store.jobs.create(k);
      expect(await store.jobs.get('j2')).toEqual(k);
      expect('tenant' in (await store.jobs.get('j2'))!).toBe(false);
      await expect(store.jobs.create(job('j1', 2, [M1]))).rejects.toBeDefined();
      expect(await store.jobs.get('j1')).toEqual(j);
    });

    test('list is newest first, bounded by its limit (same-time jobs: the later created first)', async () => {
      const { store } = await fresh();
      await store.jobs.create(job('a', 10, [M1]));
      await store.jobs.create(job('b', 30, [M1]));
      await store.jobs.create(job('c', 20, [M1]));
      await store.jobs.create(job('d', 30, [M2]));
      expect((await store.jobs.list(10)).map((j) => j.id)).toEqual(['d', 'b', 'c', 'a']);
      expect((await store.jobs.list(2)).map((j) => j.id)).toEqual(['d', 'b']);
      expect((await store.jobs.list(10))[0]!.targets).toEqual([{ mac: M2, status: 'pending' }]);
      expect(await store.jobs.list(0)).toEqual([]);
    });

    test('updateTargets replaces the named targets\' status (by MAC), leaves the others, and ignores MACs not in the job', async () => {
      const { store } = await fresh();
      await store.jobs.create(job('j', 0, [M1, M2, M3]));
      await store.jobs.create(job('other', 0, [M1]));
      await store.jobs.updateTargets('j', [
        { mac: M2, status: 'sent', detail: '200 OK', at: at(3) },
        { mac: '0004F2000001' as Mac, status: 'failed', detail: 'timeout', at: at(4) },
        { mac: '0004f2999999' as Mac, status: 'sent' },
      ]);
      expect((await store.jobs.get('j'))!.targets).toEqual([
        { mac: M1, status: 'failed', detail: 'timeout', at: at(4) },
        { mac: M2, status: 'sent', detail: '200 OK', at: at(3) },
        { mac: M3, status: 'pending' },
      ]);
      await store.jobs.updateTargets('j', [{ mac: M2, status: 'returned', at: at(9) }]);
      expect((await store.jobs.get('j'))!.targets[1]).toEqual({ mac: M2, status: 'returned', at: at(9) });
      expect((await store.jobs.get('other'))!.targets).toEqual([{ mac: M1, status: 'pending' }]);
      await store.jobs.updateTargets('missing', [{ mac: M1, status: 'sent' }]);
      expect(await store.jobs.get('missing')).toBeUndefined();
    });
  });
}
