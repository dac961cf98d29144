// A REST API app (src/api/app.ts) on the in-memory store for the API tests: real HTTP on
// 127.0.0.1, one token per role × binding (unbound, tenant acme, tenant beta), the log lines
// captured, and a small JSON client.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AdminService } from '../../src/core/admin.ts';
import { startAdminListener, type AdminAppOptions } from '../../src/api/app.ts';
import type { TokenRole } from '../../src/domain.ts';
import { FleetService } from '../../src/fleet/fleet-service.ts';
import { SecretBox } from '../../src/fleet/secret-box.ts';
import { loadServerOptions } from '../../src/options.ts';
import { openMemoryStore, type MemoryStore } from '../support/memory-store.ts';
import { req } from '../support/http-client.ts';
import { makeTree, tempDir } from '../support/tree.ts';

export const ROLES: readonly TokenRole[] = ['admin', 'operator', 'read-only'];
export const BINDINGS = ['unbound', 'acme', 'beta'] as const;
export type Binding = (typeof BINDINGS)[number];

export interface ApiHarness {
  url: string;
  store: MemoryStore;
  /** The fleet service the admin services share; refresh() after writing the fleet to the store directly. */
  fleet: FleetService;
  admin: AdminService;
  logs: string[];
  /** `tokens[binding][role]`: the bearer value. */
  tokens: Record<Binding, Record<TokenRole, string>>;
  /** Every route the app registered, `METHOD url`. */
  served: string[];
  call(method: string, path: string, o?: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }>;
  close(): Promise<void>;
}

export async function startApi(extra: Partial<AdminAppOptions> = {}, files: Record<string, string> = { '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES=""/>\n' }): Promise<ApiHarness> {
  const root = makeTree(files);
  const options = loadServerOptions({ root, data: tempDir() }, {});
  const store = await openMemoryStore(tempDir());
  // The fleet service as open-core.ts shares it (issue 14): the resource routes read the fleet through it.
  const fleet = await FleetService.open(store, new SecretBox(randomBytes(32)), { root });
  const adminAs = (who: string) => {
    const deps = { store, options, who, fleet };
    return new AdminService(deps);
  };
  const admin = adminAs('test');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const tokens = {} as ApiHarness['tokens'];
  for (const b of BINDINGS) {
    tokens[b] = {} as Record<TokenRole, string>;
    for (const r of ROLES) tokens[b][r] = (await admin.tokens.add(`${b}-${r}`, r, b === 'unbound' ? undefined : b)).token;
  }
  const served: string[] = [];
  const l = await startAdminListener('127.0.0.1', 0, { admin, adminAs, log, root, metrics: () => 'polyprov_up 1\n', checkResponses: true, onRoute: (m, u) => served.push(`${m} ${u}`), ...extra });
  const base = `${extra.tls ? 'https' : 'http'}://127.0.0.1:${l.address().port}`;
  return {
    url: base,
    store,
    fleet,
    admin,
    logs,
    tokens,
    served,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      let body: string | Buffer | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const r = await req(base + path, { method, headers, body });
      const text = r.body.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: r.status, headers: r.headers, text, json };
    },
    async close() {
      await l.close();
      fleet.stop();
      await store.close();
    },
  };
}
