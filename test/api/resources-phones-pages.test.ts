// Issue 15 "Lists" at 10,000 phones: filtered, sorted pages of 100 with a cursor, correct at full
// size (10,000 phones over 20 sites and 5 groups, labels and models varied, seeded straight into
// the store). Their speed (under 50 ms a page) is measured by `npm run bench -- api-phones`
// (bench/api-phones.ts), never here: tests assert behaviour, benchmarks time it.
// The app runs as in production: answers are not re-validated against their schemas (the other
// suites turn that check on).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FleetOp, Mac } from '../../src/domain.ts';
import { startApi, type ApiHarness } from './resources-harness.ts';

const N = 10_000;
let h: ApiHarness;

beforeAll(async () => {
  h = await startApi({ checkResponses: false });
  const now = new Date(0);
  const ops: FleetOp[] = [{ op: 'putTenant', tenant: { name: 'acme', createdAt: now } }];
  for (let s = 0; s < 20; s++) ops.push({ op: 'putSite', site: { tenant: 'acme', name: `site${s}` } } as FleetOp);
  for (let g = 0; g < 5; g++) ops.push({ op: 'putGroup', group: { tenant: 'acme', name: `group${g}` } } as FleetOp);
  const models = ['VVX410', 'VVX310', 'VVX500', 'VVX600'];
  for (let i = 0; i < N; i++) {
    const mac = `0004f2${i.toString(16).padStart(6, '0')}` as Mac;
    // Labels out of MAC order, so a label sort really sorts.
    const label = `desk ${((i * 7919) % N).toString().padStart(5, '0')}`;
    ops.push({ op: 'putPhone', phone: { mac, tenant: 'acme', model: models[i % 4], label, site: `site${i % 20}`, groups: [`group${i % 5}`], createdAt: now, updatedAt: now } });
  }
  await h.store.fleet.apply(ops);
  await h.fleet!.refresh();
  expect(h.fleet!.phones({}).length).toBe(N);
}, 120_000);
afterAll(() => h.close());

describe('issue 15 Lists: 10,000 phones, filtered and sorted pages of 100 with a cursor', () => {
  test.each([
    ['/phones?limit=100', 100],
    ['/phones?site=site7&tenant=acme&limit=100', 100],
    ['/phones?group=group3&model=VVX500&limit=100', 100],
    ['/phones?sort=label&limit=100', 100],
    ['/phones?label=desk%2001&sort=-label&limit=100', 100],
    ['/phones?macPrefix=0004f2001&limit=100', 100],
  ])('%s', async (path, n) => {
    const r = await h.call('GET', path);
    expect(r.status).toBe(200);
    const json = r.json;
    expect(json.items).toHaveLength(n);
    // The page after it answers too (the cursor), and never repeats an item.
    const next = await h.call('GET', json.next.replace('/api/v1', ''));
    expect(next.json.items[0].mac).not.toBe(json.items[json.items.length - 1].mac);
  });

  test('a label sort is in label order across two pages', async () => {
    const a = await h.call('GET', '/phones?sort=label&limit=100');
    const b = await h.call('GET', a.json.next.replace('/api/v1', ''));
    const labels = [...a.json.items, ...b.json.items].map((p: { label: string }) => p.label);
    expect(labels).toEqual([...labels].sort());
    expect(new Set(labels).size).toBe(200);
  });
});
