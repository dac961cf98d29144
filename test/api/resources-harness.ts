// The REST API's resource routes on a real listener (issue 15 "Tests": every route with a real
// HTTP client): the admin app (src/api/app.ts) over the in-memory store and a tree in a temp dir,
// bound to 127.0.0.1, with one token per role and tenant. Every response body any test reads is
// kept in `bodies`, so a suite can scan them all for the secrets it planted.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildAdminApp } from '../../src/api/app.ts';
import type { RouteDef } from '../../src/api/route.ts';
import { allRoutes } from '../../src/api/routes/index.ts';
import { resourceRoutes } from '../../src/api/routes/resources.ts';
import { AdminService } from '../../src/core/admin.ts';
import type { TokenRole } from '../../src/domain.ts';
import { FleetService } from '../../src/fleet/fleet-service.ts';
import { SecretBox } from '../../src/fleet/secret-box.ts';
import { loadServerOptions, type ServerOptions } from '../../src/options.ts';
import { openMemoryStore, type MemoryStore } from '../support/memory-store.ts';
import { standardTree, tempDir } from '../support/tree.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface ApiHarness {
  base: string;
  root: string;
  store: MemoryStore;
  options: Readonly<ServerOptions>;
  admin: AdminService;
  /** Tokens: admin, operator, read-only (all tenants), and `acme` (operator bound to tenant acme). */
  tokens: Record<'admin' | 'operator' | 'read-only' | 'acme', string>;
  /** The fleet service every admin service shares (undefined with fleet: false). */
  fleet: FleetService | undefined;
  /** The server's time per answer (ms), most recent last. */
  serverMs: number[];
  /** Every response body read so far. */
  bodies: string[];
  call(method: string, path: string, o?: { token?: string | null; body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startApi(o: { fleet?: boolean; checkResponses?: boolean; files?: Record<string, string | Buffer>; routes?: readonly RouteDef[]; options?: Partial<ServerOptions>; adminAs?: (who: string, store: MemoryStore, options: Readonly<ServerOptions>) => AdminService } = {}): Promise<ApiHarness> {
  const root = standardTree(o.files ?? {});
  const data = tempDir();
  const store = await openMemoryStore(join(data, 'tmp'));
  await store.init();
  const options = Object.freeze({ ...loadServerOptions({ root, data }, {}), ...o.options, root, data } as ServerOptions);
  // The fleet service (issue 14), opened once and shared by every admin service, as open-core.ts does.
  const fleet = o.fleet === false ? undefined : await FleetService.open(store, new SecretBox(randomBytes(32)), { root });
  const adminAs = (who: string) => (o.adminAs ? o.adminAs(who, store, options) : new AdminService({ store, options, who, ...(fleet ? { fleet } : {}) }));
  const admin = adminAs('harness');
  const app = await buildAdminApp({ adminAs, admin, root, log: pino({ level: 'silent' }), routes: o.routes ?? withResources(allRoutes), maxAuthFailures: 1000, checkResponses: o.checkResponses !== false });
  // How long the server took for each answer, request in to response out (Fastify's elapsedTime).
  const serverMs: number[] = [];
  app.addHook('onResponse', async (_req, reply) => {
    serverMs.push(reply.elapsedTime);
    if (serverMs.length > 1000) serverMs.shift();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${addr.port}/api/v1`;
  const tokens = {} as ApiHarness['tokens'];
  for (const [name, role, tenant] of [['admin', 'admin'], ['operator', 'operator'], ['read-only', 'read-only'], ['acme', 'operator', 'acme']] as Array<[keyof ApiHarness['tokens'], TokenRole, string?]>) {
    tokens[name] = (await admin.tokens.add(`t-${name}`, role, tenant)).token;
  }
  const bodies: string[] = [];
  return {
    base,
    root,
    store,
    options,
    admin,
    tokens,
    bodies,
    fleet,
    serverMs,
    async call(method, path, c = {}) {
      const headers: Record<string, string> = { ...c.headers };
      const token = c.token === undefined ? tokens.admin : c.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (c.raw !== undefined) {
        body = c.raw;
        headers['content-type'] = c.contentType ?? 'application/json';
      } else if (c.body !== undefined) {
        body = JSON.stringify(c.body);
        headers['content-type'] = 'application/json';
      }
      const r = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(10_000) });
      const text = await r.text();
      bodies.push(text);
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: r.status, headers: r.headers, text, json };
    },
    async close() {
      await app.close();
      fleet?.stop();
      await store.close();
      await rm(data, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The route table with the resource routes, whether or not routes/index.ts lists them yet. */
function withResources(table: readonly RouteDef[]): RouteDef[] {
  const seen = new Set(table.map((r) => `${r.method} ${r.url}`));
  return [...table, ...resourceRoutes.filter((r) => !seen.has(`${r.method} ${r.url}`))];
}
