// The managed fleet on PostgreSQL (migration 6; issue 14, Model and Scale). apply() is one
// transaction: it first bumps the one-row generation (whose row lock makes two nodes' applies
// wait for each other instead of interleaving), then collects the upserts (putTenant/Site/Group/
// Phone, setSetting, unsetSetting; the last op on a key wins) and writes them as a few multi-row
// statements over unnest() arrays — never one round trip per op. Upserts of different tables
// commute, so only a remove (which cascades across tables) flushes what was collected before
// it, keeping the ops' order. load() reads every table in one REPEATABLE READ snapshot; each apply
// logs the scopes it wrote (migration 8) and changesSince() reads only those.
import type pg from 'pg';
import type { FleetData, FleetOp, ManagedPhone, Scope, ScopeKind, Setting, Tenant } from '../../domain.ts';
import { macKey } from '../fold-sighting.ts';
import { checkFleetOp, fleetLogScopes, fleetPhoneFromRow, fleetPhoneToValues, fleetSettingFromRow, LOG_KEEP, LOG_MAX, logScope, scopeCols, settingKey, type FleetPhoneRow } from '../fleet-rows.ts';
import type { FleetChanges, Store } from '../store.ts';
import type { PgConnection } from './connection.ts';

/** Rows per multi-row statement: big enough that 80,000 settings are a handful of statements. */
const BATCH = 10_000;

type SettingRow = [kind: string, tenant: string, name: string, param: string, value: string, sealed: boolean];

class Pending {
  tenants = new Map<string, number>();
  sites = new Map<string, [string, string]>();
  groups = new Map<string, [string, string]>();
  phones = new Map<string, ManagedPhone>();
  /** settingKey → the row to write, or null to delete it. */
  settings = new Map<string, SettingRow | null>();

  get empty(): boolean {
    return this.tenants.size + this.sites.size + this.groups.size + this.phones.size + this.settings.size === 0;
  }
}

/** `cols` columns of `rows`, `BATCH` rows at a time. */
async function batched<R extends unknown[]>(rows: R[], ncols: number, run: (cols: unknown[][]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    const part = rows.slice(i, i + BATCH);
    await run(Array.from({ length: ncols }, (_, c) => part.map((r) => r[c])));
  }
}

async function flush(c: pg.PoolClient, p: Pending): Promise<void> {
  if (p.empty) return;
  await batched([...p.tenants], 2, (v) => c.query({
    name: 'fleet_tenants_put',
    text: 'INSERT INTO fleet_tenants (name, created_at) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (name) DO NOTHING',
    values: v,
  }));
  await batched([...p.sites.values()], 2, (v) => c.query({
    name: 'fleet_sites_put',
    text: 'INSERT INTO fleet_sites (tenant, name) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING',
    values: v,
  }));
  await batched([...p.groups.values()], 2, (v) => c.query({
    name: 'fleet_groups_put',
    text: 'INSERT INTO fleet_groups (tenant, name) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING',
    values: v,
  }));
  const phones = [...p.phones.values()];
  await batched(phones.map(fleetPhoneToValues), 7, (v) => c.query({
    name: 'fleet_phones_put',
    text: `INSERT INTO fleet_phones (mac, tenant, model, label, site, created_at, updated_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
           ON CONFLICT (mac) DO UPDATE SET tenant = excluded.tenant, model = excluded.model, label = excluded.label,
             site = excluded.site, updated_at = excluded.updated_at
           WHERE (fleet_phones.tenant, fleet_phones.model, fleet_phones.label, fleet_phones.site, fleet_phones.updated_at)
             IS DISTINCT FROM (excluded.tenant, excluded.model, excluded.label, excluded.site, excluded.updated_at)`,
    values: v,
  }));
  await batched(phones.map((ph) => [macKey(ph.mac)]), 1, (v) => c.query({
    name: 'fleet_phone_groups_clear',
    text: 'DELETE FROM fleet_phone_groups WHERE mac = ANY($1::text[])',
    values: v,
  }));
  const groupRows = phones.flatMap((ph) => ph.groups.map((g, i): [string, number, string] => [macKey(ph.mac), i, g]));
  await batched(groupRows, 3, (v) => c.query({
    name: 'fleet_phone_groups_put',
    text: 'INSERT INTO fleet_phone_groups (mac, pos, grp) SELECT * FROM unnest($1::text[], $2::int[], $3::text[])',
    values: v,
  }));
  const sets: SettingRow[] = [];
  const unsets: string[][] = [];
  for (const [k, row] of p.settings) {
    if (row) sets.push(row);
    else unsets.push(k.split('\0'));
  }
  await batched(sets, 6, (v) => c.query({
    name: 'fleet_settings_put',
    text: `INSERT INTO fleet_settings (scope_kind, scope_tenant, scope_name, name, value, sealed)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])
           ON CONFLICT (scope_kind, scope_tenant, scope_name, name) DO UPDATE SET value = excluded.value, sealed = excluded.sealed
           WHERE (fleet_settings.value, fleet_settings.sealed) IS DISTINCT FROM (excluded.value, excluded.sealed)`,
    values: v,
  }));
  await batched(unsets, 4, (v) => c.query({
    name: 'fleet_settings_unset',
    text: `DELETE FROM fleet_settings s USING unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(k, t, n, p)
           WHERE s.scope_kind = u.k AND s.scope_tenant = u.t AND s.scope_name = u.n AND s.name = u.p`,
    values: v,
  }));
  Object.assign(p, new Pending());
}

