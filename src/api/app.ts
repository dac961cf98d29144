// The admin listener as a Fastify 5 app (issue 15 "Shape"): Prometheus /metrics and /healthz as
// before, and the REST API under /api/v1 — every route from the route table (routes/index.ts),
// requests validated against their JSON schemas (bodies strictly: no type coercion, unknown
// fields refused), responses serialized through theirs (fields not in the schema never leave),
// bearer tokens checked with failures rate-limited per address, the role and tenant gate applied
// before the body is even parsed, and every error answered as problem+json. HTTPS with
// --admin-cert/--admin-key. The boot path keeps its own lean server (src/transports/http.ts).
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AdminService } from '../core/admin.ts';
import type { ApiToken } from '../domain.ts';
import { isProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { authenticateRequest, FailureLimiter } from './auth.ts';
import { API_PREFIX, openapiDocument } from './openapi.ts';
import { ApiError, PROBLEM_TYPE, toProblem } from './problem.ts';
import { gate, isReply, type ApiRequest, type RouteDef } from './route.ts';
import { allRoutes } from './routes/index.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface AdminAppOptions {
  /** The admin service acting as a given name (a token's): every API change is recorded with it. */
  adminAs(who: string): AdminService;
  /** Used to authenticate tokens (any admin service will do). */
  admin: AdminService;
  log: Logger;
  /** The provisioning tree the server serves (lint, explain). */
  root: string;
  /** Prometheus text for /metrics. */
  metrics?: () => string;
  routes?: readonly RouteDef[];
  /** JSON body limit in bytes (1 MiB). Routes taking CSV get `csvBodyLimit` (32 MiB). */
  bodyLimit?: number;
  csvBodyLimit?: number;
  /** Failed authentications per address per minute before 429 (10). */
  maxAuthFailures?: number;
  authWindowMs?: number;
  tls?: { cert: Buffer | string; key: Buffer | string };
  version?: string;
  /**
   * Validate every JSON answer against its route's response schema after serialization, answering
   * 500 (and logging the route) when a handler's output does not fit — the tests turn this on so
   * a schema that drifted from its handler fails them; in production serialization alone applies.
   */
  checkResponses?: boolean;
  /** Called for every route the app registers (the OpenAPI test compares them with the document). */
  onRoute?: (method: string, url: string) => void;
}

interface RouteConfig {
  def?: RouteDef;
}

declare module 'fastify' {
  interface FastifyRequest {
    apiToken?: ApiToken;
  }
}

function sendProblem(reply: FastifyReply, err: unknown, log?: Logger): FastifyReply {
  const p = toProblem(err);
  if (p.status >= 500 && log) log.error({ err }, 'internal error answering an API request');
  if (p.status === 401) reply.header('www-authenticate', 'Bearer realm="polyprov"');
  if (p.status === 429) reply.header('retry-after', String((err as { retryAfterS?: number }).retryAfterS ?? 60));
  // The store away (PP_STORE_UNAVAILABLE): 503 with the catalogue's Retry-After, as the boot server answers.
  if (p.status === 503 && isProvError(err) && err.def.retryAfterS !== undefined) reply.header('retry-after', String(err.def.retryAfterS));
  return reply.code(p.status).type(PROBLEM_TYPE).send(JSON.stringify(p));
}

/** Two Ajv instances: bodies strict (no coercion), path and query coerced from their strings. */
function validators() {
  const base = { allErrors: false, strict: false, useDefaults: true, removeAdditional: false } as const;
  const strict = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const coerce = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  // Compiled on a route's first request, not at start: the boot server's admin listener is up in
  // every storm and most of the API's ~80 routes never run there (Ajv's compiled code weighed ~30 MB
  // of the server's RSS when built eagerly; issue 14 Scale, RSS ≤ 300 MB). Fastify reads `.errors`
  // from the function after a failed call, so the wrapper forwards it.
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
    let fn: ReturnType<Ajv['compile']> | undefined;
    const validate = (data: unknown): boolean => (fn ??= (httpPart === 'body' ? strict : coerce).compile(schema))(data) as boolean;
    Object.defineProperty(validate, 'errors', { get: () => fn?.errors });
    return validate;
  };
}

