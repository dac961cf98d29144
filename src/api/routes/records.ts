// /api/v1/changes and /api/v1/audit (issue 15 "Resources"): the change record (who changed what,
// secrets masked before they were stored) and the audit of transfers, newest first, paginated by
// a cursor on time. Both are global: they span every tenant (a tenant-bound token gets 404).
import type { Mac } from '../../domain.ts';
import { decodeCursor, encodeCursor, nextUrl } from '../pagination.ts';
import { schemas, type RouteDef } from '../route.ts';

const change = {
  type: 'object',
  properties: { at: { type: 'string', format: 'date-time' }, who: { type: 'string' }, operation: { type: 'string' }, target: { type: 'string' }, old: {}, new: {} },
  required: ['at', 'who', 'operation', 'target'],
  additionalProperties: false,
};
const event = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    mac: { type: 'string' },
    address: { type: 'string' },
    transport: { type: 'string' },
    op: { type: 'string' },
    path: { type: 'string' },
    status: { type: 'string' },
    bytes: { type: 'number' },
    durationMs: { type: 'number' },
    user: { type: 'string' },
    code: { type: 'string' },
  },
  required: ['at', 'address', 'transport', 'op', 'path', 'status', 'bytes'],
  additionalProperties: false,
};
const dateTime = { type: 'string', format: 'date-time' };

/**
 * One newest-first page from a time-ordered source. The cursor is [time of the page's last item,
 * how many items at exactly that time the pages so far returned], so ties are neither skipped nor
 * repeated. `fetch(until, n)` gives up to n items at or before `until`, newest first.
 */
async function timePage<T extends { at: Date }>(fetch: (untilMs: number | undefined, n: number) => Promise<T[]>, limit: number, cursor: string | undefined, url: string) {
  let until: number | undefined;
  let skip = 0;
  if (cursor !== undefined) {
    const k = decodeCursor(cursor);
    until = Number(k[0]);
    skip = Number(k[1] ?? 0);
  }
  const got = await fetch(until, limit + skip + 1);
  let i = 0;
  let dropped = 0;
  while (dropped < skip && i < got.length && got[i]!.at.getTime() === until) {
    i++;
    dropped++;
  }
  const items = got.slice(i, i + limit);
  const out: { items: T[]; next?: string } = { items };
  if (got.length > i + limit && items.length > 0) {
    const lastAt = items[items.length - 1]!.at.getTime();
    const ties = items.filter((x) => x.at.getTime() === lastAt).length + (lastAt === until ? dropped : 0);
    out.next = nextUrl(url, encodeCursor([lastAt, ties]));
  }
  return out;
}

export const routes: RouteDef[] = [
  {
    method: 'GET',
    url: '/changes',
    summary: 'The change record, newest first (who changed what; secrets masked)',
    access: 'read',
    scope: 'global',
    schema: { querystring: schemas.listQuery({ since: dateTime, target: { type: 'string', maxLength: 256 } }), response: { 200: schemas.pageOf(change) } },
    async handler(req) {
      const q = req.query as { limit: number; cursor?: string; since?: string; target?: string };
      return timePage(
        async (until, n) => {
          // The change record has no `until`: read enough newest-first and cut (it is small).
          const want = until === undefined ? n : Math.min(n + 10_000, 50_000);
          const all = await req.admin.changes({ ...(q.since ? { since: new Date(q.since) } : {}), ...(q.target !== undefined ? { target: q.target } : {}), limit: want });
          return (until === undefined ? all : all.filter((c) => c.at.getTime() <= until)).slice(0, n);
        },
        q.limit,
        q.cursor,
        req.url,
      );
    },
  },
  {
    method: 'GET',
    url: '/audit',
    summary: 'The audit of transfers (every request phones made), newest first',
    access: 'read',
    scope: 'global',
    schema: { querystring: schemas.listQuery({ mac: schemas.mac, since: dateTime, until: dateTime }), response: { 200: schemas.pageOf(event) } },
    async handler(req) {
      const q = req.query as { limit: number; cursor?: string; mac?: string; since?: string; until?: string };
      const untilQ = q.until ? new Date(q.until).getTime() : undefined;
      return timePage(
        (until, n) => {
          // The store's `until` is exclusive: +1 ms keeps the cursor's own time.
          const u = until !== undefined ? until + 1 : untilQ;
          return req.admin.inventory.audit({ ...(q.mac ? { mac: q.mac.toLowerCase() as Mac } : {}), ...(q.since ? { since: new Date(q.since) } : {}), ...(u !== undefined ? { until: new Date(u) } : {}), limit: n });
        },
        q.limit,
        q.cursor,
        req.url,
      );
    },
  },
];