/** A remove, with its cascade (FleetOp in src/domain.ts), run at once. */
async function remove(c: pg.PoolClient, op: Extract<FleetOp, { op: 'removeTenant' | 'removeSite' | 'removeGroup' | 'removePhone' }>): Promise<void> {
  const q = (name: string, text: string, values: unknown[]) => c.query({ name, text, values });
  switch (op.op) {
    case 'removeTenant':
      await q('fleet_tenant_rm_phone_settings', `DELETE FROM fleet_settings WHERE scope_kind = 'phone' AND scope_tenant = ''
        AND scope_name IN (SELECT mac FROM fleet_phones WHERE tenant = $1)`, [op.name]);
      await q('fleet_tenant_rm_phone_groups', 'DELETE FROM fleet_phone_groups WHERE mac IN (SELECT mac FROM fleet_phones WHERE tenant = $1)', [op.name]);
      await q('fleet_tenant_rm_phones', 'DELETE FROM fleet_phones WHERE tenant = $1', [op.name]);
      await q('fleet_tenant_rm_settings', `DELETE FROM fleet_settings WHERE scope_kind IN ('tenant', 'site', 'group') AND scope_tenant = $1`, [op.name]);
      await q('fleet_tenant_rm_sites', 'DELETE FROM fleet_sites WHERE tenant = $1', [op.name]);
      await q('fleet_tenant_rm_groups', 'DELETE FROM fleet_groups WHERE tenant = $1', [op.name]);
      await q('fleet_tenant_rm', 'DELETE FROM fleet_tenants WHERE name = $1', [op.name]);
      return;
    case 'removeSite':
      await q('fleet_site_rm', 'DELETE FROM fleet_sites WHERE tenant = $1 AND name = $2', [op.tenant, op.name]);
      await q('fleet_scope_rm_settings', 'DELETE FROM fleet_settings WHERE scope_kind = $1 AND scope_tenant = $2 AND scope_name = $3', ['site', op.tenant, op.name]);
      await q('fleet_site_rm_phones', 'UPDATE fleet_phones SET site = NULL WHERE tenant = $1 AND site = $2', [op.tenant, op.name]);
      return;
    case 'removeGroup':
      await q('fleet_group_rm', 'DELETE FROM fleet_groups WHERE tenant = $1 AND name = $2', [op.tenant, op.name]);
      await q('fleet_scope_rm_settings', 'DELETE FROM fleet_settings WHERE scope_kind = $1 AND scope_tenant = $2 AND scope_name = $3', ['group', op.tenant, op.name]);
      await q('fleet_group_rm_phones', 'DELETE FROM fleet_phone_groups WHERE grp = $1 AND mac IN (SELECT mac FROM fleet_phones WHERE tenant = $2)', [op.name, op.tenant]);
      return;
    case 'removePhone': {
      const mac = macKey(op.mac);
      await q('fleet_phone_rm', 'DELETE FROM fleet_phones WHERE mac = $1', [mac]);
      await q('fleet_phone_rm_groups', 'DELETE FROM fleet_phone_groups WHERE mac = $1', [mac]);
      await q('fleet_scope_rm_settings', 'DELETE FROM fleet_settings WHERE scope_kind = $1 AND scope_tenant = $2 AND scope_name = $3', ['phone', '', mac]);
      return;
    }
  }
}

