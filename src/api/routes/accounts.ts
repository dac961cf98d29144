// /api/v1/accounts (issue 15 "Resources"): provisioning accounts, admin only. A password (or its
// HA1 hash) is never in an answer: it is accepted on create and on PUT …/password, write-only.
// A tenant-bound token sees and creates only its tenant's accounts; others are 404.
import type { Account, AccountKind, Mac } from '../../domain.ts';
import { DEFAULT_TENANT } from '../../domain.ts';
import { etagOf } from '../etag.ts';
import { ApiError, notFound } from '../problem.ts';
import { requestPage } from '../pagination.ts';
import { reply, schemas, type ApiRequest, type RouteDef } from '../route.ts';

const account = {
  type: 'object',
  properties: {
    user: { type: 'string' },
    kind: { type: 'string', enum: ['staging', 'phone', 'site'] },
    tenant: { type: 'string' },
    phone: { type: 'string' },
    realm: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    pending: { type: 'boolean' },
    password: schemas.secretSet,
  },
  required: ['user', 'kind', 'tenant', 'createdAt', 'password'],
  additionalProperties: false,
};
const userParam = { type: 'object', properties: { user: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^:\\u0000-\\u001f\\u007f]+$' } }, required: ['user'], additionalProperties: false };
const password = { type: 'string', minLength: 8, maxLength: 256, writeOnly: true };

function view(a: Account) {
  const v: Record<string, unknown> = { user: a.user, kind: a.kind, tenant: a.tenant ?? DEFAULT_TENANT, realm: a.realm, createdAt: a.createdAt, pending: a.pending === true, password: { set: true } };
  if (a.mac) v.phone = a.mac;
  return v;
}

/** The account, if this request may see it. */
async function visible(req: ApiRequest, user: string): Promise<Account> {
  const a = (await req.admin.accounts.list()).find((x) => x.user === user);
  if (!a || (req.tenant !== undefined && (a.tenant ?? DEFAULT_TENANT) !== req.tenant)) throw notFound(`account ${user}`);
  return a;
}

export const routes: RouteDef[] = [
  {
    method: 'GET',
    url: '/accounts',
    summary: 'List provisioning accounts (never a password)',
    access: 'admin',
    scope: 'tenant',
    schema: { querystring: schemas.listQuery({ tenant: { type: 'string' } }), response: { 200: schemas.pageOf(account) } },
    async handler(req) {
      const tenant = req.tenant ?? (req.query.tenant as string | undefined);
      const list = (await req.admin.accounts.list()).filter((a) => tenant === undefined || (a.tenant ?? DEFAULT_TENANT) === tenant).sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
      const page = requestPage(req, list, (a) => [a.user]);
      return { ...page, items: page.items.map(view) };
    },
  },
  {
    method: 'GET',
    url: '/accounts/:user',
    summary: 'One provisioning account (never its password)',
    access: 'admin',
    scope: 'tenant',
    schema: { params: userParam, response: { 200: account } },
    async handler(req) {
      const v = view(await visible(req, req.params.user!));
      return reply(200, v, { etag: etagOf(v) });
    },
  },
  {
    method: 'POST',
    url: '/accounts',
    summary: 'Create a provisioning account; the password is write-only',
    access: 'admin',
    scope: 'tenant',
    schema: {
      body: {
        type: 'object',
        properties: { user: userParam.properties.user, kind: { type: 'string', enum: ['staging', 'phone', 'site'] }, password, phone: schemas.mac, tenant: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } },
        required: ['user', 'kind', 'password'],
        additionalProperties: false,
      },
      response: { 201: account },
    },
    async handler(req) {
      const b = req.body as { user: string; kind: AccountKind; password: string; phone?: string; tenant?: string };
      if (req.tenant !== undefined && b.tenant !== undefined && b.tenant !== req.tenant) throw notFound(`tenant ${b.tenant}`);
      const want = req.tenant ?? b.tenant ?? DEFAULT_TENANT;
      if (b.kind === 'phone' && !b.phone) throw new ApiError('PP_API_INVALID', 'a phone account needs `phone` (the MAC it is bound to)', { status: 400, pointer: '/phone' });
      if (b.kind !== 'phone' && b.phone) throw new ApiError('PP_API_INVALID', `only a phone account is bound to a phone; this one is kind ${b.kind}: remove \`phone\``, { status: 400, pointer: '/phone' });
      const out = await req.admin.accounts.add(b.user, b.kind, b.password, b.phone?.toLowerCase() as Mac | undefined, want === DEFAULT_TENANT ? undefined : want);
      if (out.status === 'exists') throw new ApiError('PP_API_EXISTS', `an account named ${b.user} exists: choose another user name, or delete it first`, { status: 409, pointer: '/user' });
      return reply(201, view(out.account), { location: `/api/v1/accounts/${encodeURIComponent(b.user)}` });
    },
  },
  {
    method: 'PUT',
    url: '/accounts/:user/password',
    summary: "Set an account's password (write-only; answers the account without it)",
    access: 'admin',
    scope: 'tenant',
    schema: { params: userParam, body: { type: 'object', properties: { password }, required: ['password'], additionalProperties: false }, response: { 200: account } },
    async handler(req) {
      // No If-Match: a password is write-only, nobody read it to change it (and an ETag over it would be a verifier).
      await visible(req, req.params.user!);
      const a = await req.admin.accounts.passwd(req.params.user!, (req.body as { password: string }).password);
      if (!a) throw notFound(`account ${req.params.user}`);
      const v = view(a);
      return reply(200, v, { etag: etagOf(v) });
    },
  },
  {
    method: 'DELETE',
    url: '/accounts/:user',
    summary: 'Delete a provisioning account',
    access: 'admin',
    scope: 'tenant',
    schema: { params: userParam, response: { 204: { type: 'null' } } },
    async handler(req) {
      await visible(req, req.params.user!);
      if (!(await req.admin.accounts.remove(req.params.user!))) throw notFound(`account ${req.params.user}`);
      return reply(204);
    },
  },
];
