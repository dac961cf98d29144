// /api/v1/tokens (issue 15 "Who may do what"): API tokens, admin only and global (a token bound
// to a tenant gets 404). Creating one answers its value once (201) — the only time it exists in
// clear, like `polyprov tokens add`; the store keeps its SHA-256. Listing never shows a token or hash.
import type { TokenRole } from '../../domain.ts';
import { ApiError, notFound } from '../problem.ts';
import { requestPage } from '../pagination.ts';
import { reply, schemas, type RouteDef } from '../route.ts';

const tokenView = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    role: { type: 'string', enum: ['admin', 'operator', 'read-only'] },
    tenant: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['name', 'role', 'createdAt'],
  additionalProperties: false,
};
const nameParam = { type: 'object', properties: { name: schemas.name }, required: ['name'], additionalProperties: false };

export const routes: RouteDef[] = [
  {
    method: 'GET',
    url: '/tokens',
    summary: 'List API tokens (names, roles, tenants; never the token)',
    access: 'admin',
    scope: 'global',
    schema: { querystring: schemas.listQuery(), response: { 200: schemas.pageOf(tokenView) } },
    async handler(req) {
      const list = await req.admin.tokens.list();
      return requestPage(req, list, (t) => [t.name]);
    },
  },
  {
    method: 'GET',
    url: '/tokens/:name',
    summary: 'One API token (never the token itself)',
    access: 'admin',
    scope: 'global',
    schema: { params: nameParam, response: { 200: tokenView } },
    async handler(req) {
      const t = await req.admin.tokens.get(req.params.name!);
      if (!t) throw notFound(`token ${req.params.name}`);
      return t;
    },
  },
  {
    method: 'POST',
    url: '/tokens',
    summary: 'Create an API token; the answer holds the token, once',
    access: 'admin',
    scope: 'global',
    schema: {
      body: {
        type: 'object',
        properties: { name: schemas.name, role: { type: 'string', enum: ['admin', 'operator', 'read-only'] }, tenant: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } },
        required: ['name', 'role'],
        additionalProperties: false,
      },
      response: {
        201: { type: 'object', properties: { ...(tokenView.properties as object), token: { type: 'string', description: 'the token: shown this once, store it now' } }, required: ['name', 'role', 'createdAt', 'token'], additionalProperties: false },
      },
    },
    async handler(req) {
      const b = req.body as { name: string; role: TokenRole; tenant?: string };
      if (await req.admin.tokens.get(b.name)) throw new ApiError('PP_API_TOKEN_EXISTS', `a token named ${b.name} exists: choose another name, or revoke it first`, { status: 409, pointer: '/name' });
      const { token, view } = await req.admin.tokens.add(b.name, b.role, b.tenant);
      return reply(201, { ...view, token }, { location: `/api/v1/tokens/${encodeURIComponent(view.name)}`, 'cache-control': 'no-store' });
    },
  },
  {
    method: 'DELETE',
    url: '/tokens/:name',
    summary: 'Revoke an API token',
    access: 'admin',
    scope: 'global',
    schema: { params: nameParam, response: { 204: { type: 'null' } } },
    async handler(req) {
      if (!(await req.admin.tokens.revoke(req.params.name!))) throw notFound(`token ${req.params.name}`);
      return reply(204);
    },
  },
];
