// Managed phones over the REST API (issue 15 "Resources", "Lists", "Writes"): the list (filters
// tenant, site, group, model, application version, last seen, MAC prefix, label; sortable; stable
// cursor), one phone with its phone-scope settings and ETag, PUT to create (the same body again
// 200, a different one 409), PATCH with If-Match (428 without, 412 on a conflict), DELETE.
// Settings are checked against the catalogue as the CLI checks them; secrets are write-only.
// The list answers from the fleet's in-memory snapshot: the inventory (versions, last seen) is
// read only when a filter or the sort needs it, else only for the page's phones.
import { normalizeModel } from '../../config/models.ts';
import { DEFAULT_TENANT, type Mac, type ManagedPhone, type Phone } from '../../domain.ts';
import type { FleetCommand } from '../../fleet/types.ts';
import { requireMatch } from '../etag.ts';
import { compareKeys, requestPage, type SortKey } from '../pagination.ts';
import { sortedPhones, sortKeyOf } from '../phone-index.ts';
import { ApiError, notFound } from '../problem.ts';
import { reply, schemas, tenantVisible, type ApiRequest, type JSONSchema, type RouteDef } from '../route.ts';
import { dateQuery, iso, macOf, macParams } from './common.ts';
import { checkSettings, fleetApi, fleetCall, managedPhoneJson, managedPhoneSchema, settingsEtag, settingsJson, type FleetApi } from './fleet-common.ts';

const SORTS = ['mac', 'label', 'model', 'site', 'lastSeen'] as const;
type SortField = (typeof SORTS)[number];
const fleetName = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } as const;

/** A list item: the managed record with what the inventory knows of the phone. */
const listItemSchema: JSONSchema = {
  type: 'object',
  properties: { ...(managedPhoneSchema.properties as object), appVersion: { type: 'string' }, lastSeen: { type: 'string', format: 'date-time' }, address: { type: 'string' } },
  required: ['mac', 'tenant', 'groups'],
};

function itemJson(p: ManagedPhone, seen: Phone | undefined): Record<string, unknown> {
  return { ...managedPhoneJson(p), appVersion: seen?.appVersion, lastSeen: iso(seen?.lastSeen), address: seen?.address };
}

const list: RouteDef = {
  method: 'GET',
  url: '/phones',
  summary: 'Managed phones: filter by tenant, site, group, model, application version, last seen, MAC prefix, label; sort; page by cursor',
  access: 'read',
  scope: 'tenant',
  schema: {
    querystring: schemas.listQuery({
      tenant: fleetName,
      site: fleetName,
      group: fleetName,
      model: { type: 'string', maxLength: 64 },
      version: { type: 'string', maxLength: 64, description: 'application version the phone last reported (inventory), exact' },
      seenSince: { type: 'string', format: 'date-time', description: 'last seen by the boot server at or after' },
      macPrefix: { type: 'string', pattern: '^[0-9a-fA-F]{1,12}$' },
      label: { type: 'string', maxLength: 200, description: 'case-insensitive substring' },
      sort: { type: 'string', enum: [...SORTS, ...SORTS.map((s) => `-${s}`)], default: 'mac', description: 'field; a leading - sorts descending' },
    }),
    response: { 200: schemas.pageOf(listItemSchema), 400: schemas.problem, 404: schemas.problem },
  },
  async handler(req) {
    const q = req.query as { tenant?: string; site?: string; group?: string; model?: string; version?: string; macPrefix?: string; label?: string; sort?: string };
    const f = fleetApi(req.admin);
    const tenant = req.tenant ?? q.tenant;
    if (req.tenant !== undefined && q.tenant !== undefined && q.tenant !== req.tenant) throw notFound(`tenant ${q.tenant}`);
    if (tenant !== undefined && !(await f.tenants()).some((t) => t.name === tenant)) throw notFound(`tenant ${tenant}`);
    const seenSince = dateQuery(req, 'seenSince');
    const sortText = q.sort ?? 'mac';
    const descending = sortText.startsWith('-');
    const field = sortText.replace(/^-/, '') as SortField;
    // The phones in the asked order, sorted once per fleet generation (phone-index.ts); the
    // inventory decides the order only for lastSeen, then the matches alone are sorted.
    const svc = req.admin.fleet.files;
    const base = sortedPhones(svc, svc.stats.generation, () => f.phones({}) as ManagedPhone[], field === 'lastSeen' ? 'mac' : field);
    const prefix = q.macPrefix?.toLowerCase();
    const label = q.label?.toLowerCase();
    const model = q.model?.toLowerCase();
    let phones = base.filter(
      (p) =>
        (tenant === undefined || p.tenant === tenant) &&
        (q.site === undefined || p.site === q.site) &&
        (q.group === undefined || p.groups.includes(q.group)) &&
        (model === undefined || p.model?.toLowerCase() === model) &&
        (prefix === undefined || p.mac.startsWith(prefix)) &&
        (label === undefined || (p.label ?? '').toLowerCase().includes(label)),
    );
    // The inventory join, whole only when a filter or the sort reads it.
    let seen: Map<string, Phone> | undefined;
    if (q.version !== undefined || seenSince !== undefined || field === 'lastSeen') {
      seen = new Map((await req.admin.inventory.phones(seenSince ? { seenSince } : {})).map((p) => [p.mac, p]));
      phones = phones.filter((p) => {
        const s = seen!.get(p.mac);
        if (seenSince !== undefined && !s) return false;
        if (q.version !== undefined && s?.appVersion !== q.version) return false;
        return true;
      });
    }
    const keyOf = (p: ManagedPhone): SortKey => (field === 'lastSeen' ? [seen?.get(p.mac)?.lastSeen.getTime() ?? 0, p.mac] : sortKeyOf(p, field));
    if (field === 'lastSeen') {
      const keys = new Map(phones.map((p) => [p.mac, keyOf(p)]));
      phones.sort((a, b) => compareKeys(keys.get(a.mac)!, keys.get(b.mac)!));
    }
    if (descending) phones.reverse();
    const page = requestPage(req, phones, keyOf, descending);
    const items = [];
    for (const p of page.items) items.push(itemJson(p, seen ? seen.get(p.mac) : await req.admin.inventory.phone(p.mac)));
    return { items, next: page.next };
  },
};

