// The bytes the fleet serves (issue 14, Serving): a managed phone's `managed/<MAC>.cfg` — an
// ordinary Polycom configuration file written by src/config/write-xml.ts, so every value is
// escaped by construction — the empty valid file an unmanaged phone gets (never a 404: a phone
// that cannot read one CONFIG_FILES entry falls back to its cached copies of all of them), the
// default master file for a tenant whose tree has none, and a strong ETag of any of them.
// Deterministic: no comments, no dates, parameters sorted, so equal settings give equal bytes.
import { createHash } from 'node:crypto';
import type { Mac } from '../domain.ts';
import { ProvError, isProvError } from '../errors.ts';
import { MANAGED_ENTRY } from '../config/lint/managed.ts';
import { STARTER_DIRECTORIES } from '../config/starter-tree.ts';
import { escapeAttr, writeConfigFile } from '../config/write-xml.ts';

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** `managed/<MAC>.cfg` for one phone: its effective settings, sorted by name. */
export function renderManaged(settings: ReadonlyArray<{ name: string; value: string }>, mac: Mac | string): Buffer {
  const sorted = settings.map(({ name, value }) => ({ name, value })).sort(byName);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.name === sorted[i - 1]!.name) throw new ProvError('PP_INTERNAL', `managed/${mac}.cfg: parameter ${sorted[i]!.name} given twice to the renderer`);
  }
  try {
    return Buffer.from(writeConfigFile(sorted), 'utf8');
  } catch (e) {
    // Values are checked before they are stored (validate.ts), so this is a bug, not a user error;
    // say which phone's file, never the value.
    if (isProvError(e)) throw new ProvError('PP_INTERNAL', `managed/${mac}.cfg cannot be rendered: ${e.message}`, { cause: e });
    throw e;
  }
}

const EMPTY = Buffer.from(writeConfigFile([]), 'utf8');

/** The managed file of a phone polyprov does not manage: valid, parses, sets nothing. */
export function renderEmpty(): Buffer {
  return Buffer.from(EMPTY);
}

const [LOGS, OVERRIDES, CONTACTS, LICENSES, CALLS] = STARTER_DIRECTORIES;

/** The master attributes, in the order the starter tree writes them. */
const MASTER_ATTRS: ReadonlyArray<readonly [string, string]> = [
  ['APP_FILE_PATH', ''],
  ['CONFIG_FILES', MANAGED_ENTRY],
  ['MISC_FILES', ''],
  ['LOG_FILE_DIRECTORY', LOGS],
  ['OVERRIDES_DIRECTORY', OVERRIDES],
  ['CONTACTS_DIRECTORY', CONTACTS],
  ['LICENSE_DIRECTORY', LICENSES],
  ['USER_PROFILES_DIRECTORY', ''],
  ['CALL_LISTS_DIRECTORY', CALLS],
  ['COREFILE_DIRECTORY', ''],
];

const DEFAULT_MASTER = Buffer.from(
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<APPLICATION${MASTER_ATTRS.map(([k, v]) => `\n  ${k}="${escapeAttr(v, k)}"`).join('')}/>\n`,
  'utf8',
);

/**
 * The master file served where a tenant's tree has none: the phone's managed file first (and
 * only) in CONFIG_FILES, no firmware (APP_FILE_PATH empty), and the starter tree's upload
 * directories.
 */
export function renderDefaultMaster(): Buffer {
  return Buffer.from(DEFAULT_MASTER);
}

/** A strong ETag (RFC 9110 §8.8.3), quoted: `"m-<base64url of the first 16 bytes of SHA-256>"`. */
export function etagOf(body: Buffer | string): string {
  return `"m-${createHash('sha256').update(body).digest().subarray(0, 16).toString('base64url')}"`;
}
