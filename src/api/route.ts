// The REST API's route contract (issue 15 "Shape", "Who may do what"): every route under /api/v1 is
// one RouteDef — method, URL, JSON schemas (which validate requests and responses and generate the
// OpenAPI document), the access it needs and whether it is tenant-scoped or global. src/api/app.ts
// mounts them (from src/api/routes/index.ts), authenticates the bearer token, enforces the role and
// the tenant binding, and turns thrown PolyprovErrors into problem+json.
import type { ApiToken, TokenRole } from '../domain.ts';
import type { AdminService } from '../core/admin.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** read: any role; operate: operator and admin; admin: admin only. */
export type Access = 'read' | 'operate' | 'admin';
/** global routes (tenants, global settings, tokens …) are 404 for a tenant-bound token. */
export type RouteScope = 'tenant' | 'global';
/** A JSON Schema (draft 2020-12 subset Fastify/Ajv understand). */
export type JSONSchema = Record<string, unknown>;

export interface RouteSchema {
  params?: JSONSchema;
  querystring?: JSONSchema;
  body?: JSONSchema;
  /** Status → schema. Responses are serialized through it: fields not in the schema are dropped. */
  response: Record<number, JSONSchema>;
}

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  token: ApiToken;
  /** The admin service acting as the token's name: every change is recorded with it. */
  admin: AdminService;
  /** The token's tenant when it is bound to one: the handler must 404 other tenants' resources. */
  tenant?: string;
  /** The If-Match header, when given (see etag.ts requireMatch). */
  ifMatch?: string;
  /** The request's absolute path with query (for pagination `next` links). */
  url: string;
  /** The provisioning tree the server serves (lint, explain). */
  root: string;
}

/** A reply other than "200 with this JSON": a status, headers (ETag, Location), a body. Make it with reply() — a plain object with a `status` field is just a 200 body. */
export interface ApiReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Content type when not JSON (CSV export): the body is then sent as a string. */
  contentType?: string;
}

export interface RouteDef {
  method: HttpMethod;
  /** Under /api/v1, Fastify syntax: '/phones/:mac'. */
  url: string;
  summary: string;
  access: Access;
  scope: RouteScope;
  /** OpenAPI tag (grouping); defaults to the URL's first segment. */
  tag?: string;
  schema: RouteSchema;
  /** Extra request content types besides JSON (e.g. 'text/csv' for /import): the body arrives as a string. */
  consumes?: string[];
  handler(req: ApiRequest): Promise<ApiReply | unknown>;
}

/** Build an ApiReply (anything else a handler returns is a 200 JSON body). */
export function reply(status: number, body?: unknown, headers?: Record<string, string>): ApiReply {
  return { [REPLY]: true, status, body, headers } as ApiReply;
}
export const REPLY = Symbol('ApiReply');
export function isReply(x: unknown): x is ApiReply {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[REPLY] === true;
}

/** May this role use a route of this access? */
export function roleAllows(role: TokenRole, access: Access): boolean {
  if (role === 'admin') return true;
  if (role === 'operator') return access !== 'admin';
  return access === 'read';
}

/** The status a request from this token gets on this route before the handler runs: 404, 403, or undefined (go on). */
export function gate(token: Pick<ApiToken, 'role' | 'tenant'>, route: Pick<RouteDef, 'access' | 'scope'>): 404 | 403 | undefined {
  if (token.tenant !== undefined && route.scope === 'global') return 404;
  if (!roleAllows(token.role, route.access)) return 403;
  return undefined;
}

/**
 * A tenant-bound token asking for another tenant's resource: the handler calls this with the
 * resource's tenant; it throws the same 404 a missing resource gets.
 */
export function tenantVisible(req: Pick<ApiRequest, 'tenant'>, resourceTenant: string): boolean {
  return req.tenant === undefined || req.tenant === resourceTenant;
}

const PAGE_QUERY: Record<string, JSONSchema> = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
  cursor: { type: 'string', maxLength: 512 },
};

/** Reusable schema pieces. */
export const schemas = {
  /** The problem+json body every error answers with (RFC 9457). */
  problem: {
    type: 'object',
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string' },
      pointer: { type: 'string' },
    },
    required: ['type', 'title', 'status', 'code'],
  } as JSONSchema,
  /** A write-only secret in a response. */
  secretSet: { type: 'object', properties: { set: { type: 'boolean' } }, required: ['set'], additionalProperties: false } as JSONSchema,
  mac: { type: 'string', pattern: '^[0-9a-fA-F]{12}$' } as JSONSchema,
  name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' } as JSONSchema,
  /** Pagination query: `limit` (1..500, default 100) and the opaque `cursor`. */
  page: PAGE_QUERY,
  /** A list's query string: the pagination parameters and the list's own filters, nothing else. */
  listQuery(filters: Record<string, JSONSchema> = {}): JSONSchema {
    return { type: 'object', properties: { ...PAGE_QUERY, ...filters }, additionalProperties: false };
  },
  /** A page of items: `{ items, next? }`. */
  pageOf(item: JSONSchema): JSONSchema {
    return { type: 'object', properties: { items: { type: 'array', items: item }, next: { type: 'string' } }, required: ['items'] };
  },
};
