// A phone's uploads over the REST API (issue 15 "Resources"): its stored overrides, contact
// directory, call lists and logs with their versions; one version; the override diff against
// the server's own files; restoring a version; Reset Local Config (an empty override, as the
// phone's own menu does); and the contact directory read and written (validated as lint does).
// An override's values are shown parameter by parameter with secrets as {"set": true}: an
// override file is where a phone's user may have typed a password, so its raw text never leaves.
// A tenant-bound token reads and writes only the uploads under its tenant's paths (req.tenant
// passed to the core, issue 15): a phone that booted under two tenants has uploads of each.
import { isSecretParam } from '../../config/params.ts';
import { overrideParams } from '../../core/admin-overrides.ts';
import type { StoredFile, UploadKind } from '../../domain.ts';
import { isProvError } from '../../errors.ts';
import { etagOf, requireMatch } from '../etag.ts';
import { ApiError, notFound } from '../problem.ts';
import { reply, schemas, type ApiRequest, type JSONSchema, type RouteDef } from '../route.ts';
import { macOf, macParams, requirePhone, storedFileSchema, storedJson } from './common.ts';

const KINDS: UploadKind[] = ['override-phone', 'override-web', 'directory', 'calls', 'log-boot', 'log-app'];
const isOverride = (k: UploadKind) => k === 'override-phone' || k === 'override-web';
/** Text of a version answered inline at most (the head). */
const MAX_TEXT = 1 << 20;

const kindSchema = { type: 'string', enum: KINDS } as const;
// `kind` is checked in the handler, after the phone: another tenant's phone is 404 whatever the kind.
const macKindParams: JSONSchema = {
  type: 'object',
  properties: { ...(macParams.properties as object), kind: { type: 'string', maxLength: 32, description: `one of ${KINDS.join(', ')}` } },
  required: ['mac', 'kind'],
};

function kindOf(req: ApiRequest): UploadKind {
  const k = req.params.kind as UploadKind;
  if (!KINDS.includes(k)) throw new ApiError('PP_API_INVALID', `path parameter kind must be one of ${KINDS.join(', ')}`, { status: 400, pointer: '/params/kind' });
  return k;
}
const secretOr = (s: JSONSchema): JSONSchema => ({ anyOf: [s, schemas.secretSet] });
const paramSchema: JSONSchema = { type: 'object', properties: { name: { type: 'string' }, value: secretOr({ type: 'string' }), line: { type: 'integer' } }, required: ['name', 'value'] };

const masked = (name: string, value: string): string | { set: true } => (isSecretParam(name) && value !== '' ? { set: true } : value);

async function contentOf(f: StoredFile): Promise<Record<string, unknown>> {
  const buf = await f.read();
  if (isOverride(f.key.kind)) return { params: overrideParams(buf, f.key.path).map((p) => ({ name: p.name, value: masked(p.name, p.value), line: p.line })) };
  return { text: buf.subarray(0, MAX_TEXT).toString('utf8'), truncated: buf.length > MAX_TEXT };
}

const list: RouteDef = {
  method: 'GET',
  url: '/phones/:mac/uploads',
  summary: "A phone's stored uploads (overrides, directory, call lists, logs), each with its versions, newest first",
  access: 'read',
  scope: 'tenant',
  tag: 'uploads',
  schema: {
    params: macParams,
    querystring: { type: 'object', properties: { kind: kindSchema }, additionalProperties: false },
    response: {
      200: {
        type: 'object',
        properties: { mac: { type: 'string' }, items: { type: 'array', items: { type: 'object', properties: { kind: kindSchema, path: { type: 'string' }, versions: { type: 'array', items: storedFileSchema } }, required: ['kind', 'path', 'versions'] } } },
        required: ['mac', 'items'],
      },
      404: schemas.problem,
    },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    const items = await req.admin.uploads.list(mac, req.query.kind as UploadKind | undefined, req.tenant);
    return { mac, items: items.map((u) => ({ kind: u.kind, path: u.path, versions: u.versions.map(storedJson) })) };
  },
};

