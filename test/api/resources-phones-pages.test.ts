// Issue 15 "Lists" at 10,000 phones: filtered, sorted pages of 100 with a cursor, correct at full
// size (10,000 phones over 20 sites and 5 groups, labels and models varied, seeded straight into
// the store). Their speed (under 50 ms a page) is measured by `npm run bench -- api-phones`
// (bench/api-phones.ts), never here: tests assert behaviour, benchmarks time it.
// The app runs as in production: answers are not re-validated against their schemas (the other
// suites turn that check on).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PHONE_PAGE_QUERIES, seedPhones, startApi, type ApiHarness } from './resources-harness.ts';

const N = 10_000;
let h: ApiHarness;

beforeAll(async () => {
  h = await startApi({ checkResponses: false });
  await seedPhones(h, N);
  expect(h.fleet!.phones({}).length).toBe(N);
}, 120_000);
afterAll(() => h.close());

describe('issue 15 Lists: 10,000 phones, filtered and sorted pages of 100 with a cursor', () => {
  test.each(PHONE_PAGE_QUERIES)('%s', async (path) => {
    const r = await h.call('GET', path);
    expect(r.status).toBe(200);
    const json = r.json;
    expect(json.items).toHaveLength(100);
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
