// The file names phones read and write, and what they mean. White paper "Master Configuration
// File" and polycom-facts §3.2 (the files an IP 650 downloads and uploads).
import type { Mac } from '../config/types.ts';
import type { UploadKind } from '../store/store.ts';

/** Which master-file directory attribute an upload kind goes to. */
export const UPLOAD_DIRECTORY: Record<UploadKind, string> = {
  'override-phone': 'OVERRIDES_DIRECTORY',
  'override-web': 'OVERRIDES_DIRECTORY',
  directory: 'CONTACTS_DIRECTORY',
  'log-boot': 'LOG_FILE_DIRECTORY',
  'log-app': 'LOG_FILE_DIRECTORY',
  calls: 'CALL_LISTS_DIRECTORY',
};

const UPLOAD_SUFFIX: Array<[string, UploadKind]> = [
  ['-phone.cfg', 'override-phone'],
  ['-web.cfg', 'override-web'],
  ['-directory.xml', 'directory'],
  ['-boot.log', 'log-boot'],
  ['-app.log', 'log-app'],
  ['-calls.xml', 'calls'],
];

const MAC_PREFIX = /^([0-9a-fA-F]{12})(?=[-.])/;
const ZERO_MAC = '000000000000';

/** The phone a file name belongs to (`0004F2000001-phone.cfg` → 0004f2000001), if any. 000000000000 is no phone. */
export function macOfName(base: string): Mac | undefined {
  const m = MAC_PREFIX.exec(base);
  if (!m) return undefined;
  const mac = m[1]!.toLowerCase();
  return mac === ZERO_MAC ? undefined : (mac as Mac);
}

/** An upload name: whose, what kind, and its canonical spelling (lower-case MAC). */
export interface UploadName {
  mac: Mac;
  kind: UploadKind;
  name: string;
}

/** The upload kind of a name (`<MAC>-app.log` → log-app), or undefined for read-only names. */
export function uploadKindOf(base: string): UploadName | undefined {
  const mac = macOfName(base);
  if (!mac) return undefined;
  const rest = base.slice(12).toLowerCase();
  for (const [suffix, kind] of UPLOAD_SUFFIX) if (rest === suffix) return { mac, kind, name: mac + suffix };
  return undefined;
}

/** `<MAC>.cfg` (or the default master) — the request that starts a boot stage. */
export function isMasterName(base: string): boolean {
  return /^[0-9a-fA-F]{12}\.cfg$/.test(base);
}

/** Whether a name is MAC-specific (files only that phone may read when it has its own account). */
export function isPerPhoneName(base: string): boolean {
  return macOfName(base) !== undefined;
}

/** Canonical upload name for a phone and kind. */
export function uploadName(mac: Mac, kind: UploadKind): string {
  for (const [suffix, k] of UPLOAD_SUFFIX) if (k === kind) return `${mac}${suffix}`;
  throw new Error(`unknown upload kind ${kind}`);
}
