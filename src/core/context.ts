// One request's state as it passes through the boot service's steps (admit, identify,
// authenticate, policy, content, record). Created once per request; each step fills in its part.
import type { UserAgentInfo } from '../config/models.ts';
import type { Mac, UploadKey } from '../domain.ts';
import type { Principal } from './authenticate.ts';
import type { UploadName } from '../config/phone-layout.ts';
import type { BootRequest } from './request.ts';

/** Who the request is about: the MAC (from the path, the User-Agent or the address), model, stage. */
export interface Identity {
  mac?: Mac;
  ua?: UserAgentInfo;
  model?: string;
}

export interface RequestContext {
  readonly req: BootRequest;
  /** The normalised root-relative path (or the first 200 characters of a refused one). */
  rel: string;
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

export function newContext(req: BootRequest, address: string): RequestContext {
  return { req, rel: '', base: '', address, id: {}, principal: ANONYMOUS, started: performance.now() };
}
