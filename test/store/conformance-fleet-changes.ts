// Conformance cases of the fleet's change log (issue 14 Scale, Store.fleet.changesSince; migration
// 8), included by test/store/conformance.ts so memory, SQLite and PostgreSQL run them: a node at
// generation G reads only the scopes written after G, with what they hold now — or undefined when
// only a whole load will do.
import { describe, expect, test } from 'vitest';
import type { FleetOp, Mac, ManagedPhone, Scope } from '../../src/domain.ts';
import { LOG_KEEP, LOG_MAX } from '../../src/store/fleet-rows.ts';
import type { FleetChanges, Store } from '../../src/store/store.ts';

const at = new Date(Date.UTC(2026, 2, 1));
const M1 = '0004f2000001' as Mac;
const M2 = '0004f2000002' as Mac;
const G: Scope = { kind: 'global', tenant: '', name: '' };
const phone = (mac: Mac, o: Partial<ManagedPhone> = {}): ManagedPhone => ({ mac, tenant: 'default', groups: [], createdAt: at, updatedAt: at, ...o });
const set = (scope: Scope, name: string, value: string, sealed = false): FleetOp => ({ op: 'setSetting', setting: { scope, name, value, sealed } });
const put = (p: ManagedPhone): FleetOp => ({ op: 'putPhone', phone: p });

/** Scopes and settings in one order (changesSince promises no order of its own). */
function sorted(c: FleetChanges | undefined) {
  if (!c) return c;
  const k = (s: Scope) => `${s.kind}\0${s.tenant}\0${s.name}`;
  return {
    ...c,
    scopes: [...c.scopes].sort((a, b) => (k(a) < k(b) ? -1 : 1)),
    settings: [...c.settings].sort((a, b) => (k(a.scope) + a.name < k(b.scope) + b.name ? -1 : 1)),
  };
}

