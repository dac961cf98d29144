// The managed file's name (issue 14, Serving): `managed/<MAC>.cfg` under a tenant's prefix holds
// that phone's rendered settings. Its base name looks like a master file's (`<MAC>.cfg`), but it
// is not one: boot-start detection, master listings and upload layouts must never take it for one.
import { isMasterName } from '../config/phone-layout.ts';

/** The directory of the managed files, at a tenant's root. */
export const MANAGED_DIR = 'managed';
const MANAGED_FILE = /^managed\/[0-9A-Fa-f]{12}\.cfg$/;

/** `managed/<MAC>.cfg` (a path within a tenant's view): the fleet's file of one phone. */
export function isManagedPath(rel: string): boolean {
  return MANAGED_FILE.test(rel);
}

/** A master-file name a phone asks for (`<MAC>.cfg`, `000000000000.cfg` in any directory), the managed file excepted. */
export function isMasterRequest(rel: string): boolean {
  return isMasterName(rel) && !isManagedPath(rel);
}
