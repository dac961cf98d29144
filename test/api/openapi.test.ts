// The OpenAPI 3.1 document (issue 15 "Shape"): generated from the route table, valid by a real
// OpenAPI validator, and in agreement with the server — every route the app answers is documented
// and every documented operation answers (it is routed: no "no API route" 404).
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allRoutes } from '../../src/api/routes/index.ts';
import { startApi, type ApiHarness } from './api-support.ts';

let h: ApiHarness;
let doc: any;
beforeAll(async () => {
  h = await startApi();
  const r = await h.call('GET', '/api/v1/openapi.json');
  expect(r.status).toBe(200);
  doc = r.json;
});
afterAll(async () => {
  await h?.close();
});

const ops = () => Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([m, op]) => ({ method: m.toUpperCase(), path, op })));

describe('issue 15 Shape: the OpenAPI document', () => {
  test('is OpenAPI 3.1 and passes @seriousme/openapi-schema-validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const v = new Validator();
    const res = await v.validate(doc);
    expect(res.errors).toBeUndefined();
    expect(res.valid).toBe(true);
  });

  test('every route the server answers under /api/v1 is documented, and nothing else is', () => {
    const served = h.served
      .filter((s) => s.split(' ')[1]!.startsWith('/api/v1/') && !s.endsWith('/api/v1/openapi.json'))
      .map((s) => s.replace(/:([A-Za-z0-9_]+)/g, '{$1}'))
      .sort();
    const documented = ops()
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(documented).toEqual(served);
    expect(documented.length).toBe(allRoutes.length);
  });

  test('every documented operation answers (routed; a 404 is a missing resource, never "no API route")', async () => {
    for (const { method, path, op } of ops()) {
      const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === 'mac' ? '0004f2000001' : 'x1'));
      const body = op.requestBody ? {} : undefined;
      const r = await h.call(method, url, { token: h.tokens.unbound.admin, ...(body ? { body } : {}) });
      expect(r.status, `${method} ${path}`).not.toBe(401);
      expect(r.status, `${method} ${path}`).toBeLessThan(500);
      if (r.status === 404) expect(r.json?.detail ?? '', `${method} ${path}`).not.toMatch(/^no API route/);
    }
  });

  test('every operation has a summary, a unique operationId, a success response with a schema, and bodies refuse unknown fields', () => {
    const ids = new Set<string>();
    for (const { method, path, op } of ops()) {
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(ids.has(op.operationId), op.operationId).toBe(false);
      ids.add(op.operationId);
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(success.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const s of success) if (s !== '204') expect(Object.values(op.responses[s].content ?? {})[0], `${method} ${path} ${s}`).toHaveProperty('schema');
      const json = op.requestBody?.content?.['application/json']?.schema;
      if (json?.type === 'object') expect(json.additionalProperties, `${method} ${path} body`).toBe(false);
    }
    for (const r of allRoutes) expect(Object.keys(r.schema.response).length, `${r.method} ${r.url}`).toBeGreaterThan(0);
  });
});
