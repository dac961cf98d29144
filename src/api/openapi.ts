// The OpenAPI 3.1 document of the REST API (issue 15 "Shape"), generated from the route table —
// the same JSON schemas that validate requests and serialize responses — so the document cannot
// drift from what the server does. Served at /api/v1/openapi.json.
import { schemas, type JSONSchema, type RouteDef } from './route.ts';

export const API_PREFIX = '/api/v1';

/** Fastify's `/phones/:mac` as OpenAPI's `/phones/{mac}`. */
export function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const ERROR_STATUSES: Record<number, string> = {
  400: 'invalid input (problem+json with the JSON pointer of the field)',
  401: 'no token, or an unknown one',
  403: "the token's role does not allow this",
  404: 'not found (or not visible to a tenant-bound token)',
  429: 'too many failed authentications from this address',
};

function parameters(where: 'path' | 'query', schema: JSONSchema | undefined): unknown[] {
  const props = (schema?.properties ?? {}) as Record<string, JSONSchema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => {
    const p: Record<string, unknown> = { name, in: where, required: where === 'path' || required.has(name), schema: s };
    if (typeof s.description === 'string') p.description = s.description;
    return p;
  });
}

function operationId(r: RouteDef): string {
  const words = r.url
    .split('/')
    .filter(Boolean)
    .map((w) => (w.startsWith(':') ? `by-${w.slice(1)}` : w));
  return [r.method.toLowerCase(), ...words].join('-').replace(/[^A-Za-z0-9-]/g, '-');
}

export function openapiDocument(routes: readonly RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = API_PREFIX + openapiPath(r.url);
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(r.schema.response)) {
      const s = Number(status);
      responses[status] = s === 204 ? { description: 'done' } : { description: s < 300 ? 'success' : 'refused', content: { [s < 400 ? 'application/json' : 'application/problem+json']: { schema } } };
    }
    const statuses = { ...ERROR_STATUSES };
    if (['PUT', 'PATCH'].includes(r.method)) Object.assign(statuses, { 412: 'If-Match does not match (changed since read)', 428: 'If-Match missing' });
    if (r.schema.body || r.consumes?.length) Object.assign(statuses, { 413: 'body over the size limit', 415: 'body of a content type this operation does not take' });
    for (const [s, d] of Object.entries(statuses)) responses[s] ??= { description: d, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    const op: Record<string, unknown> = {
      operationId: operationId(r),
      summary: r.summary,
      tags: [r.tag ?? r.url.split('/')[1] ?? 'api'],
      'x-polyprov-access': r.access,
      'x-polyprov-scope': r.scope,
      parameters: [...parameters('path', r.schema.params), ...parameters('query', r.schema.querystring)],
      responses,
    };
    if (r.schema.body) {
      const content: Record<string, unknown> = { 'application/json': { schema: r.schema.body } };
      for (const ct of r.consumes ?? []) content[ct] = { schema: { type: 'string' } };
      op.requestBody = { required: true, content };
    } else if (r.consumes?.length) {
      op.requestBody = { required: true, content: Object.fromEntries(r.consumes.map((ct) => [ct, { schema: { type: 'string' } }])) };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'polyprov REST API',
      version,
      description: 'The provisioning server and fleet manager, over HTTP. Authenticate with `Authorization: Bearer <token>` (`polyprov tokens add`). Errors are application/problem+json (RFC 9457) with a PP_* code.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A polyprov API token (ppt_…)' } },
      schemas: { Problem: schemas.problem },
    },
  };
}
