// Edits made "on the phone" between boots: a parameter changed from the keypad goes into the
// local override file <MAC>-phone.cfg (white paper, OVERRIDES_DIRECTORY: "values that have been
// changed locally using the phone keypad"), and a contact added to the local directory changes
// <MAC>-directory.xml ("the phone will rewrite this file whenever a contact is added"). Both are
// marked pending; the next boot or `phone run` uploads them.
import { parseConfigFile } from '../config/config-file.ts';
import { parseContactDirectory } from '../config/contact-directory.ts';
import type { Contact } from '../config/types.ts';
import { writeConfigFile, writeContactDirectory } from '../config/write-xml.ts';
import { ProvError } from '../errors.ts';
import type { PhoneCacheData } from './state.ts';

/** Sets (or with value undefined, removes) one parameter in the local <MAC>-phone.cfg. */
export function setLocalParam(d: PhoneCacheData, name: string, value: string | undefined): void {
  let params: Array<{ name: string; value: string }> = [];
  if (d.overrides.phone && d.overrides.phone.length > 0) {
    const cfg = parseConfigFile(d.overrides.phone, 'phone.cfg');
    if (cfg.kind === 'encrypted') throw new ProvError('PP_CFG_ENCRYPTED', 'the cached override file is encrypted; polyprov cannot edit it');
    params = cfg.params.map((p) => ({ name: p.name, value: p.value }));
  }
  const at = params.findIndex((p) => p.name === name);
  if (value === undefined) {
    if (at >= 0) params.splice(at, 1);
  } else if (at >= 0) params[at] = { name, value };
  else params.push({ name, value });
  d.overrides.phone = Buffer.from(writeConfigFile(params), 'utf8');
  d.pending.phone = true;
}

export type NewContact = Omit<Contact, 'pos' | 'fieldPos'>;

function contactsOf(d: PhoneCacheData): NewContact[] {
  if (!d.directory || d.directory.length === 0) return [];
  return parseContactDirectory(d.directory, 'directory.xml').contacts.map(({ pos: _pos, fieldPos: _fp, ...c }) => c);
}

/** Adds a contact; its ct "cannot be null or duplicated" (facts §6.1). */
export function addContact(d: PhoneCacheData, c: NewContact): void {
  if (!c.ct) throw new ProvError('PP_USAGE', 'a contact needs --ct (the number or SIP URL): "cannot be null"');
  const contacts = contactsOf(d);
  if (contacts.some((x) => x.ct === c.ct)) throw new ProvError('PP_USAGE', `contact ${c.ct} is already in the directory; ct "cannot be … duplicated"`);
  contacts.push(c);
  d.directory = Buffer.from(writeContactDirectory(contacts), 'utf8');
  d.pending.directory = true;
}

export function removeContact(d: PhoneCacheData, ct: string): boolean {
  const contacts = contactsOf(d);
  const left = contacts.filter((x) => x.ct !== ct);
  if (left.length === contacts.length) return false;
  d.directory = Buffer.from(writeContactDirectory(left), 'utf8');
  d.pending.directory = true;
  return true;
}

export function listContacts(d: PhoneCacheData): NewContact[] {
  return contactsOf(d);
}