async function apply(c: pg.PoolClient, ops: FleetOp[]): Promise<number> {
  const gen = await c.query<{ generation: string }>({ name: 'fleet_bump', text: 'UPDATE fleet_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation' });
  const p = new Pending();
  for (const op of ops) {
    checkFleetOp(op);
    switch (op.op) {
      case 'putTenant':
        // An upsert keeps the first createdAt: within one apply too.
        if (!p.tenants.has(op.tenant.name)) p.tenants.set(op.tenant.name, op.tenant.createdAt.getTime());
        break;
      case 'putSite':
        p.sites.set(`${op.site.tenant}/${op.site.name}`, [op.site.tenant, op.site.name]);
        break;
      case 'putGroup':
        p.groups.set(`${op.group.tenant}/${op.group.name}`, [op.group.tenant, op.group.name]);
        break;
      case 'putPhone': {
        // Two puts of one phone in one apply: the first createdAt, the last of everything else.
        const mac = macKey(op.phone.mac);
        const first = p.phones.get(mac);
        p.phones.set(mac, first ? { ...op.phone, createdAt: first.createdAt } : op.phone);
        break;
      }
      case 'setSetting': {
        const s = op.setting;
        p.settings.set(settingKey(s.scope, s.name), [...scopeCols(s.scope), s.name, s.value, !!s.sealed]);
        break;
      }
      case 'unsetSetting':
        p.settings.set(settingKey(op.scope, op.name), null);
        break;
      default:
        await flush(c, p);
        await remove(c, op);
    }
  }
  await flush(c, p);
  const generation = Number(gen.rows[0]!.generation);
  await writeLog(c, generation, ops);
  return generation;
}

