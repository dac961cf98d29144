// `explain` for one MAC over the REST API (issue 15 "Resources"): the same JSON object as
// `polyprov explain --json` (src/config/explain-json.ts) — master file, CONFIG_FILES, where the
// uploads go, stored uploads and whether each is served, and every parameter with its source,
// the managed scope that set it (`"scope": "site:hq"`) and what it shadowed. Secrets are masked
// as the CLI masks them (`********`); there is no --show-secrets over the API.
import { normalizeModel } from '../../config/models.ts';
import { toExplainJson } from '../../config/explain-json.ts';
import { ApiError } from '../problem.ts';
import { schemas, type JSONSchema, type RouteDef } from '../route.ts';
import { macOf, macParams, requirePhone } from './common.ts';

const str = { type: 'string' } as const;
const srcSchema: JSONSchema = { type: 'object', properties: { file: str, line: { type: 'integer' }, upload: str }, required: ['file', 'line'] };
const paramSchema: JSONSchema = {
  type: 'object',
  properties: {
    value: str,
    source: srcSchema,
    scope: str,
    shadowed: { type: 'array', items: { type: 'object', properties: { value: str, scope: str, source: srcSchema }, required: ['value', 'source'] } },
    applied: { type: 'boolean' },
    reason: str,
  },
  required: ['value', 'source', 'shadowed', 'applied'],
};

const explainSchema: JSONSchema = {
  type: 'object',
  properties: {
    master: { anyOf: [{ type: 'object', properties: { file: str, reason: str }, required: ['file', 'reason'] }, { type: 'null' }] },
    application: { type: ['string', 'null'] },
    configFiles: { type: 'array', items: { type: 'object', properties: { name: str, found: { type: 'boolean' } }, required: ['name', 'found'] } },
    directories: { type: 'object', properties: { logs: str, overrides: str, contacts: str, licenses: str }, required: ['logs', 'overrides', 'contacts', 'licenses'] },
    directory: { type: ['string', 'null'] },
    uploads: { type: 'object', additionalProperties: str },
    stored: {
      anyOf: [
        {
          type: 'array',
          items: {
            type: 'object',
            properties: { kind: str, path: str, version: { type: 'integer' }, storedAt: { type: 'string', format: 'date-time' }, address: str, served: { type: 'boolean' }, why: str, stripped: { type: 'array', items: str } },
            required: ['kind', 'path', 'version', 'storedAt', 'served', 'why', 'stripped'],
          },
        },
        { type: 'null' },
      ],
    },
    notes: { type: 'array', items: str },
    managed: { type: 'object', properties: { tenant: str, managed: { type: 'boolean' }, file: { type: ['string', 'null'] }, listed: { type: 'boolean' } }, required: ['tenant', 'managed', 'file', 'listed'] },
    params: { type: 'object', additionalProperties: paramSchema },
  },
  required: ['master', 'application', 'configFiles', 'directories', 'directory', 'uploads', 'stored', 'notes', 'params'],
};

const explain: RouteDef = {
  method: 'GET',
  url: '/phones/:mac/explain',
  summary: 'What the phone gets from this server, parameter by parameter with source and managed scope: the JSON of polyprov explain --json (secrets masked)',
  access: 'read',
  scope: 'tenant',
  tag: 'phones',
  schema: {
    params: macParams,
    querystring: {
      type: 'object',
      properties: {
        model: { type: 'string', maxLength: 32, description: 'model token (VVX410); default: what the inventory or the fleet knows' },
        master: { type: 'string', maxLength: 255, description: "the boot-server address's path: a named master file or a directory (tenant1/)" },
      },
      additionalProperties: false,
    },
    response: { 200: explainSchema, 400: schemas.problem, 404: schemas.problem },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    let model: string | undefined;
    if (req.query.model !== undefined) {
      model = normalizeModel(String(req.query.model));
      if (!model) throw new ApiError('PP_API_INVALID', 'model is not a known model token: use one such as SPIP650, SSIP6000, VVX410 or Trio8800', { status: 400, pointer: '/query/model' });
    }
    const master = req.query.master as string | undefined;
    if (master !== undefined && (master.includes('..') || master.startsWith('/') || master.includes('\\'))) throw new ApiError('PP_API_INVALID', 'master must be a path inside the tree (no .., no leading /)', { status: 400, pointer: '/query/master' });
    const ex = await req.admin.explain.explain(mac, { ...(model ? { model } : {}), ...(master !== undefined ? { masterName: master } : {}) });
    return toExplainJson(ex.resolution, { showSecrets: false, stored: ex.stored, ...(ex.note !== undefined ? { note: ex.note } : {}), ...(ex.managed ? { managed: ex.managed } : {}) });
  },
};

export const routes: RouteDef[] = [explain];