const versionSchema: JSONSchema = {
  type: 'object',
  properties: { mac: { type: 'string' }, kind: kindSchema, path: { type: 'string' }, file: storedFileSchema, params: { type: 'array', items: paramSchema }, text: { type: 'string' }, truncated: { type: 'boolean' } },
  required: ['mac', 'kind', 'path', 'file'],
};

const getVersion: RouteDef = {
  method: 'GET',
  url: '/phones/:mac/uploads/:kind',
  summary: 'One version of an upload (the current one without ?version): an override as parameters (secrets {"set": true}), other kinds as text',
  access: 'read',
  scope: 'tenant',
  tag: 'uploads',
  schema: {
    params: macKindParams,
    querystring: { type: 'object', properties: { version: { type: 'integer', minimum: 1 } }, additionalProperties: false },
    response: { 200: versionSchema, 400: schemas.problem, 404: schemas.problem },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    const kind = kindOf(req);
    const version = req.query.version === undefined ? undefined : Number(req.query.version);
    const f = await req.admin.uploads.version(mac, kind, version, req.tenant);
    if (!f) throw notFound(`${kind} upload${version === undefined ? '' : ` version ${version}`} of phone ${mac}`);
    return { mac, kind, path: f.key.path, file: storedJson(f), ...(await contentOf(f)) };
  },
};

const restore: RouteDef = {
  method: 'POST',
  url: '/phones/:mac/uploads/:kind/restore',
  summary: 'Make an older version of an upload current again (stored as a new version; the history keeps the one it replaces)',
  access: 'operate',
  scope: 'tenant',
  tag: 'uploads',
  schema: {
    params: macKindParams,
    body: { type: 'object', properties: { version: { type: 'integer', minimum: 1 } }, required: ['version'], additionalProperties: false },
    response: { 200: versionSchema, 400: schemas.problem, 404: schemas.problem },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    const kind = kindOf(req);
    const { version } = req.body as { version: number };
    const f = await req.admin.uploads.restore(mac, kind, version, req.tenant);
    if (!f) throw new ApiError('PP_API_NOT_FOUND', `phone ${mac} has no ${kind} upload version ${version}: list its versions with GET /phones/${mac}/uploads`, { status: 404, pointer: '/version' });
    return { mac, kind, path: f.key.path, file: storedJson(f), ...(await contentOf(f)) };
  },
};

const diff: RouteDef = {
  method: 'GET',
  url: '/phones/:mac/uploads/diff',
  summary: "Each overridden parameter whose value differs from what the server's own files give the phone (secrets {\"set\": true})",
  access: 'read',
  scope: 'tenant',
  tag: 'uploads',
  schema: {
    params: macParams,
    response: {
      200: {
        type: 'object',
        properties: {
          mac: { type: 'string' },
          items: {
            type: 'array',
            items: {
              type: 'object',
              properties: { kind: { type: 'string', enum: ['phone', 'web'] }, name: { type: 'string' }, phone: secretOr({ type: 'string' }), server: { anyOf: [{ type: 'string' }, { type: 'null' }, schemas.secretSet] }, source: { type: ['string', 'null'] } },
              required: ['kind', 'name', 'phone', 'server', 'source'],
            },
          },
        },
        required: ['mac', 'items'],
      },
      404: schemas.problem,
    },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    const rows = await req.admin.overrides.diff(mac, undefined, req.tenant);
    return { mac, items: rows.map((r) => ({ kind: r.kind, name: r.name, phone: masked(r.name, r.phone), server: r.server === null ? null : masked(r.name, r.server), source: r.source })) };
  },
};

const reset: RouteDef = {
  method: 'DELETE',
  url: '/phones/:mac/uploads',
  summary: 'Reset Local Config, server side: an empty override of each kind (and, with ?directory=true, the stored contact directory removed)',
  access: 'operate',
  scope: 'tenant',
  tag: 'uploads',
  schema: {
    params: macParams,
    querystring: { type: 'object', properties: { directory: { type: 'boolean', default: false } }, additionalProperties: false },
    response: { 200: { type: 'object', properties: { mac: { type: 'string' }, cleared: { type: 'array', items: { type: 'string' } } }, required: ['mac', 'cleared'] }, 404: schemas.problem },
  },
  async handler(req) {
    const mac = macOf(req);
    await requirePhone(req, mac);
    const cleared = await req.admin.overrides.clear(mac, ['phone', 'web'], undefined, req.tenant);
    if (req.query.directory === true) {
      const d = await req.admin.overrides.clearDirectory(mac, undefined, req.tenant);
      if (d) cleared.push(d);
    }
    return { mac, cleared };
  },
};