/** The change log's rows of this apply (fleet-rows.ts fleetLogScopes), or log_from moved past it. */
async function writeLog(c: pg.PoolClient, generation: number, ops: FleetOp[]): Promise<void> {
  const scopes = fleetLogScopes(ops);
  const reset = async (to: number) => {
    await c.query({ name: 'fleet_log_reset', text: 'UPDATE fleet_generation SET log_from = GREATEST(log_from, $1) WHERE id = 1', values: [to] });
    await c.query({ name: 'fleet_log_prune', text: 'DELETE FROM fleet_log WHERE generation <= $1', values: [to] });
  };
  if (scopes === 'full') return reset(generation);
  if (scopes.size > 0) {
    const rows = [...scopes.values()];
    await c.query({
      name: 'fleet_log_add',
      text: `INSERT INTO fleet_log (generation, scope_kind, scope_tenant, scope_name)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
      values: [generation, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    });
  }
  if (generation % 50 === 0) await reset(generation - LOG_KEEP);
}

async function changesSince(c: pg.PoolClient, since: number): Promise<FleetChanges | undefined> {
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const q = <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[] = []) => c.query<R>({ name, text, values });
    const g = (await q<{ generation: string; log_from: string }>('fleet_log_from', 'SELECT generation, log_from FROM fleet_generation WHERE id = 1')).rows[0]!;
    const generation = Number(g.generation);
    if (!Number.isInteger(since) || since < Number(g.log_from) || since > generation) {
      await c.query('COMMIT');
      return undefined;
    }
    const scopes = (await q<{ scope_kind: string; scope_tenant: string; scope_name: string }>('fleet_log_since',
      'SELECT DISTINCT scope_kind, scope_tenant, scope_name FROM fleet_log WHERE generation > $1', [since])).rows;
    if (scopes.length > LOG_MAX) {
      await c.query('COMMIT');
      return undefined; // a whole load is as cheap
    }
    const tenants = await q<{ name: string; created_at: string }>('fleet_tenants', 'SELECT name, created_at FROM fleet_tenants ORDER BY name');
    const sites = await q<{ tenant: string; name: string }>('fleet_sites', 'SELECT tenant, name FROM fleet_sites ORDER BY tenant, name');
    const groups = await q<{ tenant: string; name: string }>('fleet_groups', 'SELECT tenant, name FROM fleet_groups ORDER BY tenant, name');
    const macs = scopes.filter((s) => s.scope_kind === 'phone').map((s) => s.scope_name);
    const phones = await q<FleetPhoneRow & pg.QueryResultRow>('fleet_phones_some',
      'SELECT mac, tenant, model, label, site, created_at, updated_at FROM fleet_phones WHERE mac = ANY($1::text[]) ORDER BY mac', [macs]);
    const pgr = await q<{ mac: string; grp: string }>('fleet_phone_groups_some', 'SELECT mac, grp FROM fleet_phone_groups WHERE mac = ANY($1::text[]) ORDER BY mac, pos', [macs]);
    const settings = await c.query<[string, string, string, string, string, boolean, string | null]>({
      name: 'fleet_settings_some',
      rowMode: 'array',
      text: `SELECT s.scope_kind, s.scope_tenant, s.scope_name, s.name, s.value, s.sealed, p.tenant AS phone_tenant
        FROM fleet_settings s JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(k, t, n)
          ON s.scope_kind = u.k AND s.scope_tenant = u.t AND s.scope_name = u.n
        LEFT JOIN fleet_phones p ON s.scope_kind = 'phone' AND p.mac = s.scope_name
        ORDER BY s.scope_kind, s.scope_tenant, s.scope_name, s.name`,
      values: [scopes.map((s) => s.scope_kind), scopes.map((s) => s.scope_tenant), scopes.map((s) => s.scope_name)],
    });
    await c.query('COMMIT');
    const groupsOf = new Map<string, string[]>();
    for (const r of pgr.rows) {
      const l = groupsOf.get(r.mac);
      if (l) l.push(r.grp);
      else groupsOf.set(r.mac, [r.grp]);
    }
    return {
      generation,
      tenants: tenants.rows.map((r): Tenant => ({ name: r.name, createdAt: new Date(Number(r.created_at)) })),
      sites: sites.rows.map((r) => ({ tenant: r.tenant, name: r.name })),
      groups: groups.rows.map((r) => ({ tenant: r.tenant, name: r.name })),
      scopes: scopes.map((s) => logScope(s.scope_kind, s.scope_tenant, s.scope_name)),
      phones: phones.rows.map((r) => fleetPhoneFromRow(r, groupsOf.get(r.mac) ?? [])),
      settings: settings.rows.map(([scope_kind, scope_tenant, scope_name, name, value, sealed, phone_tenant]) =>
        fleetSettingFromRow({ scope_kind, scope_tenant, scope_name, name, value, sealed, phone_tenant })),
    };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function load(c: pg.PoolClient): Promise<FleetData> {
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const q = <R extends pg.QueryResultRow>(name: string, text: string) => c.query<R>({ name, text });
    const gen = await q<{ generation: string }>('fleet_generation', 'SELECT generation FROM fleet_generation WHERE id = 1');
    const tenants = await q<{ name: string; created_at: string }>('fleet_tenants', 'SELECT name, created_at FROM fleet_tenants ORDER BY name');
    const sites = await q<{ tenant: string; name: string }>('fleet_sites', 'SELECT tenant, name FROM fleet_sites ORDER BY tenant, name');
    const groups = await q<{ tenant: string; name: string }>('fleet_groups', 'SELECT tenant, name FROM fleet_groups ORDER BY tenant, name');
    const phones = await q<FleetPhoneRow & pg.QueryResultRow>('fleet_phones', 'SELECT mac, tenant, model, label, site, created_at, updated_at FROM fleet_phones ORDER BY mac');
    const pg_ = await q<{ mac: string; grp: string }>('fleet_phone_groups', 'SELECT mac, grp FROM fleet_phone_groups ORDER BY mac, pos');
    // The big one (8 rows a phone): rows as arrays, a third cheaper to hand over than objects; a
    // phone scope's tenant is looked up in the phones just read rather than joined per row.
    const settings = await c.query<[ScopeKind, string, string, string, string, boolean]>({
      name: 'fleet_settings_all',
      rowMode: 'array',
      text: `SELECT scope_kind, scope_tenant, scope_name, name, value, sealed FROM fleet_settings
        ORDER BY scope_kind, scope_tenant, scope_name, name`,
    });
    await c.query('COMMIT');
    const groupsOf = new Map<string, string[]>();
    for (const r of pg_.rows) {
      const l = groupsOf.get(r.mac);
      if (l) l.push(r.grp);
      else groupsOf.set(r.mac, [r.grp]);
    }
    const phoneList = phones.rows.map((r) => fleetPhoneFromRow(r, groupsOf.get(r.mac) ?? []));
    const tenantOf = new Map<string, string>(phoneList.map((ph) => [ph.mac, ph.tenant]));
    // Rows come by scope: the settings of one scope share its Scope record.
    const settingList: Setting[] = [];
    let scope: Scope | undefined;
    for (const [kind, tenant, name, param, value, sealed] of settings.rows) {
      if (!scope || scope.kind !== kind || scope.name !== name || (kind !== 'phone' && scope.tenant !== tenant)) {
        scope = kind === 'phone' ? { kind, tenant: tenantOf.get(name) ?? '', name } : { kind, tenant, name };
      }
      settingList.push({ scope, name: param, value, sealed: sealed === true });
    }
    return {
      generation: Number(gen.rows[0]!.generation),
      tenants: tenants.rows.map((r): Tenant => ({ name: r.name, createdAt: new Date(Number(r.created_at)) })),
      sites: sites.rows.map((r) => ({ tenant: r.tenant, name: r.name })),
      groups: groups.rows.map((r) => ({ tenant: r.tenant, name: r.name })),
      phones: phoneList,
      settings: settingList,
    };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export function pgFleet(db: PgConnection): Store['fleet'] {
  return {
    generation: async () => {
      const r = await db.query<{ generation: string }>({ name: 'fleet_generation', text: 'SELECT generation FROM fleet_generation WHERE id = 1' });
      return Number(r.rows[0]!.generation);
    },
    load: () => db.withClient(load),
    changesSince: (since) => db.withClient((c) => changesSince(c, since)),
    apply: (ops) => db.tx((c) => apply(c, ops)),
  };
}
