// The inventory over the REST API (issue 15 "Resources"): phones seen by the boot server —
// versions, addresses, last boot, errors — joined to the managed phones (/phones) by MAC; a
// phone's boot timeline (each boot with its requests) and its uploaded logs.
import type { Phone } from '../../domain.ts';
import { compareKeys, requestPage, type SortKey } from '../pagination.ts';
import { notFound } from '../problem.ts';
import { schemas, tenantVisible, type JSONSchema, type RouteDef } from '../route.ts';
import { auditEventSchema, auditJson, dateQuery, iso, inventoryPhoneSchema, macOf, macParams, managedRef, phoneJson, requirePhone, storedFileSchema, storedJson, tenantOfPhone, visiblePhone } from './common.ts';

const SORTS = ['mac', 'lastSeen', '-lastSeen'] as const;
type Sort = (typeof SORTS)[number];

/** Bounds the boots a timeline shows. */
const MAX_BOOTS = 50;
/** A log answered inline at most this many bytes (the tail). */
const MAX_LOG_BYTES = 1 << 20;

const inventoryList: RouteDef = {
  method: 'GET',
  url: '/inventory',
  summary: 'Phones the boot server has seen, joined to their managed record by MAC',
  access: 'read',
  scope: 'tenant',
  schema: {
    querystring: schemas.listQuery({
      macPrefix: { type: 'string', pattern: '^[0-9a-fA-F]{1,12}$' },
      model: { type: 'string', maxLength: 64 },
      version: { type: 'string', maxLength: 64, description: 'application version, exact' },
      seenSince: { type: 'string', format: 'date-time' },
      error: { type: 'boolean', description: 'only phones with (true) or without (false) a last error' },
      managed: { type: 'boolean', description: 'only managed (true) or unmanaged (false) phones' },
      sort: { type: 'string', enum: [...SORTS], default: 'mac' },
    }),
    response: { 200: schemas.pageOf(inventoryPhoneSchema), 400: schemas.problem },
  },
  async handler(req) {
    const q = req.query as { macPrefix?: string; model?: string; version?: string; error?: boolean; managed?: boolean; sort?: Sort };
    const seenSince = dateQuery(req, 'seenSince');
    const rows: Array<{ p: Phone; tenant: string; managed: ReturnType<typeof managedRef> }> = [];
    for (const p of await req.admin.inventory.phones({ ...(q.macPrefix ? { macPrefix: q.macPrefix.toLowerCase() } : {}), ...(seenSince ? { seenSince } : {}) })) {
      const tenant = tenantOfPhone(req.admin, p);
      if (!tenantVisible(req, tenant)) continue;
      if (q.model !== undefined && p.model !== q.model) continue;
      if (q.version !== undefined && p.appVersion !== q.version) continue;
      if (q.error !== undefined && (p.lastError !== undefined) !== q.error) continue;
      const managed = managedRef(req.admin, p.mac);
      if (q.managed !== undefined && (managed !== null) !== q.managed) continue;
      rows.push({ p, tenant, managed });
    }
    const sort = q.sort ?? 'mac';
    const key = (r: (typeof rows)[number]): SortKey => (sort === 'mac' ? [r.p.mac] : [r.p.lastSeen.getTime(), r.p.mac]);
    const descending = sort === '-lastSeen';
    rows.sort((a, b) => (descending ? -1 : 1) * compareKeys(key(a), key(b)));
    const page = requestPage(req, rows, key, descending);
    return { items: page.items.map((r) => phoneJson(r.p, r.tenant, r.managed)), next: page.next };
  },
};

const inventoryOne: RouteDef = {
  method: 'GET',
  url: '/inventory/:mac',
  summary: 'One phone of the inventory, joined to its managed record',
  access: 'read',
  scope: 'tenant',
  schema: { params: macParams, response: { 200: inventoryPhoneSchema, 404: schemas.problem } },
  async handler(req) {
    const mac = macOf(req);
    const p = await visiblePhone(req, mac);
    if (!p) throw notFound(`phone ${mac}`);
    return phoneJson(p, tenantOfPhone(req.admin, p), managedRef(req.admin, mac));
  },
};

const bootSchema: JSONSchema = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    source: { type: 'string' },
    address: { type: 'string' },
    stage: { type: 'string' },
    version: { type: 'string' },
    userAgent: { type: 'string' },
    requests: { type: 'array', items: auditEventSchema },
  },
  required: ['at', 'source', 'address', 'requests'],
};

const timeline: RouteDef = {
  method: 'GET',
  url: '/phones/:mac/timeline',
  summary: "A phone's last boots, newest first, each with the requests it made",
  access: 'read',
  scope: 'tenant',
  tag: 'inventory',
  schema: {
    params: macParams,
    querystring: { type: 'object', properties: { boots: { type: 'integer', minimum: 1, maximum: MAX_BOOTS, default: 5 } }, additionalProperties: false },
    response: { 200: { type: 'object', properties: { mac: { type: 'string' }, boots: { type: 'array', items: bootSchema } }, required: ['mac', 'boots'] }, 404: schemas.problem },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    const boots = await req.admin.inventory.bootTimeline(mac, Number(req.query.boots ?? 5), req.tenant);
    return { mac, boots: boots.map((b) => ({ ...b, at: iso(b.at), requests: b.requests.map(auditJson) })) };
  },
};

const logKinds = { type: 'string', enum: ['boot', 'app'] } as const;

const logs: RouteDef = {
  method: 'GET',
  url: '/phones/:mac/logs',
  summary: "A phone's uploaded logs (<MAC>-boot.log, <MAC>-app.log): the current version of each, its tail inline",
  access: 'read',
  scope: 'tenant',
  tag: 'inventory',
  schema: {
    params: macParams,
    querystring: { type: 'object', properties: { kind: logKinds, bytes: { type: 'integer', minimum: 0, maximum: MAX_LOG_BYTES, default: 65536 } }, additionalProperties: false },
    response: {
      200: {
        type: 'object',
        properties: {
          mac: { type: 'string' },
          logs: {
            type: 'array',
            items: { type: 'object', properties: { kind: logKinds, path: { type: 'string' }, file: storedFileSchema, text: { type: 'string' }, truncated: { type: 'boolean' } }, required: ['kind', 'path', 'file', 'text', 'truncated'] },
          },
        },
        required: ['mac', 'logs'],
      },
      404: schemas.problem,
    },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    const tail = Number(req.query.bytes ?? 65536);
    const out = [];
    for (const l of await req.admin.inventory.logs(mac, req.query.kind as 'boot' | 'app' | undefined, req.tenant)) {
      const buf = await l.file.read();
      const cut = buf.length > tail;
      out.push({ kind: l.kind, path: l.file.key.path, file: storedJson(l.file), text: (cut ? buf.subarray(buf.length - tail) : buf).toString('utf8'), truncated: cut });
    }
    return { mac, logs: out };
  },
};

export const routes: RouteDef[] = [inventoryList, inventoryOne, timeline, logs];
