// /api/v1/staging (issue 15 "Resources"; issue 14 staging per tenant): the staging switch of a
// tenant — the token's own when it is bound to one, else `?tenant=` (default tenant when absent).
// PUT needs If-Match with the switch's ETag like every update.
import { DEFAULT_TENANT } from '../../domain.ts';
import { etagOf, requireMatch } from '../etag.ts';
import { notFound } from '../problem.ts';
import { reply, type ApiRequest, type RouteDef } from '../route.ts';

const status = { type: 'object', properties: { tenant: { type: 'string' }, on: { type: 'boolean' }, from: { type: 'string', enum: ['store', 'options'] } }, required: ['tenant', 'on', 'from'], additionalProperties: false };
const query = { type: 'object', properties: { tenant: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } }, additionalProperties: false };

function tenantOf(req: ApiRequest): string {
  const asked = (req.query.tenant as string | undefined) ?? req.tenant ?? DEFAULT_TENANT;
  if (req.tenant !== undefined && asked !== req.tenant) throw notFound(`staging of tenant ${asked}`);
  return asked;
}

async function current(req: ApiRequest, tenant: string) {
  const s = await req.admin.staging.status(tenant === DEFAULT_TENANT ? undefined : tenant);
  return { tenant, on: s.on, from: s.from };
}

export const routes: RouteDef[] = [
  {
    method: 'GET',
    url: '/staging',
    summary: "A tenant's staging switch (factory phones enrol while on)",
    access: 'read',
    scope: 'tenant',
    schema: { querystring: query, response: { 200: status } },
    async handler(req) {
      const s = await current(req, tenantOf(req));
      return reply(200, s, { etag: etagOf(s) });
    },
  },
  {
    method: 'PUT',
    url: '/staging',
    summary: "Turn a tenant's staging on or off (If-Match required)",
    access: 'admin',
    scope: 'tenant',
    schema: { querystring: query, body: { type: 'object', properties: { on: { type: 'boolean' } }, required: ['on'], additionalProperties: false }, response: { 200: status } },
    async handler(req) {
      const tenant = tenantOf(req);
      requireMatch(req.ifMatch, etagOf(await current(req, tenant)));
      await req.admin.staging.set((req.body as { on: boolean }).on, tenant === DEFAULT_TENANT ? undefined : tenant);
      const s = await current(req, tenant);
      return reply(200, s, { etag: etagOf(s) });
    },
  },
];
