// Errors of the REST API as problem+json (RFC 9457, issue 15 "Errors"): every refusal has a
// `type`, `title`, `status`, a `detail` that says what to do, the polyprov `code` (PP_*) and, for
// invalid input, the JSON `pointer` of the offending field (`/settings/reg.1.auth.password`).
// Bad input — malformed JSON, wrong types, unknown fields, oversized bodies — is a 4xx, never 500.
// A detail never quotes the value sent: it may be a secret.
import { errorDef, isProvError, ProvError, type ErrorCode } from '../errors.ts';

export const PROBLEM_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  pointer?: string;
}

/** A ProvError with the HTTP status and, for input errors, the JSON pointer of the field. */
export class ApiError extends ProvError {
  readonly status: number;
  readonly pointer?: string;
  constructor(code: ErrorCode, message: string, init: { status?: number; pointer?: string; hint?: string } = {}) {
    super(code, message, { hint: init.hint });
    this.status = init.status ?? errorDef(code).http ?? 500;
    if (init.pointer !== undefined) this.pointer = init.pointer;
  }
}

/** A 404 in the API's form (also what a tenant-bound token gets for what it may not see). */
export function notFound(what: string): ApiError {
  return new ApiError('PP_API_NOT_FOUND', `${what} not found`, { status: 404 });
}

function typeUri(code: string): string {
  return `https://polyprov.invalid/errors#${code}`;
}

export function problem(code: ErrorCode | string, status: number, detail: string, pointer?: string): Problem {
  const def = safeDef(code);
  const p: Problem = { type: typeUri(code), title: def?.summary ?? 'error', status, detail, code };
  if (pointer !== undefined) p.pointer = pointer;
  return p;
}

function safeDef(code: string): { summary: string } | undefined {
  try {
    return errorDef(code as ErrorCode);
  } catch {
    return undefined;
  }
}

/** Ajv's error, as Fastify attaches it to a validation failure. */
interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Escape one JSON-pointer token (RFC 6901). */
export function pointerToken(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The JSON pointer of the field an Ajv error is about. */
export function pointerOf(e: AjvError): string {
  const base = e.instancePath;
  if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') return `${base}/${pointerToken(e.params.additionalProperty)}`;
  if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') return `${base}/${pointerToken(e.params.missingProperty)}`;
  return base;
}

function describe(e: AjvError, where: string): string {
  const field = pointerOf(e) || '/';
  const place = where === 'body' ? (field === '/' ? 'the body' : `field ${field}`) : `${where === 'querystring' ? 'query' : where} parameter ${field.slice(1) || '(all)'}`;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${place} is not one this resource has: remove it (unknown fields are refused so a typo is never silently ignored)`;
    case 'required':
      return `${place} is required: add it`;
    case 'type':
      return `${place} must be of type ${String(e.params.type)}`;
    default:
      // Ajv's messages name the limit, never the value sent.
      return `${place} ${e.message ?? 'is invalid'}`;
  }
}

/**
 * The problem for anything a handler or Fastify threw. Fastify's own errors (validation, body
 * parsing, size, media type) become 4xx with PP_API_* codes; a ProvError keeps its code and the
 * status of its catalogue entry; anything else is a 500 whose detail says nothing of the cause.
 */
export function toProblem(err: unknown): Problem {
  if (err instanceof ApiError) return problem(err.code, err.status, withHint(err), err.pointer);
  if (isProvError(err)) return problem(err.code, err.def.http ?? 500, err.def.http === undefined || err.def.http >= 500 ? err.def.summary : withHint(err));
  const e = err as { validation?: AjvError[]; validationContext?: string; statusCode?: number; code?: string; message?: string };
  if (Array.isArray(e?.validation) && e.validation.length > 0) {
    const first = e.validation[0]!;
    const where = e.validationContext ?? 'body';
    return problem('PP_API_INVALID', 400, describe(first, where), where === 'body' ? pointerOf(first) : `/${where === 'querystring' ? 'query' : where}${pointerOf(first)}`);
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return problem('PP_API_TOO_LARGE', 413, 'the request body is over the size limit: send less at once');
  if (status === 415) return problem('PP_API_MEDIA_TYPE', 415, 'this route takes a JSON body: send Content-Type: application/json');
  if (status === 404) return problem('PP_API_NOT_FOUND', 404, 'no such API route: see /api/v1/openapi.json');
  if (status >= 400 && status < 500) {
    if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return problem('PP_API_INVALID', 400, 'the body is empty: send a JSON object (or no Content-Type: application/json)');
    const json = /JSON/i.test(e.code ?? '') || /JSON/.test(e.message ?? '') || err instanceof SyntaxError;
    return problem('PP_API_INVALID', 400, json ? 'the body is not valid JSON: check quoting, commas and brackets' : 'the request is malformed');
  }
  return problem('PP_INTERNAL', 500, 'internal error: the server log has the details');
}

function withHint(e: ProvError): string {
  return e.hint ? `${e.message}. ${e.hint}` : e.message;
}
