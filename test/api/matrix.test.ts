// The role × tenant × route matrix (issue 15 "Tests", "Who may do what"), generated from the route
// table: every route × every role (admin, operator, read-only) × every binding (unbound, bound to
// tenant acme which owns the seeded resources, bound to another tenant beta). The expected status
// comes from the route's access and scope: a global route is 404 for a bound token, a role below
// the route's access is 403, otherwise the request passes the gate (never 401/403/5xx). A token of
// the other tenant never sees acme's resources: a GET naming one is 404 and no answer mentions it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allRoutes } from '../../src/api/routes/index.ts';
import { gate, type RouteDef } from '../../src/api/route.ts';
import type { Mac } from '../../src/domain.ts';
import { BINDINGS, ROLES, startApi, type ApiHarness, type Binding } from './api-support.ts';

const MARK = 'acmemarker';
const MAC = '0004f2acacac' as Mac;
const USER = `${MARK}-user`;

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

/** The resources of tenant acme, put back before every request (a DELETE may have removed them). */
async function seed(): Promise<void> {
  const now = new Date(0);
  await h.store.fleet.apply([
    { op: 'putTenant', tenant: { name: 'acme', createdAt: now } },
    { op: 'putTenant', tenant: { name: 'beta', createdAt: now } },
    { op: 'putSite', site: { tenant: 'acme', name: MARK, createdAt: now } },
    { op: 'putGroup', group: { tenant: 'acme', name: MARK, createdAt: now } },
    { op: 'putPhone', phone: { mac: MAC, tenant: 'acme', label: MARK, site: MARK, groups: [MARK], createdAt: now, updatedAt: now } },
  ] as never);
  // The fleet service reads the store on its poll: make it see the seed now.
  await h.fleet.refresh();
  if (!(await h.store.accounts.get(USER))) {
    await h.store.accounts.put({ user: USER, kind: 'site', realm: 'polyprov', ha1Md5: '0'.repeat(32), createdAt: now, tenant: 'acme' } as never);
  }
}

function urlOf(r: RouteDef): string {
  const path = r.url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => encodeURIComponent(paramValue(name)));
  return `/api/v1${path}`;
}

/** A path parameter naming one of acme's seeded resources. */
function paramValue(name: string): string {
  if (name === 'mac') return MAC;
  if (name === 'user') return USER;
  if (name === 't' || name === 'tenant') return 'acme';
  if (name === 'scope') return `site:acme/${MARK}`;
  return MARK;
}

const cases = allRoutes.flatMap((route) => ROLES.flatMap((role) => BINDINGS.map((binding) => ({ route, role, binding }))));

describe('issue 15 Who may do what: route × role × tenant matrix', () => {
  test('the matrix covers every route of the table', () => {
    expect(new Set(cases.map((c) => `${c.route.method} ${c.route.url}`)).size).toBe(allRoutes.length);
    expect(cases.length).toBe(allRoutes.length * 9);
  });

  test.each(cases.map((c) => [`${c.route.method} ${c.route.url} as ${c.role} ${c.binding}`, c] as const))('%s', async (_name, { route, role, binding }) => {
    await seed();
    const token = h.tokens[binding as Binding][role];
    const expected = gate({ role, ...(binding === 'unbound' ? {} : { tenant: binding }) }, route);
    const hasBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
    const r = await h.call(route.method, urlOf(route), { token, ...(hasBody ? { body: {} } : {}) });
    if (expected === 404) {
      expect(r.status).toBe(404);
      expect(r.json.code).toBe('PP_API_NOT_FOUND');
    } else if (expected === 403) {
      expect(r.status).toBe(403);
      expect(r.json.code).toBe('PP_API_FORBIDDEN');
    } else {
      expect([401, 403]).not.toContain(r.status);
      expect(r.status).toBeLessThan(500);
      if (binding === 'beta') {
        // Another tenant's token: acme's resources are invisible.
        // A route naming one of acme's resources (its phone, account, site, scope …) refuses beta.
        if (/:[A-Za-z]/.test(route.url)) expect(r.status).toBeGreaterThanOrEqual(400);
        if (route.method === 'GET' && /:(mac|user)\b/.test(route.url)) expect(r.status).toBe(404);
        if (r.status >= 400 && route.method === 'GET') {
          // A refused read is the same as for a resource that does not exist at all (only the name asked for differs).
          const none = await h.call(route.method, urlOf(route).replaceAll(MARK, 'nosuchthing').replace(MAC, '0004f2fefefe'), { token, ...(hasBody ? { body: {} } : {}) });
          expect(r.status).toBe(none.status);
          expect(r.text.replaceAll(MARK, 'nosuchthing').replace(MAC, '0004f2fefefe')).toBe(none.text);
        } else if (r.status < 400) {
          expect(r.text).not.toContain(MARK);
        }
      }
    }
  });
});
