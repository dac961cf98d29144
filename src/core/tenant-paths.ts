// Which stored paths belong to a tenant (issue 14 Tenants; issue 15 "tenant-bound tokens see only
// their tenant"). Uploads and audit events keep the root-relative path the phone used, and a
// tenant other than the default is served under its URL prefix, so its paths start `T/`; the
// default tenant has no prefix, so its paths are those whose first segment is no tenant the
// fleet has. The admin service filters a phone's uploads, logs and requests with this for a
// tenant-bound API token; unbound callers (the CLI, an unbound token) pass no tenant and see all.
import { DEFAULT_TENANT } from '../domain.ts';

/** Whether `name` is a tenant with its own prefix (the fleet has it; never the default tenant). */
export type IsTenant = (name: string) => boolean;

/** Whether the root-relative `path` is tenant `tenant`'s; with no tenant, every path is. */
export function tenantHoldsPath(tenant: string | undefined, path: string, isTenant: IsTenant): boolean {
  if (tenant === undefined) return true;
  if (tenant !== DEFAULT_TENANT) return path.startsWith(`${tenant}/`);
  const slash = path.indexOf('/');
  if (slash <= 0) return true;
  const first = path.slice(0, slash);
  return first === DEFAULT_TENANT || !isTenant(first);
}

/** The URL prefix of a tenant's paths: `acme/`, or '' for the default tenant (and for no tenant). */
export function tenantPrefix(tenant: string | undefined): string {
  return tenant === undefined || tenant === DEFAULT_TENANT ? '' : `${tenant}/`;
}
