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
import type { FleetOp, Mac, TokenRole } from '../../src/domain.ts';
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

/** The /phones pages issue 15 "Lists" asks for at 10,000 phones: each filter, both sorts, a prefix. */
export const PHONE_PAGE_QUERIES = [
  '/phones?limit=100',
  '/phones?site=site7&tenant=acme&limit=100',
  '/phones?group=group3&model=VVX500&limit=100',
  '/phones?sort=label&limit=100',
  '/phones?label=desk%2001&sort=-label&limit=100',
  '/phones?macPrefix=0004f2001&limit=100',
] as const;

/**
 * Seeds `n` managed phones straight into the harness's store (tenant acme, 20 sites, 5 groups, four
 * models, labels out of MAC order so a label sort really sorts) and refreshes the fleet.
 */
export async function seedPhones(h: ApiHarness, n: number): Promise<void> {
  const now = new Date(0);
  const ops: FleetOp[] = [{ op: 'putTenant', tenant: { name: 'acme', createdAt: now } }];
  for (let s = 0; s < 20; s++) ops.push({ op: 'putSite', site: { tenant: 'acme', name: `site${s}` } });
  for (let g = 0; g < 5; g++) ops.push({ op: 'putGroup', group: { tenant: 'acme', name: `group${g}` } });
  const models = ['VVX410', 'VVX310', 'VVX500', 'VVX600'];
  for (let i = 0; i < n; i++) {
    const mac = `0004f2${i.toString(16).padStart(6, '0')}` as Mac;
    const label = `desk ${((i * 7919) % n).toString().padStart(5, '0')}`;
    ops.push({ op: 'putPhone', phone: { mac, tenant: 'acme', model: models[i % 4], label, site: `site${i % 20}`, groups: [`group${i % 5}`], createdAt: now, updatedAt: now } });
  }
  await h.store.fleet.apply(ops);
  await h.fleet!.refresh();
}
