// The managed fleet in SQLite (migration 6; issue 14, Model): load() reads everything in one read
// transaction (a consistent snapshot under WAL); apply() runs every op on prepared statements in
// one BEGIN IMMEDIATE transaction and bumps the one-row generation, so a failing op rolls back
// every op before it. better-sqlite3 is synchronous: 10,000 phones with 80,000 settings are a few
// hundred thousand statement runs of a few microseconds each, with no round trip. Each apply logs
// the scopes it wrote (migration 8, fleet-rows.ts fleetLogScopes) for changesSince().
import type Database from 'better-sqlite3';
import type { FleetData, FleetOp, Scope, ScopeKind, Setting, Tenant } from '../../domain.ts';
import { macKey } from '../fold-sighting.ts';
import { checkFleetOp, fleetLogScopes, fleetPhoneFromRow, fleetPhoneToValues, fleetSettingFromRow, LOG_KEEP, LOG_MAX, logScope, scopeCols, type FleetPhoneRow } from '../fleet-rows.ts';
import type { FleetChanges, Store } from '../store.ts';

type Db = Database.Database;

function prepare(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    generation: p('SELECT generation FROM fleet_generation WHERE id = 1'),
    bump: p('UPDATE fleet_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation'),
    logFrom: p('SELECT generation, log_from FROM fleet_generation WHERE id = 1'),
    logReset: p('UPDATE fleet_generation SET log_from = max(log_from, ?) WHERE id = 1'),
    logPrune: p('DELETE FROM fleet_log WHERE generation <= ?'),
    logAdd: p('INSERT OR IGNORE INTO fleet_log (generation, scope_kind, scope_tenant, scope_name) VALUES (?, ?, ?, ?)'),
    logSince: p('SELECT DISTINCT scope_kind, scope_tenant, scope_name FROM fleet_log WHERE generation > ?').raw(true),
    scopeRows: p(`SELECT s.scope_kind, s.scope_tenant, s.scope_name, s.name, s.value, s.sealed, p.tenant AS phone_tenant
      FROM fleet_settings s LEFT JOIN fleet_phones p ON s.scope_kind = 'phone' AND p.mac = s.scope_name
      WHERE s.scope_kind = ? AND s.scope_tenant = ? AND s.scope_name = ? ORDER BY s.name`).raw(true),
    phoneOne: p('SELECT mac, tenant, model, label, site, created_at, updated_at FROM fleet_phones WHERE mac = ?'),
    phoneGroupsOne: p('SELECT grp FROM fleet_phone_groups WHERE mac = ? ORDER BY pos').pluck(),

    tenants: p('SELECT name, created_at FROM fleet_tenants ORDER BY name'),
    sites: p('SELECT tenant, name FROM fleet_sites ORDER BY tenant, name'),
    groups: p('SELECT tenant, name FROM fleet_groups ORDER BY tenant, name'),
    phones: p('SELECT mac, tenant, model, label, site, created_at, updated_at FROM fleet_phones ORDER BY mac'),
    // Rows as arrays (the big read: 8 rows a phone), cheaper than objects; a phone scope's tenant
    // is looked up in the phones just read rather than joined per row.
    settings: p(`SELECT scope_kind, scope_tenant, scope_name, name, value, sealed FROM fleet_settings
      ORDER BY scope_kind, scope_tenant, scope_name, name`).raw(true),
    phoneGroups: p('SELECT mac, grp FROM fleet_phone_groups ORDER BY mac, pos').raw(true),

    tenantPut: p('INSERT INTO fleet_tenants (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    tenantRemove: p('DELETE FROM fleet_tenants WHERE name = ?'),
    tenantSites: p('DELETE FROM fleet_sites WHERE tenant = ?'),
    tenantGroups: p('DELETE FROM fleet_groups WHERE tenant = ?'),
    tenantPhoneSettings: p(`DELETE FROM fleet_settings WHERE scope_kind = 'phone' AND scope_tenant = ''
      AND scope_name IN (SELECT mac FROM fleet_phones WHERE tenant = ?)`),
    tenantPhoneGroups: p('DELETE FROM fleet_phone_groups WHERE mac IN (SELECT mac FROM fleet_phones WHERE tenant = ?)'),
    tenantPhones: p('DELETE FROM fleet_phones WHERE tenant = ?'),
    tenantSettings: p(`DELETE FROM fleet_settings WHERE scope_kind = ? AND scope_tenant = ?`),

    sitePut: p('INSERT INTO fleet_sites (tenant, name) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    siteRemove: p('DELETE FROM fleet_sites WHERE tenant = ? AND name = ?'),
    sitePhones: p('UPDATE fleet_phones SET site = NULL WHERE tenant = ? AND site = ?'),
    groupPut: p('INSERT INTO fleet_groups (tenant, name) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    groupRemove: p('DELETE FROM fleet_groups WHERE tenant = ? AND name = ?'),
    groupPhones: p('DELETE FROM fleet_phone_groups WHERE grp = ? AND mac IN (SELECT mac FROM fleet_phones WHERE tenant = ?)'),
    scopeSettings: p('DELETE FROM fleet_settings WHERE scope_kind = ? AND scope_tenant = ? AND scope_name = ?'),

    phonePut: p(`INSERT INTO fleet_phones (mac, tenant, model, label, site, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (mac) DO UPDATE SET tenant = excluded.tenant, model = excluded.model, label = excluded.label,
        site = excluded.site, updated_at = excluded.updated_at
      WHERE (tenant, model, label, site, updated_at) IS NOT (excluded.tenant, excluded.model, excluded.label, excluded.site, excluded.updated_at)`),
    phoneRemove: p('DELETE FROM fleet_phones WHERE mac = ?'),
    phoneGroupsClear: p('DELETE FROM fleet_phone_groups WHERE mac = ?'),
    phoneGroupAdd: p('INSERT INTO fleet_phone_groups (mac, pos, grp) VALUES (?, ?, ?)'),

    settingPut: p(`INSERT INTO fleet_settings (scope_kind, scope_tenant, scope_name, name, value, sealed) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (scope_kind, scope_tenant, scope_name, name) DO UPDATE SET value = excluded.value, sealed = excluded.sealed
      WHERE value IS NOT excluded.value OR sealed IS NOT excluded.sealed`),
    settingDelete: p('DELETE FROM fleet_settings WHERE scope_kind = ? AND scope_tenant = ? AND scope_name = ? AND name = ?'),
  };
}
type Stmts = ReturnType<typeof prepare>;

function applyOp(st: Stmts, op: FleetOp): void {
  checkFleetOp(op);
  switch (op.op) {
    case 'putTenant':
      st.tenantPut.run(op.tenant.name, op.tenant.createdAt.getTime());
      return;
    case 'removeTenant': {
      const t = op.name;
      st.tenantPhoneSettings.run(t);
      st.tenantPhoneGroups.run(t);
      st.tenantPhones.run(t);
      for (const kind of ['tenant', 'site', 'group']) st.tenantSettings.run(kind, t);
      st.tenantSites.run(t);
      st.tenantGroups.run(t);
      st.tenantRemove.run(t);
      return;
    }
    case 'putSite':
      st.sitePut.run(op.site.tenant, op.site.name);
      return;
    case 'removeSite':
      st.siteRemove.run(op.tenant, op.name);
      st.scopeSettings.run('site', op.tenant, op.name);
      st.sitePhones.run(op.tenant, op.name);
      return;
    case 'putGroup':
      st.groupPut.run(op.group.tenant, op.group.name);
      return;
    case 'removeGroup':
      st.groupRemove.run(op.tenant, op.name);
      st.scopeSettings.run('group', op.tenant, op.name);
      st.groupPhones.run(op.name, op.tenant);
      return;
    case 'putPhone': {
      const v = fleetPhoneToValues(op.phone);
      st.phonePut.run(v);
      st.phoneGroupsClear.run(v[0]);
      op.phone.groups.forEach((g, i) => st.phoneGroupAdd.run(v[0], i, g));
      return;
    }
    case 'removePhone': {
      const mac = macKey(op.mac);
      st.phoneRemove.run(mac);
      st.phoneGroupsClear.run(mac);
      st.scopeSettings.run('phone', '', mac);
      return;
    }
    case 'setSetting':
      st.settingPut.run(...scopeCols(op.setting.scope), op.setting.name, op.setting.value, op.setting.sealed ? 1 : 0);
      return;
    case 'unsetSetting':
      st.settingDelete.run(...scopeCols(op.scope), op.name);
      return;
  }
}

export function sqliteFleet(db: () => Db): Store['fleet'] {
  let stmts: Stmts | undefined;
  let stmtsDb: Db | undefined;
  const st = (): Stmts => {
    const d = db();
    if (stmtsDb !== d) {
      stmts = prepare(d);
      stmtsDb = d;
    }
    return stmts!;
  };
  return {
    generation: async () => (st().generation.get() as { generation: number }).generation,
    load: async () => {
      const s = st();
      // One read transaction: every table as of the same commit.
      return db().transaction((): FleetData => {
        const generation = (s.generation.get() as { generation: number }).generation;
        const groupsOf = new Map<string, string[]>();
        for (const [mac, grp] of s.phoneGroups.all() as Array<[string, string]>) {
          const l = groupsOf.get(mac);
          if (l) l.push(grp);
          else groupsOf.set(mac, [grp]);
        }
        const phones = (s.phones.all() as FleetPhoneRow[]).map((r) => fleetPhoneFromRow(r, groupsOf.get(r.mac) ?? []));
        const tenantOf = new Map<string, string>(phones.map((ph) => [ph.mac, ph.tenant]));
        // Rows come by scope: the settings of one scope share its Scope record (one per scope, not per row).
        const settings: Setting[] = [];
        let scope: Scope | undefined;
        for (const [kind, tenant, name, param, value, sealed] of s.settings.all() as Array<[ScopeKind, string, string, string, string, number]>) {
          if (!scope || scope.kind !== kind || scope.name !== name || (kind !== 'phone' && scope.tenant !== tenant)) {
            scope = kind === 'phone' ? { kind, tenant: tenantOf.get(name) ?? '', name } : { kind, tenant, name };
          }
          settings.push({ scope, name: param, value, sealed: sealed === 1 });
        }
        return {
          generation,
          tenants: (s.tenants.all() as Array<{ name: string; created_at: number }>).map((r): Tenant => ({ name: r.name, createdAt: new Date(r.created_at) })),
          sites: s.sites.all() as FleetData['sites'],
          groups: s.groups.all() as FleetData['groups'],
          phones,
          settings,
        };
      })();
    },
    apply: async (ops) => {
      const s = st();
      return db().transaction((): number => {
        for (const op of ops) applyOp(s, op);
        const generation = (s.bump.get() as { generation: number }).generation;
        const scopes = fleetLogScopes(ops);
        if (scopes === 'full') {
          s.logReset.run(generation);
          s.logPrune.run(generation);
        } else {
          for (const [kind, tenant, name] of scopes.values()) s.logAdd.run(generation, kind, tenant, name);
          if (generation % 50 === 0) {
            s.logReset.run(generation - LOG_KEEP);
            s.logPrune.run(generation - LOG_KEEP);
          }
        }
        return generation;
      }).immediate();
    },
    changesSince: async (since) => {
      const s = st();
      return db().transaction((): FleetChanges | undefined => {
        const g = s.logFrom.get() as { generation: number; log_from: number };
        if (!Number.isInteger(since) || since < g.log_from || since > g.generation) return undefined;
        const scopes = since === g.generation ? [] : (s.logSince.all(since) as Array<[string, string, string]>);
        if (scopes.length > LOG_MAX) return undefined; // a whole load is as cheap
        const out: FleetChanges = {
          generation: g.generation,
          tenants: (s.tenants.all() as Array<{ name: string; created_at: number }>).map((r): Tenant => ({ name: r.name, createdAt: new Date(r.created_at) })),
          sites: s.sites.all() as FleetChanges['sites'],
          groups: s.groups.all() as FleetChanges['groups'],
          scopes: [],
          phones: [],
          settings: [],
        };
        for (const [kind, tenant, name] of scopes) {
          out.scopes.push(logScope(kind, tenant, name));
          if (kind === 'phone') {
            const r = s.phoneOne.get(name) as FleetPhoneRow | undefined;
            if (r) out.phones.push(fleetPhoneFromRow(r, s.phoneGroupsOne.all(name) as string[]));
          }
          for (const [scope_kind, scope_tenant, scope_name, n, value, sealed, phone_tenant] of s.scopeRows.all(kind, tenant, name) as Array<[string, string, string, string, string, number, string | null]>) {
            out.settings.push(fleetSettingFromRow({ scope_kind, scope_tenant, scope_name, name: n, value, sealed, phone_tenant }));
          }
        }
        return out;
      })();
    },
  };
}