/** The phone (404 when not managed or another tenant's), with its phone-scope settings and ETag. */
async function current(req: ApiRequest, f: FleetApi, mac: Mac): Promise<{ phone: ManagedPhone; body: Record<string, unknown>; etag: string } | undefined> {
  const phone = await f.phone(mac);
  if (!phone) return undefined;
  if (!tenantVisible(req, phone.tenant)) throw notFound(`phone ${mac}`);
  const settings = settingsJson(await f.settings({ kind: 'phone', tenant: phone.tenant, name: mac }));
  const body = { ...managedPhoneJson(phone), settings };
  return { phone, body, etag: settingsEtag(req.admin, body, settings) };
}

const getOne: RouteDef = {
  method: 'GET',
  url: '/phones/:mac',
  summary: 'One managed phone with its phone-scope settings (secrets {"set": true}) and its ETag',
  access: 'read',
  scope: 'tenant',
  schema: { params: macParams, response: { 200: managedPhoneSchema, 404: schemas.problem } },
  async handler(req) {
    const mac = macOf(req);
    const c = await current(req, fleetApi(req.admin), mac);
    if (!c) throw notFound(`phone ${mac}`);
    return reply(200, c.body, { etag: c.etag });
  },
};

const writeSettings = { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 2000 } as const;
const putBody: JSONSchema = {
  type: 'object',
  properties: { tenant: fleetName, model: { type: 'string', maxLength: 64 }, label: { type: 'string', maxLength: 200 }, site: fleetName, groups: { type: 'array', items: fleetName, maxItems: 50, uniqueItems: true }, settings: writeSettings },
  additionalProperties: false,
};

/**
 * Whether a PUT body describes the phone exactly as it is: PUT carries the whole resource, so a
 * field left out means "none" (no label, no groups, no phone-scope settings) and a body that
 * leaves out what the phone has is a different body (409). Secrets are compared in clear, here only.
 */
async function sameAs(f: FleetApi, phone: ManagedPhone, b: { tenant: string; model?: string; label?: string; site?: string; groups?: string[]; settings?: Record<string, string> }): Promise<boolean> {
  if (b.tenant !== phone.tenant) return false;
  const model = b.model === undefined ? undefined : (normalizeModel(b.model) ?? b.model);
  if (model !== phone.model || b.label !== phone.label || b.site !== phone.site) return false;
  if ((b.groups ?? []).join('\0') !== phone.groups.join('\0')) return false;
  const want = b.settings ?? {};
  const mine = new Map((await f.effective(phone.mac)).filter((e) => e.scope === `phone:${phone.mac}`).map((e) => [e.name, e.value]));
  if (mine.size !== Object.keys(want).length) return false;
  for (const [k, v] of Object.entries(want)) if (mine.get(k) !== v) return false;
  return true;
}

