// Finding and interpreting a phone's master file inside a provisioning tree: which master file,
// where its directories point, which application image it loads. Paths are tree paths
// (relative to the root, forward slashes, '' = the root) or URLs kept as written.
import { posix } from 'node:path';
import { ProvError, isProvError } from '../errors.ts';
import { isUrl, masterFindings, parseMasterFile } from './master-file.ts';
import type { EffectiveMaster, MasterFile, PhoneIdentity, TreeSource } from './types.ts';

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

export interface FoundMaster {
  path: string;
  reason: string;
  master: MasterFile;
}

/**
 * Administrator's Guide, master configuration file lookup (facts §1.1): a file named in the boot
 * server address first; then `<MAC>.cfg` ("use upper or lower case" — the tree source matches
 * either); then `000000000000.cfg`. A candidate that exists but cannot be parsed is reported in
 * `problems` and the search moves on (inferred: the phone cannot use it either).
 */
export async function findMasterFile(source: TreeSource, phone: PhoneIdentity, masterName: string | undefined, problems: ProvError[]): Promise<FoundMaster | null> {
  const notes: string[] = [];
  const candidates: { path: string; why: string }[] = [];
  if (masterName) {
    const name = masterName.replace(/^\/+/, '');
    if (!/\.cfg$/.test(name) || posix.basename(name).length < 5) {
      notes.push(`${masterName} named in the server address is not a usable master file name (it must end in .cfg and be at least five characters)`);
    } else {
      candidates.push({ path: name, why: `${name} is named in the boot-server address, which the phone fetches first` });
    }
  }
  candidates.push({ path: `${phone.mac}.cfg`, why: `per-phone master file ${phone.mac}.cfg found (MAC names match in either letter case)` });
  candidates.push({ path: '000000000000.cfg', why: `no per-phone ${phone.mac}.cfg, so the default master file 000000000000.cfg` });

  for (const c of candidates) {
    const bytes = await readTree(source, c.path, problems);
    if (bytes === null) {
      if (c.path === masterName?.replace(/^\/+/, '')) notes.push(`${c.path} named in the server address was not found`);
      continue;
    }
    try {
      const master = parseMasterFile(bytes, c.path);
      problems.push(...masterFindings(master));
      const reason = [c.why, ...notes].join('; ');
      return { path: c.path, reason, master };
    } catch (e) {
      if (!isProvError(e)) throw e;
      problems.push(e);
      notes.push(`${c.path} exists but could not be read (${e.code})`);
    }
  }
  return null;
}

export interface Directories {
  logs: string;
  overrides: string;
  contacts: string;
  licenses: string;
  callLists: string;
  userProfiles: string;
  coreFiles: string;
}

const DIRECTORY_ATTRS: Record<keyof Directories, string[]> = {
  logs: ['LOG_FILE_DIRECTORY'],
  overrides: ['OVERRIDES_DIRECTORY'],
  // The white paper also spells it CONTACT_DIRECTORY; every real file uses CONTACTS_DIRECTORY (facts §1.3).
  contacts: ['CONTACTS_DIRECTORY', 'CONTACT_DIRECTORY'],
  licenses: ['LICENSE_DIRECTORY'],
  callLists: ['CALL_LISTS_DIRECTORY'],
  userProfiles: ['USER_PROFILES_DIRECTORY'],
  coreFiles: ['COREFILE_DIRECTORY'],
};

/** Empty means the provisioning-server path itself (the master file's directory); URLs are kept. */
export function resolveDirectories(em: EffectiveMaster | null, masterDir: string, problems: ProvError[]): Directories {
  const out = {} as Directories;
  for (const [key, names] of Object.entries(DIRECTORY_ATTRS) as [keyof Directories, string[]][]) {
    const name = names.find((n) => em?.directories[n] !== undefined);
    const raw = name ? em!.directories[name]! : '';
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

/**
 * The image the phone loads: the first part-number candidate present in the tree, else the name
 * as written (a URL image cannot be checked, so it is reported as written). Null when
 * APP_FILE_PATH is empty: "the phone will not check for a software file" (white paper, Master
 * Configuration File).
 */
export async function resolveApplication(source: TreeSource, em: EffectiveMaster, masterDir: string, problems: ProvError[]): Promise<string | null> {
  if (em.appFilePath === null) return null;
  const resolved = em.appFileCandidates.map((c) => (isUrl(c) ? c : (joinTreePath(masterDir, c) ?? c)));
  for (const c of resolved) {
    if (isUrl(c)) break;
    const st = await exists(source, c, problems);
    if (st) return c;
  }
  return resolved[resolved.length - 1] ?? null;
}

async function exists(source: TreeSource, path: string, problems: ProvError[]): Promise<boolean> {
  try {
    return await source.exists(path);
  } catch (e) {
    if (isProvError(e)) {
      problems.push(e);
      return false;
    }
    throw e;
  }
}
