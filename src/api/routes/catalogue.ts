// The parameter catalogue over the REST API (issue 15 "Resources"): names, types, ranges, allowed
// values and descriptions — what a console needs to build a settings form and what writes are
// validated against (src/config/params.ts). Filter by name prefix, type or secret; paginated by
// name. A secret parameter's template default is not shown (it is a factory password).
import { lookupParam, PARAMS, type ParamDef } from '../../config/params.ts';
import { requestPage } from '../pagination.ts';
import { notFound } from '../problem.ts';
import { schemas, type JSONSchema, type RouteDef } from '../route.ts';

/** By name in code-unit order, the order the cursor compares in. */
const SORTED: readonly ParamDef[] = [...PARAMS].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const TYPES = ['string', 'boolean', 'integer', 'enum', 'ip', 'hostname', 'time', 'url'];

const paramSchema: JSONSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'pattern: `x` stands for an index (reg.x.auth.password)' },
    type: { type: 'string', enum: TYPES },
    values: { type: 'array', items: { type: 'string' } },
    min: { type: 'number' },
    max: { type: 'number' },
    default: { type: 'string' },
    device: { type: 'boolean' },
    secret: { type: 'boolean' },
    description: { type: 'string' },
    documented: { type: 'boolean' },
  },
  required: ['name', 'type', 'device', 'secret', 'description'],
};

function paramJson(p: ParamDef): Record<string, unknown> {
  return {
    name: p.name,
    type: p.type,
    values: p.values,
    min: p.min,
    max: p.max,
    default: p.secret ? undefined : p.default,
    device: p.device,
    secret: p.secret,
    description: p.description,
    documented: p.documented === true,
  };
}

const list: RouteDef = {
  method: 'GET',
  url: '/catalogue/parameters',
  summary: 'The parameter catalogue: names, types, ranges, values, descriptions (filter by prefix, type, secret; paginated by name)',
  access: 'read',
  scope: 'tenant',
  schema: {
    querystring: schemas.listQuery({
      prefix: { type: 'string', maxLength: 200, description: 'name prefix, case-insensitive: `reg.x.` or `voIpProt.SIP`' },
      type: { type: 'string', enum: TYPES },
      secret: { type: 'boolean' },
    }),
    response: { 200: schemas.pageOf(paramSchema), 400: schemas.problem },
  },
  async handler(req) {
    const q = req.query as { prefix?: string; type?: string; secret?: boolean };
    const prefix = q.prefix?.toLowerCase();
    // A filter keeps the order, so the cursor (the last name) is stable.
    const items = SORTED.filter((p) => (prefix === undefined || p.name.toLowerCase().startsWith(prefix)) && (q.type === undefined || p.type === q.type) && (q.secret === undefined || p.secret === q.secret));
    const page = requestPage(req, items, (p) => [p.name]);
    return { items: page.items.map(paramJson), next: page.next };
  },
};

const one: RouteDef = {
  method: 'GET',
  url: '/catalogue/parameters/:name',
  summary: 'One parameter by its concrete name (reg.3.auth.password, dir.local.contacts.maxNum.VVX1500) or pattern',
  access: 'read',
  scope: 'tenant',
  schema: {
    params: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$' } }, required: ['name'] },
    response: { 200: paramSchema, 400: schemas.problem, 404: schemas.problem },
  },
  async handler(req) {
    const def = lookupParam(req.params.name!);
    if (!def) throw notFound(`parameter ${req.params.name} in the catalogue`);
    return paramJson(def);
  },
};

export const routes: RouteDef[] = [list, one];