const put: RouteDef = {
  method: 'PUT',
  url: '/phones/:mac',
  summary: 'Create a managed phone (201); the same body again 200, a different one 409 (change it with PATCH). The body is the whole phone: a field left out means none',
  access: 'operate',
  scope: 'tenant',
  schema: { params: macParams, body: putBody, response: { 200: managedPhoneSchema, 201: managedPhoneSchema, 400: schemas.problem, 404: schemas.problem, 409: schemas.problem } },
  async handler(req) {
    const mac = macOf(req);
    const f = fleetApi(req.admin);
    const b = req.body as { tenant?: string; model?: string; label?: string; site?: string; groups?: string[]; settings?: Record<string, string> };
    const tenant = b.tenant ?? req.tenant;
    if (req.tenant !== undefined && tenant !== req.tenant) throw new ApiError('PP_API_NOT_FOUND', `tenant ${b.tenant} not found`, { status: 404, pointer: '/tenant' });
    const had = await current(req, f, mac);
    if (had) {
      if (await sameAs(f, had.phone, { ...b, tenant: tenant ?? DEFAULT_TENANT })) return reply(200, had.body, { etag: had.etag });
      throw new ApiError('PP_FLEET_EXISTS', `phone ${mac} exists with other values: change it with PATCH (If-Match: its ETag), or DELETE it first`, { status: 409 });
    }
    if (b.settings) checkSettings(b.settings);
    const cmds: FleetCommand[] = [{ op: 'phone.put', phone: { mac, ...(tenant !== undefined ? { tenant } : {}), ...(b.model !== undefined ? { model: b.model } : {}), ...(b.label !== undefined ? { label: b.label } : {}), ...(b.site !== undefined ? { site: b.site } : {}), ...(b.groups !== undefined ? { groups: b.groups } : {}) } }];
    if (b.settings && Object.keys(b.settings).length > 0) cmds.push({ op: 'settings.set', scope: { kind: 'phone', tenant: tenant ?? '', name: mac }, values: b.settings });
    await fleetCall(() => f.apply(cmds));
    const now = await current(req, f, mac);
    return reply(201, now!.body, { etag: now!.etag, location: `/api/v1/phones/${mac}` });
  },
};

const patch: RouteDef = {
  method: 'PATCH',
  url: '/phones/:mac',
  summary: 'Change a managed phone (If-Match: its ETag; 428 without, 412 when it changed). settings: name → value, or null to unset',
  access: 'operate',
  scope: 'tenant',
  schema: {
    params: macParams,
    body: {
      type: 'object',
      properties: {
        model: { type: 'string', maxLength: 64 },
        label: { type: 'string', maxLength: 200 },
        site: { anyOf: [fleetName, { type: 'null' }] },
        groups: { type: 'array', items: fleetName, maxItems: 50, uniqueItems: true },
        settings: { type: 'object', additionalProperties: { anyOf: [{ type: 'string', maxLength: 4096 }, { type: 'null' }] }, maxProperties: 2000 },
      },
      additionalProperties: false,
      minProperties: 1,
    },
    response: { 200: managedPhoneSchema, 400: schemas.problem, 404: schemas.problem, 409: schemas.problem, 412: schemas.problem, 428: schemas.problem },
  },
  async handler(req) {
    const mac = macOf(req);
    const f = fleetApi(req.admin);
    const c = await current(req, f, mac);
    if (!c) throw notFound(`phone ${mac}`);
    requireMatch(req.ifMatch, c.etag);
    const b = req.body as { model?: string; label?: string; site?: string | null; groups?: string[]; settings?: Record<string, string | null> };
    if (b.settings) checkSettings(b.settings);
    const cmds: FleetCommand[] = [];
    if (b.model !== undefined || b.label !== undefined || b.site !== undefined || b.groups !== undefined) {
      const phone = { mac, tenant: c.phone.tenant, ...(b.model !== undefined ? { model: b.model } : {}), ...(b.label !== undefined ? { label: b.label } : {}), ...(b.site !== undefined ? { site: b.site ?? '' } : {}), ...(b.groups !== undefined ? { groups: b.groups } : {}) };
      cmds.push({ op: 'phone.put', phone });
    }
    const scope = { kind: 'phone' as const, tenant: c.phone.tenant, name: mac };
    const set = Object.fromEntries(Object.entries(b.settings ?? {}).filter((e): e is [string, string] => e[1] !== null));
    const unset = Object.entries(b.settings ?? {}).filter(([, v]) => v === null).map(([k]) => k);
    if (Object.keys(set).length) cmds.push({ op: 'settings.set', scope, values: set });
    if (unset.length) cmds.push({ op: 'settings.unset', scope, names: unset });
    await fleetCall(() => f.apply(cmds));
    const now = await current(req, f, mac);
    return reply(200, now!.body, { etag: now!.etag });
  },
};

const remove: RouteDef = {
  method: 'DELETE',
  url: '/phones/:mac',
  summary: 'Stop managing a phone (its phone-scope settings go with it). If-Match, when given, must match',
  access: 'operate',
  scope: 'tenant',
  schema: { params: macParams, response: { 204: { type: 'null' }, 404: schemas.problem, 412: schemas.problem } },
  async handler(req) {
    const mac = macOf(req);
    const f = fleetApi(req.admin);
    const c = await current(req, f, mac);
    if (!c) throw notFound(`phone ${mac}`);
    if (req.ifMatch !== undefined) requireMatch(req.ifMatch, c.etag);
    await fleetCall(() => f.apply([{ op: 'phone.remove', mac }]));
    return reply(204);
  },
};

export const routes: RouteDef[] = [list, getOne, put, patch, remove];