export function fleetChangesTests(fresh: () => Promise<{ store: Store }>, name: string): void {
  describe(`${name}: fleet changes since a generation (issue 14 Scale)`, () => {
    test('issue 14 Scale: the scopes written after G with what they hold now; a phone scope brings its phone; nothing new → nothing', async () => {
      const { store } = await fresh();
      const g0 = await store.fleet.apply([
        { op: 'putTenant', tenant: { name: 'default', createdAt: at } },
        { op: 'putSite', site: { tenant: 'default', name: 'hq' } },
        put(phone(M1, { site: 'hq', groups: [] })),
        put(phone(M2)),
        set(G, 'tcpIpApp.sntp.address', 'a.example'),
        set({ kind: 'phone', tenant: 'default', name: M1 }, 'reg.1.address', '1001'),
        set({ kind: 'phone', tenant: 'default', name: M1 }, 'reg.1.auth.password', 'v1.x.y.z', true),
      ]);
      expect(sorted(await store.fleet.changesSince(g0))).toEqual({ generation: g0, tenants: [{ name: 'default', createdAt: at }], sites: [{ tenant: 'default', name: 'hq' }], groups: [], scopes: [], phones: [], settings: [] });
      // Two writers' applies after g0: a global value, a phone moved to a group, a phone-scope unset, a new group.
      await store.fleet.apply([set(G, 'tcpIpApp.sntp.address', 'b.example'), { op: 'putGroup', group: { tenant: 'default', name: 'ops' } }]);
      const g2 = await store.fleet.apply([put(phone(M1, { site: 'hq', groups: ['ops'], label: 'desk' })), { op: 'unsetSetting', scope: { kind: 'phone', tenant: '', name: M1 }, name: 'reg.1.address' }]);
      const c = sorted(await store.fleet.changesSince(g0));
      expect(c).toEqual({
        generation: g2,
        tenants: [{ name: 'default', createdAt: at }],
        sites: [{ tenant: 'default', name: 'hq' }],
        groups: [{ tenant: 'default', name: 'ops' }],
        scopes: [G, { kind: 'phone', tenant: '', name: M1 }],
        phones: [phone(M1, { site: 'hq', groups: ['ops'], label: 'desk' })],
        settings: [
          { scope: G, name: 'tcpIpApp.sntp.address', value: 'b.example', sealed: false },
          { scope: { kind: 'phone', tenant: 'default', name: M1 }, name: 'reg.1.auth.password', value: 'v1.x.y.z', sealed: true },
        ],
      });
      // What a node at g2-1 missed: the second apply only.
      expect(sorted(await store.fleet.changesSince(g2 - 1))?.scopes).toEqual([{ kind: 'phone', tenant: '', name: M1 }]);
      // A removed phone: its scope named, no phone, no settings.
      const g3 = await store.fleet.apply([{ op: 'removePhone', mac: M1 }]);
      expect(await store.fleet.changesSince(g2)).toMatchObject({ generation: g3, scopes: [{ kind: 'phone', tenant: '', name: M1 }], phones: [], settings: [] });
      // Never a generation the store has not reached, nor a non-integer.
      expect(await store.fleet.changesSince(g3 + 1)).toBeUndefined();
      expect(await store.fleet.changesSince(0.5)).toBeUndefined();
    });

    test('issue 14 Scale: a removed site, group or tenant (cascades), or an apply over more than LOG_MAX scopes, sends a node behind to a whole load', async () => {
      const { store } = await fresh();
      const g1 = await store.fleet.apply([{ op: 'putTenant', tenant: { name: 'default', createdAt: at } }, { op: 'putSite', site: { tenant: 'default', name: 'hq' } }, put(phone(M1, { site: 'hq' }))]);
      const g2 = await store.fleet.apply([{ op: 'removeSite', tenant: 'default', name: 'hq' }]);
      expect(await store.fleet.changesSince(g1)).toBeUndefined();
      expect(await store.fleet.changesSince(g2)).toMatchObject({ generation: g2, scopes: [] });
      const many: FleetOp[] = [];
      for (let i = 0; i <= LOG_MAX; i++) many.push(put(phone(`0004f21${i.toString(16).padStart(5, '0')}` as Mac)));
      const g3 = await store.fleet.apply(many);
      expect(await store.fleet.changesSince(g2)).toBeUndefined();
      const g4 = await store.fleet.apply([set(G, 'a.b', '1')]);
      expect(await store.fleet.changesSince(g3)).toMatchObject({ generation: g4, scopes: [G] });
    });

    test('issue 14 Scale: changes.appendMany writes a fleet import\'s changes in order, as append would, in one go', async () => {
      const { store } = await fresh();
      const t = new Date(Date.UTC(2026, 2, 1, 10));
      await store.changes.append({ at: t, who: 'ann', operation: 'fleet.tenant.add', target: 'acme', new: { name: 'acme' } });
      const many = Array.from({ length: 2500 }, (_, i) => ({ at: t, who: 'ann', operation: 'fleet.phone.add', target: `0004f2${i.toString(16).padStart(6, '0')}`, new: { i } }));
      await store.changes.appendMany(many);
      await store.changes.appendMany([]);
      const got = await store.changes.query({ limit: 10_000 });
      expect(got).toHaveLength(2501);
      // Newest first; same-time changes: the later written first.
      expect(got[0]).toEqual({ ...many[2499], old: undefined, new: { i: 2499 } });
      expect(got.map((c) => c.target)).toEqual([...many.map((c) => c.target)].reverse().concat('acme'));
    });

    test(`issue 14 Scale: the log keeps about ${LOG_KEEP} generations; a node further behind loads whole`, async () => {
      const { store } = await fresh();
      let g = 0;
      for (let i = 0; i < LOG_KEEP + 60; i++) g = await store.fleet.apply([set(G, 'a.b', String(i))]);
      expect(await store.fleet.changesSince(1)).toBeUndefined();
      expect(await store.fleet.changesSince(g - LOG_KEEP + 50)).toMatchObject({ generation: g, scopes: [G], settings: [{ value: String(g - 1) }] });
    });
  });
}
