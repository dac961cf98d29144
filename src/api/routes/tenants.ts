// Tenants, and each tenant's sites and groups, over the REST API (issue 15 "Resources"; the
// fleet's model, issue 14). Tenants are global (an admin's; a tenant-bound token gets 404); a
// tenant's sites and groups are that tenant's (its bound operator manages them). Creating a name
// that exists answers 200 (nothing changes), a new one 201; removing one the fleet still uses is
// refused by the fleet with what to do first.
import { FLEET_NAME } from '../../domain.ts';
import { reply, schemas, type JSONSchema, type RouteDef } from '../route.ts';
import { notFound } from '../problem.ts';
import { iso } from './common.ts';
import { checkTenantParam, fleetApi, fleetCall } from './fleet-common.ts';

const name: JSONSchema = { type: 'string', pattern: FLEET_NAME.source, description: 'lower-case letters, digits, - and _' };
const tParams: JSONSchema = { type: 'object', properties: { t: name }, required: ['t'] };
const tnParams: JSONSchema = { type: 'object', properties: { t: name, name }, required: ['t', 'name'] };
const nameBody: JSONSchema = { type: 'object', properties: { name }, required: ['name'], additionalProperties: false };
const tenantSchema: JSONSchema = { type: 'object', properties: { name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } }, required: ['name'] };
const memberSchema: JSONSchema = { type: 'object', properties: { tenant: { type: 'string' }, name: { type: 'string' } }, required: ['tenant', 'name'] };
const listOf = (item: JSONSchema): JSONSchema => ({ type: 'object', properties: { items: { type: 'array', items: item } }, required: ['items'] });

const tenantRoutes: RouteDef[] = [
  {
    method: 'GET',
    url: '/tenants',
    summary: 'The tenants (the default tenant included)',
    access: 'read',
    scope: 'global',
    schema: { response: { 200: listOf(tenantSchema) } },
    async handler(req) {
      const ts = await fleetApi(req.admin).tenants();
      return { items: ts.map((t) => ({ name: t.name, createdAt: iso(t.createdAt) })) };
    },
  },
  {
    method: 'POST',
    url: '/tenants',
    summary: 'Add a tenant (201; 200 when it exists). A name that is a file or folder at the tree root is refused (409)',
    access: 'admin',
    scope: 'global',
    schema: { body: nameBody, response: { 200: tenantSchema, 201: tenantSchema, 400: schemas.problem, 409: schemas.problem } },
    async handler(req) {
      const f = fleetApi(req.admin);
      const n = (req.body as { name: string }).name;
      const had = (await f.tenants()).find((t) => t.name === n);
      if (had) return reply(200, { name: had.name, createdAt: iso(had.createdAt) });
      await fleetCall(() => f.apply([{ op: 'tenant.add', tenant: n }]), '/name');
      const t = (await f.tenants()).find((x) => x.name === n);
      return reply(201, { name: n, createdAt: iso(t?.createdAt) }, { location: `/api/v1/tenants/${n}` });
    },
  },
  {
    method: 'DELETE',
    url: '/tenants/:t',
    summary: 'Remove a tenant (the fleet refuses while it has phones)',
    access: 'admin',
    scope: 'global',
    schema: { params: tParams, response: { 204: { type: 'null' }, 404: schemas.problem, 409: schemas.problem } },
    async handler(req) {
      const f = fleetApi(req.admin);
      const t = req.params.t!;
      if (!(await f.tenants()).some((x) => x.name === t)) throw notFound(`tenant ${t}`);
      await fleetCall(() => f.apply([{ op: 'tenant.remove', tenant: t }]));
      return reply(204);
    },
  },
];

function memberRoutes(kind: 'site' | 'group'): RouteDef[] {
  const plural = `${kind}s` as const;
  const list = async (f: ReturnType<typeof fleetApi>, t: string) => (kind === 'site' ? await f.sites(t) : await f.groups(t));
  const tenantExists = async (f: ReturnType<typeof fleetApi>, t: string) => (await f.tenants()).some((x) => x.name === t);
  return [
    {
      method: 'GET',
      url: `/tenants/:t/${plural}`,
      summary: `A tenant's ${plural}`,
      access: 'read',
      scope: 'tenant',
      tag: 'tenants',
      schema: { params: tParams, response: { 200: listOf(memberSchema), 404: schemas.problem } },
      async handler(req) {
        const t = req.params.t!;
        checkTenantParam(req, t);
        const f = fleetApi(req.admin);
        if (!(await tenantExists(f, t))) throw notFound(`tenant ${t}`);
        return { items: (await list(f, t)).map((m) => ({ tenant: m.tenant, name: m.name })) };
      },
    },
    {
      method: 'POST',
      url: `/tenants/:t/${plural}`,
      summary: `Add a ${kind} to a tenant (201; 200 when it exists)`,
      access: 'operate',
      scope: 'tenant',
      tag: 'tenants',
      schema: { params: tParams, body: nameBody, response: { 200: memberSchema, 201: memberSchema, 400: schemas.problem, 404: schemas.problem, 409: schemas.problem } },
      async handler(req) {
        const t = req.params.t!;
        checkTenantParam(req, t);
        const f = fleetApi(req.admin);
        if (!(await tenantExists(f, t))) throw notFound(`tenant ${t}`);
        const n = (req.body as { name: string }).name;
        if ((await list(f, t)).some((m) => m.name === n)) return reply(200, { tenant: t, name: n });
        await fleetCall(() => f.apply([{ op: `${kind}.add`, tenant: t, name: n }]), '/name');
        return reply(201, { tenant: t, name: n }, { location: `/api/v1/tenants/${t}/${plural}/${n}` });
      },
    },
    {
      method: 'DELETE',
      url: `/tenants/:t/${plural}/:name`,
      summary: `Remove a tenant's ${kind} (its settings go with it; phones naming it lose it)`,
      access: 'operate',
      scope: 'tenant',
      tag: 'tenants',
      schema: { params: tnParams, response: { 204: { type: 'null' }, 404: schemas.problem, 409: schemas.problem } },
      async handler(req) {
        const t = req.params.t!;
        checkTenantParam(req, t);
        const f = fleetApi(req.admin);
        const n = req.params.name!;
        if (!(await tenantExists(f, t)) || !(await list(f, t)).some((m) => m.name === n)) throw notFound(`${kind} ${n} of tenant ${t}`);
        await fleetCall(() => f.apply([{ op: `${kind}.remove`, tenant: t, name: n }]));
        return reply(204);
      },
    },
  ];
}

export const routes: RouteDef[] = [...tenantRoutes, ...memberRoutes('site'), ...memberRoutes('group')];
