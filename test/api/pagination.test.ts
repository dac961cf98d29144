// The API's list helpers (issue 15 "Lists", "Writes"): a cursor page neither skips nor repeats
// an item when items are inserted or removed between pages; limits are bounded; a forged cursor
// is a 400; ETags follow content, not key order; If-Match is required and compared.
import { describe, expect, test } from 'vitest';
import { etagOf, requireMatch } from '../../src/api/etag.ts';
import { decodeCursor, encodeCursor, MAX_LIMIT, paginate } from '../../src/api/pagination.ts';
import { ApiError } from '../../src/api/problem.ts';

const key = (s: string) => [s] as const;

describe('issue 15 Lists: cursor pagination', () => {
  test('walking 1,000 items by 7 gives each once, in order, with inserts and deletes between pages', () => {
    let items = Array.from({ length: 1000 }, (_, i) => `k${String(i * 2).padStart(5, '0')}`);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < 1000; n++) {
      const p = paginate(items, key, { limit: 7, url: '/api/v1/x?limit=7', ...(cursor ? { cursor } : {}) });
      seen.push(...p.items);
      if (!p.next) break;
      cursor = new URL(p.next, 'http://h').searchParams.get('cursor')!;
      // Between pages: an item is added before the cursor (never shown), one after it, and the page's last one deleted.
      const last = p.items[p.items.length - 1]!;
      items = [...items.filter((k) => k !== last), 'a-before', `${last}z`].sort();
    }
    const original = Array.from({ length: 1000 }, (_, i) => `k${String(i * 2).padStart(5, '0')}`);
    // Every original item once, in order; items added after the cursor are shown too, never twice.
    expect(seen.filter((k) => !k.endsWith('z'))).toEqual(original);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).not.toContain('a-before');
  });

  test('next keeps the query and replaces only the cursor; the last page has no next; limit is capped at 500', () => {
    const items = Array.from({ length: 1200 }, (_, i) => `m${String(i).padStart(4, '0')}`);
    const p1 = paginate(items, key, { limit: 600, url: '/api/v1/phones?site=hq&cursor=old&limit=600' });
    expect(p1.items.length).toBe(MAX_LIMIT);
    const u = new URL(p1.next!, 'http://h');
    expect(u.pathname).toBe('/api/v1/phones');
    expect(u.searchParams.get('site')).toBe('hq');
    expect(decodeCursor(u.searchParams.get('cursor')!)).toEqual(['m0499']);
    const last = paginate(items, key, { limit: 500, cursor: encodeCursor(['m0999']), url: '/x' });
    expect(last.items).toEqual(items.slice(1000));
    expect(last.next).toBeUndefined();
  });

  test('descending order pages too', () => {
    const items = ['e', 'd', 'c', 'b', 'a'];
    const p1 = paginate(items, key, { limit: 2, url: '/x', descending: true });
    expect(p1.items).toEqual(['e', 'd']);
    const p2 = paginate(items, key, { limit: 2, url: '/x', descending: true, cursor: new URL(p1.next!, 'http://h').searchParams.get('cursor')! });
    expect(p2.items).toEqual(['c', 'b']);
  });

  test('a cursor this server did not give is a 400 pointing at /cursor', () => {
    for (const bad of ['%%%', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[]').toString('base64url'), Buffer.from('[{}]').toString('base64url')]) {
      try {
        decodeCursor(bad);
        expect.unreachable(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        expect((e as ApiError).status).toBe(400);
        expect((e as ApiError).pointer).toBe('/cursor');
      }
    }
  });
});

describe('issue 15 Writes: ETag and If-Match', () => {
  test('the ETag follows the content, not the order of keys; Dates count as their ISO text', () => {
    expect(etagOf({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(etagOf({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(etagOf({ a: 1 })).not.toBe(etagOf({ a: 2 }));
    expect(etagOf({ at: new Date(0) })).toBe(etagOf({ at: '1970-01-01T00:00:00.000Z' }));
    expect(etagOf({ a: 1, b: undefined })).toBe(etagOf({ a: 1 }));
  });

  test('no If-Match → 428; another tag → 412; the tag (also in a list, weak, or *) → passes', () => {
    const tag = etagOf({ x: 1 });
    const status = (h: string | undefined) => {
      try {
        requireMatch(h, tag);
        return 200;
      } catch (e) {
        return (e as ApiError).status;
      }
    };
    expect(status(undefined)).toBe(428);
    expect(status(' ')).toBe(428);
    expect(status('"nope"')).toBe(412);
    expect(status(tag)).toBe(200);
    expect(status(`"nope", ${tag}`)).toBe(200);
    expect(status(`W/${tag}`)).toBe(200);
    expect(status('*')).toBe(200);
  });
});
