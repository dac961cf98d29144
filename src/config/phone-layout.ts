// The phone layout: for one (master file, MAC, model, part number), which master file the phone
// finds and why, the image it loads, its CONFIG_FILES, every directory the master names, and
// where each of its uploads goes (the upload key). This module is the one owner of those rules:
// the boot server's core, the resolver behind `explain`, `lint`, the virtual phone and the CLI
// all call it, so what the server accepts and what `explain` says cannot differ.
//
// Paths are tree paths (relative to the provisioning root, forward slashes, '' = the root) or
// URLs kept as written. A master file may sit in a sub-directory (the boot-server address may
// carry a directory, Administrator's Guide, "Master Configuration Files"; hosted services put
// one tenant per directory): everything it names resolves against its own directory.
import { posix } from 'node:path';
import type { Mac, UploadKey, UploadKind } from '../domain.ts';
import { ProvError, isProvError } from '../errors.ts';
import { applyMaster, imageCandidates, isUrl, masterFindings, parseMasterFile } from './master-file.ts';
import type { EffectiveMaster, MasterFile, PhoneIdentity, TreeSource } from './types.ts';
import { isMasterName, macOfName } from './phone-names.ts';

export { isMasterName, macOfName };

// --- file names ------------------------------------------------------------------------------

/** The default master file (Administrator's Guide, "Master Configuration Files": 12 zeros). */
export const DEFAULT_MASTER = '000000000000.cfg';
function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The files phones write (white paper, "Master Configuration File"; polycom-facts §3.2): each
 * kind with its name suffix and the master-file directory it goes to.
 */
const UPLOADS: ReadonlyArray<{ suffix: string; kind: UploadKind; dir: keyof Directories }> = [
  { suffix: '-phone.cfg', kind: 'override-phone', dir: 'overrides' },
  { suffix: '-web.cfg', kind: 'override-web', dir: 'overrides' },
  { suffix: '-directory.xml', kind: 'directory', dir: 'contacts' },
  { suffix: '-boot.log', kind: 'log-boot', dir: 'logs' },
  { suffix: '-app.log', kind: 'log-app', dir: 'logs' },
  { suffix: '-calls.xml', kind: 'calls', dir: 'callLists' },
];

/** An upload name: whose, what kind, and its canonical spelling (lower-case MAC). */
export interface UploadName {
  mac: Mac;
  kind: UploadKind;
  name: string;
}

/** The upload kind of a name (`<MAC>-app.log` → log-app), or undefined for names phones never write. */
export function uploadKindOf(path: string): UploadName | undefined {
  const base = baseName(path);
  const mac = macOfName(base);
  if (!mac) return undefined;
  const rest = base.slice(12).toLowerCase();
  for (const u of UPLOADS) if (rest === u.suffix) return { mac, kind: u.kind, name: mac + u.suffix };
  return undefined;
}

/** Canonical upload name for a phone and kind (`0004f2000001-phone.cfg`). */
export function uploadName(mac: Mac, kind: UploadKind): string {
  return mac + UPLOADS.find((u) => u.kind === kind)!.suffix;
}

// --- directories -----------------------------------------------------------------------------

export interface Directories {
  logs: string;
  overrides: string;
  contacts: string;
  licenses: string;
  callLists: string;
  userProfiles: string;
  coreFiles: string;
  certificates: string;
  flk: string;
  icons: string;
  cameraPresets: string;
}

/**
 * Every directory attribute with its spellings, the first present winning. The Administrator's
 * Guide (master file example; "Configuring the Boot Server": "Edit the CONTACT_DIRECTORY
 * attribute") and the white paper ("CONTACT_DIRECTORY This is the location where the phone will
 * read and/or write the local contact directory file") spell the contact directory both ways;
 * every real file writes CONTACTS_DIRECTORY (facts §1.3). LOG_FILE_DIRECTORY, OVERRIDES_DIRECTORY
 * and LICENSE_DIRECTORY are in both documents; the rest are in the UCS distribution master file
 * (facts §1.3, full attribute list).
 */
