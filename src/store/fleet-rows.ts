// The managed fleet's, API tokens' and check-sync jobs' row shapes (migration 6), shared by the
// SQL backends and the in-memory test store: how a setting's scope becomes its key columns, the
// order load() returns things in, the one sanity check every apply makes of its ops, and the
// conversions of rows (bigint as number or string, booleans as 0/1 or true/false) to records.
import type { ApiToken, CheckSyncJob, CheckSyncTarget, CheckSyncTargetStatus, FleetOp, Mac, ManagedPhone, Scope, ScopeKind, Setting, TokenRole } from '../domain.ts';
import { ProvError } from '../errors.ts';
import { macKey } from './fold-sighting.ts';

export const SCOPE_KINDS: readonly ScopeKind[] = ['global', 'tenant', 'site', 'group', 'phone'];
const OPS = new Set<FleetOp['op']>(['putTenant', 'removeTenant', 'putSite', 'removeSite', 'putGroup', 'removeGroup', 'putPhone', 'removePhone', 'setSetting', 'unsetSetting']);

/**
 * A setting's key columns (scope_kind, scope_tenant, scope_name). `global` is ('', ''); `tenant:T`
 * is (T, T); a phone scope is ('', MAC): a phone's settings follow the phone, whatever tenant the
 * caller wrote (load() reports the phone's tenant), as src/fleet/scope.ts scopeKey() does.
 */
export function scopeCols(s: Scope): [ScopeKind, string, string] {
  switch (s.kind) {
    case 'global':
      return ['global', '', ''];
    case 'tenant':
      return ['tenant', s.tenant, s.tenant];
    case 'phone':
      return ['phone', '', macKey(s.name)];
    default:
      return [s.kind, s.tenant, s.name];
  }
}

