// ETags and If-Match for the REST API (issue 15 "Writes"): an update must name the version it
// changes — 428 without If-Match, 412 when the resource moved on — never a silent overwrite.
// An ETag is a strong tag over the resource's canonical JSON (keys sorted), so two nodes agree.
import { createHash } from 'node:crypto';
import { ApiError } from './problem.ts';

/** Canonical JSON: object keys sorted, so equal resources hash equally. Dates as ISO strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}
function sortKeys(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** The ETag of a resource: `"` + 27 base64url characters of its SHA-256 + `"`. */
export function etagOf(resource: unknown): string {
  return `"${createHash('sha256').update(canonicalJson(resource)).digest('base64url').slice(0, 27)}"`;
}

/**
 * Checks an update's If-Match against the resource's current ETag: throws 428 (PP_API_PRECONDITION_REQUIRED)
 * without one, 412 (PP_API_PRECONDITION_FAILED) when it does not match. `*` matches any existing resource.
 * A weak `W/` prefix is ignored (the comparison is the tag's opaque part).
 */
export function requireMatch(ifMatch: string | undefined, currentEtag: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '') {
    throw new ApiError('PP_API_PRECONDITION_REQUIRED', 'this update needs an If-Match header with the ETag of the resource you read (GET it first)', { status: 428 });
  }
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes('*') || tags.includes(currentEtag)) return;
  throw new ApiError('PP_API_PRECONDITION_FAILED', `the resource changed since you read it (its ETag is now ${currentEtag}): GET it again, re-apply your change, and retry`, { status: 412 });
}
