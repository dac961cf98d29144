// One request's state as it passes through the boot service's steps (admit, identify,
// authenticate, policy, content, record). Created once per request; each step fills in its part.
import type { UserAgentInfo } from '../config/models.ts';
import type { Mac, UploadKey } from '../domain.ts';
import type { Principal } from './authenticate.ts';
import type { UploadName } from '../config/phone-layout.ts';
import type { BootRequest } from './request.ts';
import type { TenantView } from './tenant-tree.ts';

/** Who the request is about: the MAC (from the path, the User-Agent or the address), model, stage. */
export interface Identity {
  mac?: Mac;
  ua?: UserAgentInfo;
  model?: string;
}

export interface RequestContext {
  readonly req: BootRequest;
  /**
   * The normalised path within the tenant's view (or the first 200 characters of a refused one);
   * `view.prefix + rel` is the root-relative path the phone asked for (issue 14, Tenants).
   */
  rel: string;
  /** The tenant whose prefix the path is under (the default tenant has none), with its tree and per-tree state. */
  view: TenantView;
  /** Its last segment. */
  base: string;
  /** The remote address without an IPv4-mapped prefix. */
  readonly address: string;
  id: Identity;
  principal: Principal;
  /** For write/append/delete: the upload the path names, once it is known to be in its directory. */
  upload?: { name: UploadName; key: UploadKey };
  /** A master file this phone surely read (content.ts): the inventory keeps it (issue 13 item 4). */
  masterRead?: boolean;
  /** Set by an override upload: whether it touched locked parameters (folded into the inventory with the upload's sighting). */
  overrideLocked?: boolean;
  /** performance.now() when the request arrived. */
  readonly started: number;
}

const ANONYMOUS: Principal = { kind: 'anonymous' };

export function newContext(req: BootRequest, address: string, view: TenantView): RequestContext {
  return { req, rel: '', base: '', view, address, id: {}, principal: ANONYMOUS, started: performance.now() };
}

/** The root-relative path the phone asked for: the tenant's prefix and the path within it. */
export function requestPath(ctx: RequestContext): string {
  return ctx.view.prefix === '' ? ctx.rel : ctx.rel === '' ? ctx.view.prefix.slice(0, -1) : ctx.view.prefix + ctx.rel;
}
