// Pagination for the REST API's lists (issue 15 "Lists"): a stable, opaque cursor — the base64url
// of the last item's sort key — so a page after an insert or delete continues where the previous
// ended instead of skipping or repeating. `limit` is 1..500 (default 100); the answer is
// `{ items, next? }` where `next` is the URL of the following page.
import { ApiError } from './problem.ts';

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;

/** A sort key: one or more strings/numbers compared in order (the last should be unique, e.g. the MAC). */
export type SortKey = readonly (string | number)[];

export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): SortKey {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length > 0 && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key;
  } catch {
    // fall through
  }
  throw new ApiError('PP_BAD_REQUEST', 'the cursor is not one this server gave: start again without cursor, then follow the `next` links', { status: 400, pointer: '/cursor' });
}

export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

export interface Page<T> {
  items: T[];
  next?: string;
}

/**
 * One page of `items`, which must already be sorted ascending by `keyOf` (descending when
 * `descending`). Binary search for the cursor, so a page costs O(log n + limit).
 * `url` is the request URL; `next` keeps its query and replaces `cursor`.
 */
export function paginate<T>(items: readonly T[], keyOf: (item: T) => SortKey, opts: { limit?: number; cursor?: string; url: string; descending?: boolean }): Page<T> {
  const limit = Math.min(Math.max(1, opts.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
  let start = 0;
  if (opts.cursor !== undefined) {
    const after = decodeCursor(opts.cursor);
    const sign = opts.descending ? -1 : 1;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sign * compareKeys(keyOf(items[mid]!), after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const page = items.slice(start, start + limit);
  const out: Page<T> = { items: page };
  if (start + limit < items.length && page.length > 0) out.next = nextUrl(opts.url, encodeCursor(keyOf(page[page.length - 1]!)));
  return out;
}

/** The page a list request asks for: its `limit` and `cursor` query and its URL (for `next`). */
export function requestPage<T>(req: { query: Record<string, unknown>; url: string }, items: readonly T[], keyOf: (item: T) => SortKey, descending = false): Page<T> {
  const q = req.query as { limit?: number; cursor?: string };
  return paginate(items, keyOf, { limit: q.limit, cursor: q.cursor, url: req.url, descending });
}

/** The request URL with `cursor` replaced. */
export function nextUrl(url: string, cursor: string): string {
  const u = new URL(url, 'http://x');
  u.searchParams.set('cursor', cursor);
  return u.pathname + u.search;
}