// ---- the contact directory -------------------------------------------------------------------

const directoryProblem: JSONSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, line: { type: 'integer' }, severity: { type: 'string' } }, required: ['code', 'message', 'severity'] };
const directorySchema: JSONSchema = {
  type: 'object',
  properties: { mac: { type: 'string' }, path: { type: 'string' }, file: storedFileSchema, xml: { type: 'string' }, warnings: { type: 'array', items: directoryProblem } },
  required: ['mac', 'path', 'file', 'xml'],
};

async function currentDirectory(req: ApiRequest) {
  const mac = macOf(req);
  await requirePhone(req, mac);
  const f = await req.admin.uploads.version(mac, 'directory', undefined, req.tenant);
  if (!f) return { mac, f: undefined, body: undefined, etag: undefined };
  const xml = (await f.read()).toString('utf8');
  const body = { mac, path: f.key.path, file: storedJson(f), xml };
  return { mac, f, body, etag: etagOf({ path: f.key.path, version: f.version, sha256: f.sha256 }) };
}

const getDirectory: RouteDef = {
  method: 'GET',
  url: '/phones/:mac/directory',
  summary: "The phone's stored contact directory (what it uploaded, or what was written here), with its ETag",
  access: 'read',
  scope: 'tenant',
  tag: 'uploads',
  schema: { params: macParams, response: { 200: directorySchema, 404: schemas.problem } },
  async handler(req) {
    const d = await currentDirectory(req);
    if (!d.body) throw notFound(`stored contact directory of phone ${d.mac}`);
    return reply(200, d.body, { etag: d.etag! });
  },
};

const putDirectory: RouteDef = {
  method: 'PUT',
  url: '/phones/:mac/directory',
  summary: 'Write the contact directory the phone reads next (checked as lint checks a directory; If-Match needed when one is stored)',
  access: 'operate',
  scope: 'tenant',
  tag: 'uploads',
  schema: {
    params: macParams,
    body: { type: 'object', properties: { xml: { type: 'string', minLength: 1, maxLength: 1 << 20 } }, required: ['xml'], additionalProperties: false },
    response: { 200: directorySchema, 201: directorySchema, 404: schemas.problem, 412: schemas.problem, 422: schemas.problem, 428: schemas.problem },
  },
  async handler(req) {
    const d = await currentDirectory(req);
    if (d.etag) requireMatch(req.ifMatch, d.etag);
    const { xml } = req.body as { xml: string };
    let out;
    try {
      out = await req.admin.uploads.putDirectory(d.mac, Buffer.from(xml, 'utf8'), req.tenant);
    } catch (err) {
      if (isProvError(err) && err.code === 'PP_UPLOAD_TOO_LARGE') throw new ApiError('PP_API_TOO_LARGE', err.message, { status: 413, pointer: '/xml' });
      throw err;
    }
    if ('problems' in out) {
      const first = out.problems.find((p) => p.severity === 'error')!;
      const more = out.problems.filter((p) => p.severity === 'error').length - 1;
      throw new ApiError(first.code as never, `${first.line !== undefined ? `line ${first.line}: ` : ''}${first.message}${more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''}: run polyprov lint on the file)` : ''}`, { status: 422, pointer: '/xml' });
    }
    const f = out.file;
    const body = { mac: d.mac, path: f.key.path, file: storedJson(f), xml, warnings: out.warnings };
    return reply(d.f ? 200 : 201, body, { etag: etagOf({ path: f.key.path, version: f.version, sha256: f.sha256 }) });
  },
};

export const routes: RouteDef[] = [list, diff, getVersion, restore, reset, getDirectory, putDirectory];
