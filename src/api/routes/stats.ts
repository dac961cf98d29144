// Dashboard figures over the REST API (issue 15 "Resources"): counts of the phones seen by model,
// application version and health, and a time series of requests and refusals. The series is
// read from the transfer audit (`"source": "audit"`), which every node writes to the shared
// store; the boot service's Prometheus counters (/metrics) are per process and hold no time.
// A tenant-bound token counts its tenant's phones and their requests only.
import type { Phone } from '../../domain.ts';
import { ApiError } from '../problem.ts';
import { schemas, type JSONSchema, type RouteDef } from '../route.ts';
import { dateQuery, fleetOf, iso, tenantOfPhone } from './common.ts';

const countMap: JSONSchema = { type: 'object', additionalProperties: { type: 'integer' } };

const counts: RouteDef = {
  method: 'GET',
  url: '/stats',
  summary: 'Counts of the phones seen: total, by model, by application version, by health (ok, error: its last request failed, stale: not seen for 7 days)',
  access: 'read',
  scope: 'tenant',
  schema: {
    response: {
      200: {
        type: 'object',
        properties: {
          phones: { type: 'integer' },
          managed: { type: 'integer' },
          byModel: countMap,
          byVersion: countMap,
          byHealth: { type: 'object', properties: { ok: { type: 'integer' }, error: { type: 'integer' }, stale: { type: 'integer' } }, required: ['ok', 'error', 'stale'] },
        },
        required: ['phones', 'byModel', 'byVersion', 'byHealth'],
      },
    },
  },
  async handler(req) {
    const include = req.tenant === undefined ? undefined : (p: Phone) => tenantOfPhone(req.admin, p) === req.tenant;
    const c = await req.admin.stats.counts(include);
    const fleet = fleetOf(req.admin) as { phones(f: object): Array<{ tenant: string }> } | undefined;
    return { ...c, ...(fleet ? { managed: fleet.phones({}).filter((p) => req.tenant === undefined || p.tenant === req.tenant).length } : {}) };
  },
};

const series: RouteDef = {
  method: 'GET',
  url: '/stats/requests',
  summary: 'Requests and refusals per time bucket (from the transfer audit), refusals by error code',
  access: 'read',
  scope: 'tenant',
  tag: 'stats',
  schema: {
    querystring: {
      type: 'object',
      properties: {
        since: { type: 'string', format: 'date-time', description: 'default: 24 hours before until' },
        until: { type: 'string', format: 'date-time', description: 'default: now' },
        bucket: { type: 'integer', minimum: 1, maximum: 31 * 86400, default: 3600, description: 'bucket width in seconds (widened to keep at most 1000 buckets)' },
      },
      additionalProperties: false,
    },
    response: {
      200: {
        type: 'object',
        properties: {
          source: { type: 'string', enum: ['audit'] },
          since: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time' },
          bucketSeconds: { type: 'integer' },
          truncated: { type: 'boolean' },
          buckets: {
            type: 'array',
            items: { type: 'object', properties: { start: { type: 'string', format: 'date-time' }, requests: { type: 'integer' }, refusals: { type: 'integer' }, byCode: countMap }, required: ['start', 'requests', 'refusals', 'byCode'] },
          },
        },
        required: ['source', 'since', 'until', 'bucketSeconds', 'truncated', 'buckets'],
      },
      400: schemas.problem,
    },
  },
  async handler(req) {
    const since = dateQuery(req, 'since');
    const until = dateQuery(req, 'until');
    if (since && until && since.getTime() >= until.getTime()) throw new ApiError('PP_API_INVALID', 'since must be before until', { status: 400, pointer: '/query/since' });
    // A tenant-bound token: only events of its tenant's phones (one inventory read, then a set).
    let include: ((e: { mac?: string }) => boolean) | undefined;
    if (req.tenant !== undefined) {
      const mine = new Set((await req.admin.inventory.phones()).filter((p) => tenantOfPhone(req.admin, p) === req.tenant).map((p) => p.mac as string));
      include = (e) => e.mac !== undefined && mine.has(e.mac);
    }
    const s = await req.admin.stats.requests({ ...(since ? { since } : {}), ...(until ? { until } : {}), bucketSeconds: Number(req.query.bucket ?? 3600) }, include);
    return { ...s, since: iso(s.since), until: iso(s.until), buckets: s.buckets.map((b) => ({ ...b, start: iso(b.start) })) };
  },
};

export const routes: RouteDef[] = [counts, series];