export async function buildAdminApp(o: AdminAppOptions): Promise<FastifyInstance> {
  const routes = o.routes ?? allRoutes;
  const bodyLimit = o.bodyLimit ?? 1 << 20;
  const csvBodyLimit = o.csvBodyLimit ?? 32 << 20;
  const limiter = new FailureLimiter({ maxFailures: o.maxAuthFailures ?? 10, windowMs: o.authWindowMs ?? 60_000 });
  const app = (o.tls ? Fastify({ https: { cert: o.tls.cert, key: o.tls.key }, logger: false, bodyLimit, forceCloseConnections: true }) : Fastify({ logger: false, bodyLimit, forceCloseConnections: true })) as unknown as FastifyInstance;
  app.setValidatorCompiler(validators() as never);
  if (o.onRoute) {
    const seen = o.onRoute;
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') seen(m, r.url);
    });
  }
  const doc = JSON.stringify(openapiDocument(routes, o.version ?? '1'));
  const admins = new Map<string, AdminService>();
  const adminFor = (name: string) => {
    let a = admins.get(name);
    if (!a) {
      if (admins.size > 1000) admins.clear();
      admins.set(name, (a = o.adminAs(name)));
    }
    return a;
  };

  const csvTypes = new Set(routes.flatMap((r) => r.consumes ?? []));
  for (const ct of csvTypes) app.addContentTypeParser(ct, { parseAs: 'string', bodyLimit: csvBodyLimit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, _req, reply) => sendProblem(reply, err, o.log));
  app.setNotFoundHandler(async (req, reply) => {
    if (req.url.startsWith(API_PREFIX + '/') || req.url === API_PREFIX) {
      const out = await authenticateRequest(o.admin.tokens, limiter, req.ip, req.headers.authorization);
      if (!out.ok) return refuseAuth(reply, req, out.code, out.retryAfterS);
      return sendProblem(reply, new ApiError('PP_API_NOT_FOUND', `no API route ${req.method} ${req.url.split('?')[0]}: see ${API_PREFIX}/openapi.json`, { status: 404 }));
    }
    return reply.code(404).type('text/plain').send('not found\n');
  });

  const refuseAuth = (reply: FastifyReply, req: FastifyRequest, code: 'PP_AUTH_REQUIRED' | 'PP_AUTH_FAILED' | 'PP_RATE_LIMITED', retryAfterS?: number) => {
    // The boot server's fixed form, for fail2ban; never the Authorization header.
    o.log.warn({ code, transport: 'api', path: req.url.split('?')[0] }, `refused ${code} from ${req.ip}`);
    const detail =
      code === 'PP_AUTH_REQUIRED'
        ? 'send Authorization: Bearer <token> (create one with polyprov tokens add NAME --role ROLE)'
        : code === 'PP_AUTH_FAILED'
          ? 'the token is unknown or revoked: check it, or create a new one with polyprov tokens add'
          : `too many failed authentications from this address: wait ${retryAfterS ?? 60} s`;
    return sendProblem(reply, Object.assign(new ApiError(code, detail, { status: code === 'PP_RATE_LIMITED' ? 429 : 401 }), { retryAfterS }));
  };

  // API answers hold tenant data (and, once, a new token): never kept by a cache on the way.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith(API_PREFIX + '/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(o.metrics?.() ?? ''));
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));
  app.get(`${API_PREFIX}/openapi.json`, async (_req, reply) => reply.type('application/json').send(doc));

  const responseAjv = o.checkResponses ? addFormats(new Ajv({ allErrors: false, strict: false, coerceTypes: false, removeAdditional: false })) : undefined;

  for (const def of routes) {
    const checkers = new Map<number, ReturnType<Ajv['compile']>>();
    if (responseAjv) for (const [status, schema] of Object.entries(def.schema.response)) checkers.set(Number(status), responseAjv.compile(schema));
    const hasBody = def.method !== 'GET' && def.method !== 'DELETE';
    app.route({
      method: def.method,
      url: API_PREFIX + def.url,
      schema: def.schema as never,
      config: { def } satisfies RouteConfig,
      bodyLimit: def.consumes?.length ? csvBodyLimit : bodyLimit,
      // Before the body is read: who is asking, and may they use this route at all.
      onRequest: async (req, reply) => {
        const out = await authenticateRequest(o.admin.tokens, limiter, req.ip, req.headers.authorization);
        if (!out.ok) return refuseAuth(reply, req, out.code, out.retryAfterS);
        const refused = gate(out.token, def);
        if (refused === 404) return sendProblem(reply, new ApiError('PP_API_NOT_FOUND', `no API route ${def.method} ${req.url.split('?')[0]} for this token: it is bound to a tenant, and this resource is global`, { status: 404 }));
        if (refused === 403) return sendProblem(reply, new ApiError('PP_API_FORBIDDEN', `a ${out.token.role} token may not ${def.method} this resource (it needs ${def.access === 'admin' ? 'an admin' : 'an operator or admin'} token)`, { status: 403 }));
        req.apiToken = out.token;
        return undefined;
      },
      preValidation: async (req, reply) => {
        if (!hasBody) return undefined;
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (req.body !== undefined && ct !== '' && ct !== 'application/json' && !(def.consumes ?? []).includes(ct)) {
          return sendProblem(reply, new ApiError('PP_API_MEDIA_TYPE', `this route takes ${['application/json', ...(def.consumes ?? [])].join(' or ')}, not ${ct}`, { status: 415 }));
        }
        return undefined;
      },
      onSend: async (_req, reply, payload) => {
        const check = checkers.get(reply.statusCode);
        if (!check || typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').includes('json')) return payload;
        if (check(JSON.parse(payload))) return payload;
        o.log.error({ route: `${def.method} ${def.url}`, status: reply.statusCode, errors: check.errors }, 'API answer does not fit its response schema');
        reply.code(500).type(PROBLEM_TYPE);
        return JSON.stringify(toProblem(new Error('response schema')));
      },
      handler: async (req, reply) => {
        const token = req.apiToken!;
        const ifMatch = req.headers['if-match'];
        const r: ApiRequest = {
          params: (req.params ?? {}) as Record<string, string>,
          query: (req.query ?? {}) as Record<string, unknown>,
          body: req.body,
          headers: req.headers,
          token,
          admin: adminFor(token.name),
          url: req.url,
          root: o.root,
        };
        if (token.tenant !== undefined) r.tenant = token.tenant;
        if (typeof ifMatch === 'string') r.ifMatch = ifMatch;
        const out = await def.handler(r);
        if (!isReply(out)) return reply.code(200).send(out);
        if (out.headers) reply.headers(out.headers);
        reply.code(out.status);
        if (out.contentType) return reply.type(out.contentType).serializer((x: unknown) => String(x)).send(out.body);
        return out.body === undefined ? reply.send() : reply.send(out.body);
      },
    });
  }
  return app;
}

/** Starts the admin listener on HOST:PORT; resolves once it listens. */
export async function startAdminListener(host: string, port: number, o: AdminAppOptions): Promise<{ app: FastifyInstance; address(): AddressInfo; close(): Promise<void> }> {
  const app = await buildAdminApp(o);
  await app.listen({ host, port });
  return { app, address: () => app.server.address() as AddressInfo, close: () => app.close() };
}

/** TLS material for --admin-cert/--admin-key. */
export function readAdminTls(cert: string, key: string): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(cert), key: readFileSync(key) };
}
