// Check-sync jobs over the REST API (issue 15 "Resources"): POST /checksync with targets (MACs,
// a fleet scope such as `site:hq`, or all) stores a job and starts it in the server (paced SIP
// NOTIFYs, src/api/checksync-runner.ts); GET /checksync/:id shows each phone's progress —
// pending, sent (the phone accepted), failed (with the SIP result) — and whether it came back
// for its configuration (returned: a read by that phone after the NOTIFY, from the audit).
import { DEFAULT_TENANT, type CheckSyncJob, type Mac } from '../../domain.ts';
import { isProvError } from '../../errors.ts';
import { parseScope } from '../../fleet/scope.ts';
import { startCheckSync, type CheckSyncRunOptions } from '../checksync-runner.ts';
import { ApiError, notFound } from '../problem.ts';
import { reply, schemas, tenantVisible, type ApiRequest, type JSONSchema, type RouteDef } from '../route.ts';
import { fleetOf, iso, tenantOfPhone } from './common.ts';
import { fleetCall, SCOPE_FORMS } from './fleet-common.ts';

/** Pacing and waits of jobs this process starts (the notify command's defaults); tests shorten the waits. */
export const checkSyncRunOptions: CheckSyncRunOptions = {};

const MAX_TARGETS = 10_000;
const STATUSES = ['pending', 'sent', 'failed', 'returned'] as const;

const targetsSchema: JSONSchema = {
  type: 'object',
  properties: {
    macs: { type: 'array', items: { type: 'string', pattern: '^[0-9a-fA-F]{12}$' }, minItems: 1, maxItems: MAX_TARGETS },
    scope: { type: 'string', minLength: 1, maxLength: 200, description: 'a fleet scope: global, tenant:T, site:S, group:G, site:T/S, phone:MAC' },
    all: { type: 'boolean', const: true, description: 'every phone the token may see' },
  },
  additionalProperties: false,
  minProperties: 1,
};

const jobSchema: JSONSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    who: { type: 'string' },
    tenant: { type: 'string' },
    request: { type: 'object', properties: { targets: targetsSchema } },
    done: { type: 'boolean', description: 'no phone pending or waiting to come back' },
    summary: { type: 'object', properties: Object.fromEntries(STATUSES.map((s) => [s, { type: 'integer' }])), required: [...STATUSES] },
    targets: {
      type: 'array',
      items: {
        type: 'object',
        properties: { mac: { type: 'string' }, status: { type: 'string', enum: [...STATUSES] }, returned: { type: 'boolean' }, detail: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
        required: ['mac', 'status', 'returned'],
      },
    },
  },
  required: ['id', 'createdAt', 'who', 'request', 'done', 'summary', 'targets'],
};

function jobJson(j: CheckSyncJob): Record<string, unknown> {
  const summary = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<(typeof STATUSES)[number], number>;
  for (const t of j.targets) summary[t.status]++;
  return {
    id: j.id,
    createdAt: iso(j.createdAt),
    who: j.who,
    tenant: j.tenant,
    request: j.request,
    done: summary.pending === 0 && summary.sent === 0,
    summary,
    targets: j.targets.map((t) => ({ mac: t.mac, status: t.status, returned: t.status === 'returned', detail: t.detail, at: iso(t.at) })),
  };
}

