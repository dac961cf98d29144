// CSV import and export of the managed fleet over the REST API (issue 15 "Resources"; the file
// format is the CLI's, src/fleet/csv.ts). POST /import takes the CSV as text/csv: `?mode=validate`
// checks every row and applies nothing, `?mode=apply` applies all or nothing; the answer is the
// per-line report (`FILE:LINE: column: message`). GET /export answers the fleet as CSV, never with
// secrets (their cells are empty). A tenant-bound token imports and exports its tenant only.
import { DEFAULT_TENANT } from '../../domain.ts';
import { parseFleetCsv } from '../../fleet/csv.ts';
import { ApiError } from '../problem.ts';
import { reply, schemas, type JSONSchema, type RouteDef } from '../route.ts';
import { fleetApi, fleetCall } from './fleet-common.ts';

const FILE = 'import.csv';

const reportSchema: JSONSchema = {
  type: 'object',
  properties: {
    mode: { type: 'string', enum: ['validate', 'apply'] },
    applied: { type: 'boolean' },
    added: { type: 'integer' },
    changed: { type: 'integer' },
    unchanged: { type: 'integer' },
    errors: { type: 'array', items: { type: 'string' }, description: 'one per bad row: FILE:LINE: column: message' },
  },
  required: ['mode', 'applied', 'added', 'changed', 'unchanged', 'errors'],
};

const importCsv: RouteDef = {
  method: 'POST',
  url: '/import',
  summary: 'Import managed phones and settings from CSV (Content-Type: text/csv): mode=validate checks only, mode=apply applies all or nothing; the per-line report',
  access: 'operate',
  scope: 'tenant',
  tag: 'fleet',
  consumes: ['text/csv'],
  schema: {
    querystring: { type: 'object', properties: { mode: { type: 'string', enum: ['validate', 'apply'] }, create: { type: 'boolean', default: false, description: 'create tenants, sites and groups the file names' } }, required: ['mode'], additionalProperties: false },
    body: { type: 'string', minLength: 1 },
    response: { 200: reportSchema, 400: schemas.problem, 415: schemas.problem, 422: reportSchema },
  },
  async handler(req) {
    const mode = req.query.mode as 'validate' | 'apply';
    if (typeof req.body !== 'string') throw new ApiError('PP_API_MEDIA_TYPE', 'send the CSV file as the body with Content-Type: text/csv', { status: 415 });
    const f = fleetApi(req.admin);
    const bytes = Buffer.from(req.body, 'utf8');
    // A tenant-bound token: every row must be its tenant's (a blank tenant cell is the default tenant).
    if (req.tenant !== undefined) {
      const { rows } = parseFleetCsv(bytes, FILE);
      const foreign = rows.filter((r) => (r.phone.tenant ?? DEFAULT_TENANT) !== req.tenant).map((r) => `${FILE}:${r.line}: tenant: this token may import into tenant ${req.tenant} only`);
      if (foreign.length) return reply(422, { mode, applied: false, added: 0, changed: 0, unchanged: 0, errors: foreign });
    }
    const r = await fleetCall(() => f.importCsv(bytes, FILE, { dryRun: mode === 'validate', create: req.query.create === true }));
    const body = { mode, applied: mode === 'apply' && r.errors.length === 0, added: r.added, changed: r.changed, unchanged: r.unchanged, errors: r.errors };
    return reply(r.errors.length ? 422 : 200, body);
  },
};

const exportCsv: RouteDef = {
  method: 'GET',
  url: '/export',
  summary: 'The managed fleet as CSV (the import format), secrets left empty',
  access: 'read',
  scope: 'tenant',
  tag: 'fleet',
  schema: {
    querystring: { type: 'object', properties: { tenant: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } }, additionalProperties: false },
    response: { 200: { type: 'string', description: 'text/csv' }, 404: schemas.problem },
  },
  async handler(req) {
    const f = fleetApi(req.admin);
    const asked = req.query.tenant as string | undefined;
    if (req.tenant !== undefined && asked !== undefined && asked !== req.tenant) throw new ApiError('PP_API_NOT_FOUND', `tenant ${asked} not found`, { status: 404 });
    const tenant = req.tenant ?? asked;
    if (tenant !== undefined && !(await f.tenants()).some((t) => t.name === tenant)) throw new ApiError('PP_API_NOT_FOUND', `tenant ${tenant} not found`, { status: 404 });
    const csv = await fleetCall(() => f.exportCsv({ ...(tenant !== undefined ? { tenant } : {}), withSecrets: false }));
    return { ...reply(200, csv), contentType: 'text/csv; charset=utf-8' };
  },
};

export const routes: RouteDef[] = [importCsv, exportCsv];
