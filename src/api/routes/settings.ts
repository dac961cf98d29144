// Managed settings per scope over the REST API (issue 15 "Resources", "Writes", "Secrets"):
// GET /settings/:scope (`global`, `tenant:acme`, `site:hq`, `site:acme/hq`, `group:sales`,
// `phone:0004f2000001`) with an ETag; PUT replaces the scope's settings, PATCH changes some (null
// unsets) — both need If-Match. Values are checked against the catalogue as the CLI checks them,
// the problem naming the field (`/settings/reg.1.auth.password`). A secret is write-only: it is
// answered `{"set": true}`, and a PUT may send `{"set": true}` back to keep it as it is.
// A tenant-bound token reaches only its tenant's scopes; `global` and other tenants' are 404.
import { DEFAULT_TENANT, type Scope } from '../../domain.ts';
import { isProvError } from '../../errors.ts';
import { formatScope, parseScope } from '../../fleet/scope.ts';
import type { FleetCommand } from '../../fleet/types.ts';
import { requireMatch } from '../etag.ts';
import { ApiError, notFound } from '../problem.ts';
import { reply, schemas, type ApiRequest, type JSONSchema, type RouteDef } from '../route.ts';
import { checkSettings, fleetApi, fleetCall, SCOPE_FORMS, settingsEtag, settingsJson, settingsSchema, type FleetApi } from './fleet-common.ts';

const params: JSONSchema = { type: 'object', properties: { scope: { type: 'string', minLength: 1, maxLength: 200, description: 'global, tenant:T, site:S, site:T/S, group:G, group:T/G, phone:MAC' } }, required: ['scope'] };
const viewSchema: JSONSchema = { type: 'object', properties: { scope: { type: 'string' }, settings: settingsSchema }, required: ['scope', 'settings'] };

/** The scope named in the path, visible to the token; 400 when malformed, 404 when another tenant's or global for a bound token. */
async function scopeOf(req: ApiRequest, f: FleetApi): Promise<Scope> {
  let s: Scope;
  try {
    s = parseScope(req.params.scope!, req.tenant ?? DEFAULT_TENANT);
  } catch (err) {
    if (isProvError(err)) throw new ApiError('PP_API_INVALID', SCOPE_FORMS, { status: 400, pointer: '/params/scope' });
    throw err;
  }
  if (s.kind === 'phone') {
    const p = await f.phone(s.name as never);
    if (p) s = { ...s, tenant: p.tenant };
    else throw notFound(`scope ${req.params.scope}`);
  }
  if (req.tenant !== undefined && (s.kind === 'global' || s.tenant !== req.tenant)) throw notFound(`scope ${req.params.scope}`);
  return s;
}

async function view(f: FleetApi, req: ApiRequest, s: Scope): Promise<{ body: Record<string, unknown>; etag: string }> {
  const settings = settingsJson(await fleetCall(() => f.settings(s)).catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 404) throw notFound(`scope ${req.params.scope}`);
    throw err;
  }));
  const body = { scope: formatScope(s), settings };
  return { body, etag: settingsEtag(req.admin, body, settings) };
}

const get: RouteDef = {
  method: 'GET',
  url: '/settings/:scope',
  summary: 'The settings made at one scope (secrets {"set": true}), with the ETag',
  access: 'read',
  scope: 'tenant',
  schema: { params, response: { 200: viewSchema, 400: schemas.problem, 404: schemas.problem } },
  async handler(req) {
    const f = fleetApi(req.admin);
    const v = await view(f, req, await scopeOf(req, f));
    return reply(200, v.body, { etag: v.etag });
  },
};

async function write(req: ApiRequest, values: Record<string, string | null | { set: true }>, replace: boolean) {
  const f = fleetApi(req.admin);
  const s = await scopeOf(req, f);
  const before = await view(f, req, s);
  requireMatch(req.ifMatch, before.etag);
  checkSettings(values);
  const had = before.body.settings as Record<string, string | { set: true }>;
  for (const [k, v] of Object.entries(values)) {
    if (v !== null && typeof v === 'object' && typeof had[k] !== 'object') {
      throw new ApiError('PP_API_INVALID', `${k} has no stored secret to keep: send its value`, { status: 400, pointer: `/settings/${k}` });
    }
  }
  const set = Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const unset = Object.entries(values).filter(([, v]) => v === null).map(([k]) => k);
  if (replace) for (const k of Object.keys(had)) if (!(k in values)) unset.push(k);
  const cmds: FleetCommand[] = [];
  if (Object.keys(set).length) cmds.push({ op: 'settings.set', scope: s, values: set });
  if (unset.length) cmds.push({ op: 'settings.unset', scope: s, names: unset });
  if (cmds.length) await fleetCall(() => f.apply(cmds));
  const after = await view(f, req, s);
  return reply(200, after.body, { etag: after.etag });
}

/**
 * PUT replaces a scope's settings (a secret sent as {"set": true} is kept as it is); PATCH sets
 * (name → value) or unsets (name → null) some. Both answer the scope's view; both need If-Match.
 */
function writeRoute(method: 'PUT' | 'PATCH', summary: string, replace: boolean): RouteDef {
  return {
    method,
    url: '/settings/:scope',
    summary,
    access: 'operate',
    scope: 'tenant',
    schema: {
      params,
      body: {
        type: 'object',
        properties: { settings: { type: 'object', additionalProperties: { anyOf: [{ type: 'string', maxLength: 4096 }, replace ? schemas.secretSet : { type: 'null' }] }, ...(replace ? {} : { minProperties: 1 }), maxProperties: 5000 } },
        required: ['settings'],
        additionalProperties: false,
      },
      response: { 200: viewSchema, 400: schemas.problem, 404: schemas.problem, 412: schemas.problem, 428: schemas.problem },
    },
    handler: (req) => write(req, (req.body as { settings: Record<string, string | null | { set: true }> }).settings, replace),
  };
}

const put = writeRoute('PUT', 'Replace the settings of a scope (If-Match). A secret sent as {"set": true} is kept as it is', true);
const patch = writeRoute('PATCH', 'Set (name → value) or unset (name → null) some settings of a scope (If-Match)', false);

export const routes: RouteDef[] = [get, put, patch];