/** The MACs a request names, each one the token may see (another tenant's: 404). */
async function resolveMacs(req: ApiRequest, targets: { macs?: string[]; scope?: string; all?: boolean }): Promise<Mac[]> {
  const out = new Set<Mac>();
  const fleet = fleetOf(req.admin) as
    | (ReturnType<typeof fleetOf> & { phones(f: { tenant?: string; site?: string; group?: string }): Array<{ mac: Mac; tenant: string }> })
    | undefined;
  {
    if (targets.macs) {
      for (const [i, raw] of targets.macs.entries()) {
        const mac = raw.toLowerCase() as Mac;
        const p = await req.admin.inventory.phone(mac);
        const m = fleet?.phone(mac);
        const tenant = m?.tenant ?? (p ? tenantOfPhone(req.admin, p) : undefined);
        if (tenant !== undefined && !tenantVisible(req, tenant)) throw new ApiError('PP_API_NOT_FOUND', `phone ${mac} not found`, { status: 404, pointer: `/targets/macs/${i}` });
        if (tenant === undefined && req.tenant !== undefined) throw new ApiError('PP_API_NOT_FOUND', `phone ${mac} not found`, { status: 404, pointer: `/targets/macs/${i}` });
        out.add(mac);
      }
    }
    if (targets.scope !== undefined) {
      let scope;
      try {
        scope = parseScope(targets.scope, req.tenant ?? DEFAULT_TENANT);
      } catch (err) {
        if (isProvError(err)) throw new ApiError('PP_API_INVALID', SCOPE_FORMS, { status: 400, pointer: '/targets/scope' });
        throw err;
      }
      if (scope.kind !== 'global' && !tenantVisible(req, scope.tenant)) throw new ApiError('PP_API_NOT_FOUND', `scope ${targets.scope} not found`, { status: 404, pointer: '/targets/scope' });
      if (!fleet) throw new ApiError('PP_API_INVALID', 'this server has no managed fleet: name the phones by MAC, or all', { status: 400, pointer: '/targets/scope' });
      // A site or group the fleet does not have is 404 (not an empty job).
      const f = req.admin.fleet;
      const known =
        scope.kind === 'site' ? await fleetCall(() => f.sites(scope.tenant).some((x) => x.name === scope.name), '/targets/scope')
        : scope.kind === 'group' ? await fleetCall(() => f.groups(scope.tenant).some((x) => x.name === scope.name), '/targets/scope')
        : scope.kind === 'tenant' ? f.tenants().some((x) => x.name === scope.tenant)
        : true;
      if (!known) throw new ApiError('PP_API_NOT_FOUND', 'no such scope in the fleet', { status: 404, pointer: '/targets/scope' });
      const tenant = scope.kind === 'global' ? req.tenant : scope.tenant;
      const phones =
        scope.kind === 'phone'
          ? [fleet.phone(scope.name as Mac)].filter((p) => p !== undefined).map((p) => ({ mac: scope.name as Mac, tenant: p.tenant }))
          : await fleetCall(() => fleet.phones({ ...(tenant !== undefined ? { tenant } : {}), ...(scope.kind === 'site' ? { site: scope.name } : {}), ...(scope.kind === 'group' ? { group: scope.name } : {}) }), '/targets/scope');
      for (const p of phones) if (tenantVisible(req, p.tenant)) out.add(p.mac);
    }
    if (targets.all) {
      for (const p of await req.admin.inventory.phones()) if (tenantVisible(req, tenantOfPhone(req.admin, p))) out.add(p.mac);
      for (const p of fleet?.phones({}) ?? []) if (tenantVisible(req, p.tenant)) out.add(p.mac);
    }
    return [...out].sort();
  }
}

const create: RouteDef = {
  method: 'POST',
  url: '/checksync',
  summary: 'Start a check-sync job: a paced SIP NOTIFY (Event: check-sync) to each target; answers 202 with the job',
  access: 'operate',
  scope: 'tenant',
  schema: {
    body: { type: 'object', properties: { targets: targetsSchema }, required: ['targets'], additionalProperties: false },
    response: { 202: jobSchema, 400: schemas.problem, 404: schemas.problem, 422: schemas.problem },
  },
  async handler(req) {
    const body = req.body as { targets: { macs?: string[]; scope?: string; all?: boolean } };
    const macs = await resolveMacs(req, body.targets);
    if (macs.length === 0) throw new ApiError('PP_API_INVALID', 'no phone matches these targets: name MACs the inventory knows, a scope with phones, or all', { status: 422, pointer: '/targets' });
    if (macs.length > MAX_TARGETS) throw new ApiError('PP_API_INVALID', `${macs.length} phones match; one job takes at most ${MAX_TARGETS}: split it by site or group`, { status: 422, pointer: '/targets' });
    const job = await req.admin.checksync.create({ targets: body.targets }, macs, req.tenant);
    void startCheckSync(req.admin, job, req.root, checkSyncRunOptions);
    return reply(202, jobJson(job), { location: `/api/v1/checksync/${job.id}` });
  },
};

const idParams: JSONSchema = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } }, required: ['id'] };

const one: RouteDef = {
  method: 'GET',
  url: '/checksync/:id',
  summary: "A check-sync job: each phone's progress and whether it came back for its configuration",
  access: 'read',
  scope: 'tenant',
  schema: { params: idParams, response: { 200: jobSchema, 400: schemas.problem, 404: schemas.problem } },
  async handler(req) {
    const job = await req.admin.checksync.refresh(req.params.id!);
    if (!job || (job.tenant !== undefined ? !tenantVisible(req, job.tenant) : req.tenant !== undefined)) throw notFound(`check-sync job ${req.params.id}`);
    return jobJson(job);
  },
};

const list: RouteDef = {
  method: 'GET',
  url: '/checksync',
  summary: 'Check-sync jobs, newest first',
  access: 'read',
  scope: 'tenant',
  schema: {
    querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }, additionalProperties: false },
    response: { 200: { type: 'object', properties: { items: { type: 'array', items: jobSchema } }, required: ['items'] }, 400: schemas.problem },
  },
  async handler(req) {
    const jobs = await req.admin.checksync.list(Number(req.query.limit ?? 50));
    return { items: jobs.filter((j) => (j.tenant !== undefined ? tenantVisible(req, j.tenant) : req.tenant === undefined)).map(jobJson) };
  },
};

export const routes: RouteDef[] = [create, list, one];
