// What the fleet routes share (issue 15 "Resources" over the managed fleet of issue 14): the admin
// service's fleet (AdminService.fleet, src/core/admin-fleet.ts — every change recorded with the
// token's name), managed records as JSON, settings checked against the parameter catalogue
// exactly as the CLI's (src/fleet/validate.ts) with the JSON pointer of the offending field, and
// the fleet's refusals turned into problem+json with their status.
import type { AdminService } from '../../core/admin.ts';
import type { Group, Mac, ManagedPhone, Scope, Site, Tenant } from '../../domain.ts';
import { isProvError } from '../../errors.ts';
import { settingProblem } from '../../fleet/validate.ts';
import type { ApplyOptions, ApplyResult, EffectiveSetting, FleetCommand } from '../../fleet/types.ts';
import { etagOf } from '../etag.ts';
import { ApiError, pointerToken } from '../problem.ts';
import type { ApiRequest, JSONSchema } from '../route.ts';
import { schemas } from '../route.ts';
import { iso } from './common.ts';

export type MaybePromise<T> = T | Promise<T>;
export type SettingView = { name: string; value: string | { set: true } };

/** The fleet part of the admin service, as the routes use it (issue 14's AdminFleet). */
export interface FleetApi {
  apply(commands: FleetCommand[], opts?: ApplyOptions): Promise<ApplyResult>;
  importCsv(bytes: Buffer, file: string, opts?: ApplyOptions): Promise<{ added: number; changed: number; unchanged: number; errors: string[] }>;
  exportCsv(o: { tenant?: string; withSecrets?: boolean }): MaybePromise<string>;
  tenants(): MaybePromise<Tenant[]>;
  sites(tenant: string): MaybePromise<Site[]>;
  groups(tenant: string): MaybePromise<Group[]>;
  phones(f: { tenant?: string; site?: string; group?: string; model?: string; macPrefix?: string; label?: string }): MaybePromise<ManagedPhone[]>;
  phone(mac: Mac): MaybePromise<ManagedPhone | undefined>;
  settings(scope: Scope): MaybePromise<SettingView[]>;
  effective(mac: Mac): MaybePromise<EffectiveSetting[]>;
}

/** The fleet (AdminService.fleet), or a 404 problem on a server built without one. */
export function fleetApi(admin: AdminService): FleetApi {
  const f = admin.fleet as unknown as FleetApi;
  try {
    f.tenants();
  } catch (err) {
    if (isProvError(err) && !err.code.startsWith('PP_FLEET_KEY')) throw new ApiError('PP_API_NOT_FOUND', 'this server has no managed fleet', { status: 404 });
    throw err;
  }
  return f;
}

/** Runs a fleet write; its refusals (PP_FLEET_*) become problems with their status and, when known, a pointer. */
export async function fleetCall<T>(fn: () => Promise<T> | T, pointer?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isProvError(err) && err.code.startsWith('PP_FLEET_') && err.def.http !== undefined) {
      // The fleet names the field it refused (a FleetRefusal): a phone field, or a parameter name.
      const field = (err as { field?: unknown }).field;
      const at = pointer ?? (typeof field === 'string' && field !== '' ? (field.includes('.') ? `/settings/${pointerToken(field)}` : `/${pointerToken(field)}`) : undefined);
      throw new ApiError(err.code, err.message, { status: err.def.http, ...(err.hint ? { hint: err.hint } : {}), ...(at !== undefined ? { pointer: at } : {}) });
    }
    throw err;
  }
}

/**
 * Checks every setting of a write against the catalogue before anything is applied, so the
 * problem names the field: `/settings/reg.1.auth.password`. A null value (unset) checks the name.
 * The message never quotes a value (it may be a secret).
 */
export function checkSettings(values: Record<string, string | null | { set: true }>, base = '/settings'): void {
  for (const [name, v] of Object.entries(values)) {
    const p = settingProblem(name, typeof v === 'string' ? v : '');
    if (!p || (typeof v !== 'string' && p.code !== 'PP_FLEET_PARAM_UNKNOWN')) continue;
    const msg = p.code === 'PP_FLEET_PARAM_UNKNOWN' ? p.message : `${name}: ${p.message}`;
    throw new ApiError(p.code, msg, { status: 400, pointer: `${base}/${pointerToken(name)}`, ...(p.hint ? { hint: p.hint } : {}) });
  }
}

/** Settings as the API shows them: name → value, a secret as {"set": true}. */
export function settingsJson(view: readonly SettingView[]): Record<string, string | { set: true }> {
  const out: Record<string, string | { set: true }> = {};
  for (const s of [...view].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) out[s.name] = typeof s.value === 'string' ? s.value : { set: true };
  return out;
}

export const settingsSchema: JSONSchema = {
  type: 'object',
  description: 'parameter name → value; a secret is {"set": true}',
  additionalProperties: { anyOf: [{ type: 'string' }, schemas.secretSet] },
};

export const managedPhoneSchema: JSONSchema = {
  type: 'object',
  properties: {
    mac: { type: 'string' },
    tenant: { type: 'string' },
    model: { type: 'string' },
    label: { type: 'string' },
    site: { type: 'string' },
    groups: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    settings: settingsSchema,
  },
  required: ['mac', 'tenant', 'groups'],
};

export function managedPhoneJson(p: ManagedPhone): Record<string, unknown> {
  return { mac: p.mac, tenant: p.tenant, model: p.model, label: p.label, site: p.site, groups: [...p.groups], createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) };
}

/** A tenant name in a path, visible to the token (another tenant's: 404, as a missing one). */
export function checkTenantParam(req: ApiRequest, t: string): void {
  if (req.tenant !== undefined && req.tenant !== t) throw new ApiError('PP_API_NOT_FOUND', `tenant ${t} not found`, { status: 404 });
}

/** What a malformed scope is told (the text sent is not quoted back). */
export const SCOPE_FORMS = 'the scope is not one of: global, tenant:T, site:S, site:T/S, group:G, group:T/G, phone:MAC (names: lower-case letters, digits, - and _)';

/**
 * The ETag of a view with settings. A secret shows as {"set": true} whatever its value, so a view
 * holding one also carries the fleet's generation: a secret changed by someone else then changes
 * the tag (a spurious 412 after an unrelated fleet change is the price; a silent overwrite never
 * happens). No hash of a secret ever goes into a tag.
 */
export function settingsEtag(admin: AdminService, view: Record<string, unknown>, settings: Record<string, string | { set: true }>): string {
  const hasSecret = Object.values(settings).some((v) => typeof v !== 'string');
  return etagOf(hasSecret ? { view, generation: admin.fleet.files.stats.generation } : view);
}