export const DIRECTORY_ATTRIBUTES: Readonly<Record<keyof Directories, readonly string[]>> = {
  logs: ['LOG_FILE_DIRECTORY'],
  overrides: ['OVERRIDES_DIRECTORY'],
  contacts: ['CONTACTS_DIRECTORY', 'CONTACT_DIRECTORY'],
  licenses: ['LICENSE_DIRECTORY'],
  callLists: ['CALL_LISTS_DIRECTORY'],
  userProfiles: ['USER_PROFILES_DIRECTORY'],
  coreFiles: ['COREFILE_DIRECTORY'],
  certificates: ['CERTIFICATE_DIRECTORY'],
  flk: ['FLK_DIRECTORY'],
  icons: ['ICONS_DIRECTORY'],
  cameraPresets: ['CAMERA_PRESETS_DIRECTORY'],
};

/** The directory an upload kind goes to. */
export function uploadDirectory(kind: UploadKind): keyof Directories {
  return UPLOADS.find((u) => u.kind === kind)!.dir;
}

/** The attribute that names an upload kind's directory, as the master file spells it (for messages). */
export function uploadDirectoryAttribute(kind: UploadKind, em: Pick<EffectiveMaster, 'directories'> | null): string {
  const names = DIRECTORY_ATTRIBUTES[uploadDirectory(kind)];
  return names.find((n) => em?.directories[n] !== undefined) ?? names[0]!;
}

/**
 * A path from a master file, resolved against the directory holding the master file (white
 * paper, Master Configuration File: null directories mean "the root of the provisioning server
 * path"; relative entries are sub-directories of it). A leading `/` means the tree root.
 * Undefined when the result would leave the root.
 */
export function joinTreePath(baseDir: string, rel: string): string | undefined {
  const joined = rel.startsWith('/') ? rel.replace(/^\/+/, '') : posix.join(baseDir || '.', rel);
  const norm = posix.normalize(joined || '.').replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) return undefined;
  return norm === '.' ? '' : norm;
}