/** One Map key per stored setting. */
export function settingKey(s: Scope, name: string): string {
  return [...scopeCols(s), name].join('\0');
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** load()'s order of settings: by key columns, then name, in byte order (SQL: ORDER BY … COLLATE "C"). */
export function compareSettings(a: Setting, b: Setting): number {
  const ka = scopeCols(a.scope);
  const kb = scopeCols(b.scope);
  return cmp(ka[0], kb[0]) || cmp(ka[1], kb[1]) || cmp(ka[2], kb[2]) || cmp(a.name, b.name);
}

function malformed(what: string): ProvError {
  return new ProvError('PP_INTERNAL', `malformed fleet operation: ${what}`, { hint: 'The fleet service validates every operation before the store sees it; this is a bug.' });
}

const str = (v: unknown) => typeof v === 'string' && v !== '';

/**
 * The store's own check of one op, made when apply() reaches it (so the ops before it were already
 * written in the transaction that this failure then rolls back): the op kind and the shape of what
 * it names. Validation of names and values is the fleet service's.
 */
export function checkFleetOp(op: FleetOp): void {
  if (!op || !OPS.has(op.op)) throw malformed(`unknown op ${JSON.stringify((op as { op?: unknown } | undefined)?.op)}`);
  switch (op.op) {
    case 'putTenant':
      if (!str(op.tenant?.name) || !(op.tenant.createdAt instanceof Date)) throw malformed('putTenant without a name or createdAt');
      return;
    case 'putSite':
    case 'putGroup': {
      const x = op.op === 'putSite' ? op.site : op.group;
      if (!str(x?.tenant) || !str(x?.name)) throw malformed(`${op.op} without a tenant or name`);
      return;
    }
    case 'putPhone': {
      const p = op.phone;
      if (!p || macKey(p.mac ?? '').length !== 12 || !str(p.tenant) || !Array.isArray(p.groups)) throw malformed('putPhone without a MAC, tenant or groups');
      if (!(p.createdAt instanceof Date) || !(p.updatedAt instanceof Date)) throw malformed('putPhone without createdAt or updatedAt');
      return;
    }
    case 'setSetting':
    case 'unsetSetting': {
      const scope = op.op === 'setSetting' ? op.setting?.scope : op.scope;
      const name = op.op === 'setSetting' ? op.setting?.name : op.name;
      if (!scope || !SCOPE_KINDS.includes(scope.kind)) throw malformed(`${op.op} at scope kind ${JSON.stringify(scope?.kind)}`);
      if (!str(name)) throw malformed(`${op.op} without a parameter name`);
      if (op.op === 'setSetting' && typeof op.setting.value !== 'string') throw malformed(`setSetting ${name} without a string value`);
      return;
    }
    default:
      return;
  }
}

/**
 * The change log (migration 8, Store.fleet.changesSince): an apply writes one row per scope it
 * touched — a phone put or removed as its phone scope — at its generation. A remove of a tenant,
 * site or group (cascades over many phones) or an apply touching more than LOG_MAX scopes writes
 * none and moves `log_from` to its generation instead: a node behind it loads the whole fleet,
 * which is then about as cheap. Rows older than LOG_KEEP generations are pruned the same way.
 */
export const LOG_MAX = 1000;
export const LOG_KEEP = 500;

/** The scopes an apply's ops touch (by settingKey-style key), or 'full' when only a whole load will do. */
export function fleetLogScopes(ops: readonly FleetOp[]): Map<string, [ScopeKind, string, string]> | 'full' {
  const out = new Map<string, [ScopeKind, string, string]>();
  const add = (cols: [ScopeKind, string, string]) => out.set(cols.join('\0'), cols);
  for (const op of ops) {
    switch (op?.op) {
      case 'putPhone':
        add(['phone', '', macKey(op.phone.mac)]);
        break;
      case 'removePhone':
        add(['phone', '', macKey(op.mac)]);
        break;
      case 'setSetting':
        add(scopeCols(op.setting.scope));
        break;
      case 'unsetSetting':
        add(scopeCols(op.scope));
        break;
      case 'removeTenant':
      case 'removeSite':
      case 'removeGroup':
        return 'full';
      default:
        break; // putTenant, putSite, putGroup: changesSince reads those tables whole
    }
    if (out.size > LOG_MAX) return 'full';
  }
  return out;
}

/** A logged scope back to a Scope (a phone scope's tenant is '': the phone's is in `phones`). */
export function logScope(kind: string, tenant: string, name: string): Scope {
  return { kind: kind as ScopeKind, tenant, name };
}

type Big = number | string;
type Flag = number | boolean;
const num = (v: Big): number => (typeof v === 'number' ? v : Number(v));
const flag = (v: Flag | string): boolean => v === true || v === 1 || v === '1';

export interface FleetPhoneRow {
  mac: string; tenant: string; model: string | null; label: string | null; site: string | null; created_at: Big; updated_at: Big;
}
export interface FleetSettingRow {
  scope_kind: string; scope_tenant: string; scope_name: string; name: string; value: string; sealed: Flag; phone_tenant?: string | null;
}

export function fleetPhoneToValues(p: ManagedPhone): [string, string, string | null, string | null, string | null, number, number] {
  return [macKey(p.mac), p.tenant, p.model ?? null, p.label ?? null, p.site ?? null, p.createdAt.getTime(), p.updatedAt.getTime()];
}

export function fleetPhoneFromRow(r: FleetPhoneRow, groups: string[]): ManagedPhone {
  const p: ManagedPhone = { mac: r.mac as Mac, tenant: r.tenant, groups, createdAt: new Date(num(r.created_at)), updatedAt: new Date(num(r.updated_at)) };
  if (r.model !== null) p.model = r.model;
  if (r.label !== null) p.label = r.label;
  if (r.site !== null) p.site = r.site;
  return p;
}

/** A setting row back to a Setting; a phone scope's tenant is the phone's (`phone_tenant`, '' for no such phone). */
export function fleetSettingFromRow(r: FleetSettingRow): Setting {
  const kind = r.scope_kind as ScopeKind;
  const scope: Scope = kind === 'phone' ? { kind, tenant: r.phone_tenant ?? '', name: r.scope_name } : { kind, tenant: r.scope_tenant, name: r.scope_name };
  return { scope, name: r.name, value: r.value, sealed: flag(r.sealed) };
}

export interface TokenRow { name: string; role: string; tenant: string | null; hash: string; created_at: Big }

export function tokenToValues(t: ApiToken): [string, string, string | null, string, number] {
  return [t.name, t.role, t.tenant ?? null, t.hash, t.createdAt.getTime()];
}

export function tokenFromRow(r: TokenRow): ApiToken {
  const t: ApiToken = { name: r.name, role: r.role as TokenRole, hash: r.hash, createdAt: new Date(num(r.created_at)) };
  if (r.tenant !== null) t.tenant = r.tenant;
  return t;
}

export interface JobRow { id: string; created_at: Big; who: string; tenant: string | null; request: string }
export interface TargetRow { job_id: string; pos: Big; mac: string; status: string; detail: string | null; at: Big | null }

export function jobToValues(j: CheckSyncJob): [string, number, string, string | null, string] {
  return [j.id, j.createdAt.getTime(), j.who, j.tenant ?? null, JSON.stringify(j.request ?? null)];
}

export function targetToValues(t: CheckSyncTarget): [string, string, string | null, number | null] {
  return [macKey(t.mac), t.status, t.detail ?? null, t.at ? t.at.getTime() : null];
}

export function targetFromRow(r: TargetRow): CheckSyncTarget {
  const t: CheckSyncTarget = { mac: r.mac as Mac, status: r.status as CheckSyncTargetStatus };
  if (r.detail !== null) t.detail = r.detail;
  if (r.at !== null) t.at = new Date(num(r.at));
  return t;
}

/** Jobs with their targets (rows of several jobs, each job's targets in `pos` order). */
export function jobsFromRows(jobs: JobRow[], targets: TargetRow[]): CheckSyncJob[] {
  const by = new Map<string, CheckSyncTarget[]>();
  for (const t of [...targets].sort((a, b) => num(a.pos) - num(b.pos))) {
    const l = by.get(t.job_id) ?? [];
    l.push(targetFromRow(t));
    by.set(t.job_id, l);
  }
  return jobs.map((r) => {
    const j: CheckSyncJob = { id: r.id, createdAt: new Date(num(r.created_at)), who: r.who, request: JSON.parse(r.request) as unknown, targets: by.get(r.id) ?? [] };
    if (r.tenant !== null) j.tenant = r.tenant;
    return j;
  });
}

/** Check-sync jobs listed at once, at most. */
export const MAX_JOB_ROWS = 10_000;
export function jobLimit(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.min(Math.floor(n), MAX_JOB_ROWS)) : MAX_JOB_ROWS;
}