/** `dir` + `name`, for tree directories ('' = root) and URL directories alike. */
export function inDir(dir: string, name: string): string {
  if (dir === '') return name;
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

/** The directory of a tree path ('' at the root). */
export function parentDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * Every directory of a master applied to a phone. Empty (or absent) means the master file's own
 * directory, "the root of the provisioning server path" (white paper); URLs are kept as written
 * (another server, another protocol). A directory that climbs out of the root is a problem and is
 * kept as written, so nothing is accepted there.
 */
export function directoriesOf(em: EffectiveMaster | null, masterDir: string, problems: ProvError[]): Directories {
  const out = {} as Directories;
  for (const [key, names] of Object.entries(DIRECTORY_ATTRIBUTES) as [keyof Directories, readonly string[]][]) {
    const name = names.find((n) => em?.directories[n] !== undefined);
    const raw = name ? em!.directories[name]!.trim() : '';
    if (raw === '') out[key] = masterDir;
    else if (isUrl(raw)) out[key] = raw;
    else {
      const p = joinTreePath(masterDir, raw);
      if (p === undefined) {
        const src = name ? em!.sources[name] : undefined;
        problems.push(
          new ProvError('PP_PATH_HOSTILE', `${name} "${raw}" points outside the provisioning root`, {
            file: src?.pos.file,
            line: src?.pos.line,
            column: src?.pos.column,
            hint: 'Use a sub-directory of the server path, or a full URL for another server.',
          }),
        );
        out[key] = raw;
      } else out[key] = p;
    }
  }
  return out;
}

// --- the master file -------------------------------------------------------------------------

export interface FoundMaster {
  path: string;
  reason: string;
  master: MasterFile;
}

/**
 * A master file named in the boot-server address (Administrator's Guide, "Master Configuration
 * Files": "The filename must end with .cfg and be at least five characters long").
 */
export function isSpecifiedMasterName(name: string): boolean {
  return name.length >= 5 && /\.cfg$/i.test(name);
}

/**
 * The master files a phone tries, in order (Administrator's Guide, "Master Configuration Files";
 * facts §1.1): a file named in the boot-server address first; then `<MAC>.cfg` ("use upper or
 * lower case" — the tree matches either); then `000000000000.cfg`. All in the boot-server
 * path's directory: `serverPath` is that address's path, `dir/example1.cfg` (a named master) or
 * `dir/` (a directory only).
 */
export function masterCandidates(mac: Mac, serverPath: string | undefined, notes: string[] = []): { path: string; why: string }[] {
  const out: { path: string; why: string }[] = [];
  const sp = (serverPath ?? '').replace(/^\/+/, '');
  const named = sp !== '' && !sp.endsWith('/') ? sp : undefined;
  const dir = named !== undefined ? parentDir(named) : sp.replace(/\/+$/, '');
  if (named !== undefined) {
    if (!isSpecifiedMasterName(baseName(named))) {
      notes.push(`${named} named in the server address is not a usable master file name (it must end in .cfg and be at least five characters)`);
    } else out.push({ path: named, why: `${named} is named in the boot-server address, which the phone fetches first` });
  }
  out.push({ path: inDir(dir, `${mac}.cfg`), why: `per-phone master file ${mac}.cfg found (MAC names match in either letter case)` });
  out.push({ path: inDir(dir, DEFAULT_MASTER), why: `no per-phone ${mac}.cfg, so the default master file ${DEFAULT_MASTER}` });
  return out;
}

/** Reads a tree file; a hostile path becomes a problem and reads as missing. */
export async function readTree(source: TreeSource, path: string, problems: ProvError[]): Promise<Buffer | null> {
  try {
    return await source.read(path);
  } catch (e) {
    if (isProvError(e)) {
      problems.push(e);
      return null;
    }
    throw e;
  }
}

/**
 * The master file the phone uses. A candidate that exists but cannot be parsed is reported in
 * `problems` and the search moves on (inferred: the phone cannot use it either).
 */
export async function findMasterFile(source: TreeSource, phone: PhoneIdentity, serverPath: string | undefined, problems: ProvError[]): Promise<FoundMaster | null> {
  const notes: string[] = [];
  const candidates = masterCandidates(phone.mac, serverPath, notes);
  const named = candidates.length === 3 ? candidates[0]!.path : undefined;
  for (const c of candidates) {
    const bytes = await readTree(source, c.path, problems);
    if (bytes === null) {
      if (c.path === named) notes.push(`${c.path} named in the server address was not found`);
      continue;
    }
    try {
      const master = parseMasterFile(bytes, c.path);
      problems.push(...masterFindings(master));
      return { path: c.path, reason: [c.why, ...notes].join('; '), master };
    } catch (e) {
      if (!isProvError(e)) throw e;
      problems.push(e);
      notes.push(`${c.path} exists but could not be read (${e.code})`);
    }
  }
  return null;
}

// --- the layout ------------------------------------------------------------------------------

export interface PhoneLayout {
  phone: PhoneIdentity;
  /** The master file (tree path) and why it was chosen; null when the tree has none. */
  master: { file: string; reason: string } | null;
  /** The master's directory: the base of every relative path it names. */
  masterDir: string;
  effectiveMaster: EffectiveMaster | null;
  /** Image names in the order the phone tries them (tree paths or URLs); empty when APP_FILE_PATH is. */
  imageCandidates: string[];
  /** CONFIG_FILES, leftmost first, as written (`entry`) with its tree path, or `url` for another server; no path when it leaves the root. */
  configFiles: Array<{ entry: string; path?: string; url?: boolean }>;
  directories: Directories;
}

/** A master applied to one phone: image candidates, CONFIG_FILES and directories, all resolved against the master's directory. */
export function layoutOf(found: { path: string; reason?: string; master: MasterFile } | null, phone: PhoneIdentity, problems: ProvError[]): PhoneLayout {
  const em = found ? applyMaster(found.master, phone) : null;
  const masterDir = found ? parentDir(found.path) : '';
  const resolve = (p: string) => (isUrl(p) ? p : (joinTreePath(masterDir, p) ?? p));
  return {
    phone,
    master: found ? { file: found.path, reason: found.reason ?? '' } : null,
    masterDir,
    effectiveMaster: em,
    imageCandidates: em && em.appFilePath !== null ? imageCandidates(em.appFilePath, phone.partNumber).map(resolve) : [],
    configFiles: (em?.configFiles ?? []).map((entry) => {
      if (isUrl(entry)) return { entry, url: true };
      const path = joinTreePath(masterDir, entry);
      return path === undefined || path === '' ? { entry } : { entry, path };
    }),
    directories: directoriesOf(em, masterDir, problems),
  };
}

/** Finds the master (as the phone does) and lays the phone out on it. */
export async function phoneLayout(source: TreeSource, phone: PhoneIdentity, serverPath: string | undefined, problems: ProvError[]): Promise<PhoneLayout> {
  return layoutOf(await findMasterFile(source, phone, serverPath, problems), phone, problems);
}

/**
 * The image the phone loads: the first part-number candidate present in the tree, else the name
 * as written (a URL image cannot be checked, so it is reported as written). Null when
 * APP_FILE_PATH is empty: "the phone will not check for a software file" (white paper, Master
 * Configuration File).
 */
export async function resolveApplication(source: TreeSource, layout: PhoneLayout, problems: ProvError[]): Promise<string | null> {
  for (const c of layout.imageCandidates) {
    if (isUrl(c)) break;
    try {
      if (await source.exists(c)) return c;
    } catch (e) {
      if (!isProvError(e)) throw e;
      problems.push(e);
    }
  }
  return layout.imageCandidates[layout.imageCandidates.length - 1] ?? null;
}

// --- uploads ---------------------------------------------------------------------------------

/**
 * What the upload rules need of a layout: the phone, its master, the directories it names and
 * the attributes that named them (for refusals). A PhoneLayout is one; the serving path caches
 * only this per phone, its parts shared between the phones of one master (core/phone-layouts.ts).
 */
export interface UploadLayout {
  phone: { mac: Mac };
  master: { file: string; reason: string } | null;
  directories: Directories;
  effectiveMaster: Pick<EffectiveMaster, 'directories'> | null;
}

/** Where this phone's upload of `kind` goes under this layout: a tree path, or a URL (another server). */
export function uploadPath(layout: UploadLayout, kind: UploadKind): string {
  return inDir(layout.directories[uploadDirectory(kind)], uploadName(layout.phone.mac, kind));
}

/** The store key of this phone's upload of `kind` under this layout; undefined when that directory is on another server. */
export function uploadKeyOf(layout: UploadLayout, kind: UploadKind): UploadKey | undefined {
  const path = uploadPath(layout, kind);
  return isUrl(path) ? undefined : { mac: layout.phone.mac, kind, path };
}

/** The store key of the upload a path names (`overrides/0004F2000001-phone.cfg` → its canonical key), whatever the layout. */
export function uploadKeyAt(rel: string): UploadKey | undefined {
  const up = uploadKindOf(rel);
  return up ? { mac: up.mac, kind: up.kind, path: inDir(parentDir(rel), up.name) } : undefined;
}

/**
 * The upload key for a request path (`overrides/0004F2000001-phone.cfg`) when it is in the
 * directory this layout names for that kind (white paper: the phone writes "to the location
 * specified by the OVERRIDES_DIRECTORY"); otherwise where that directory is, for the refusal.
 */
export function uploadKeyFor(layout: UploadLayout, rel: string): { key: UploadKey } | { want: string; attribute: string } | undefined {
  const up = uploadKindOf(rel);
  if (!up || up.mac !== layout.phone.mac) return undefined;
  const want = layout.directories[uploadDirectory(up.kind)];
  if (isUrl(want) || parentDir(rel) !== want) return { want, attribute: uploadDirectoryAttribute(up.kind, layout.effectiveMaster) };
  return { key: uploadKeyAt(rel)! };
}

/**
 * The masters that may govern an upload at `rel`, nearest first, when the phone's own master is
 * not known: walking up from the upload's directory to the root, `<MAC>.cfg` then
 * `000000000000.cfg` at each level (the master "beside" the upload: a tenant's logs/, overrides/
 * and contacts/ sit under the directory that holds its master file).
 */
export function mastersBeside(rel: string, mac: Mac): string[] {
  const out: string[] = [];
  let dir = parentDir(rel);
  for (;;) {
    out.push(inDir(dir, `${mac}.cfg`), inDir(dir, DEFAULT_MASTER));
    if (dir === '') return out;
    dir = parentDir(dir);
  }
}
