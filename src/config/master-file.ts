// The master configuration file (`000000000000.cfg`, `<MAC>.cfg`): what a phone reads first.
//
// Shape (facts §1.2, §1.3): root element APPLICATION; global attributes on it; model-specific
// values either as suffixed attributes on APPLICATION (`APP_FILE_PATH_SPIP500`, Administrator's
// Guide, "Supporting SoundPoint IP 300 and 500 Phones") or in child elements
// (`<APPLICATION_SPIP650 APP_FILE_PATH_SPIP650=…/>`, UCS 5.x distribution file). Element names
// carry no meaning — GREIG puts APP_FILE_PATH on a `<Software>` child — so every attribute of
// every element is kept, and only attribute names are interpreted.
import { ProvError } from '../errors.ts';
import { isModelToken, normalizeModel } from './models.ts';
import type { EffectiveMaster, MasterAttr, MasterFile, ModelToken, PhoneIdentity } from './types.ts';
import { parseXml, walkElements } from './xml.ts';

/** SIP 2.0 Administrator's Guide, master file limits (facts §1.2). */
export const MAX_ENTRY_CHARS = 255;
export const MAX_CONFIG_FILES_CHARS = 2047;

export function parseMasterFile(input: Buffer | string, file: string): MasterFile {
  const root = parseXml(input, file);
  if (root.name !== 'APPLICATION') {
    throw new ProvError('PP_CFG_NOT_MASTER', `root element is <${root.name}>, not <APPLICATION>, so this is not a master configuration file`, {
      file,
      line: root.line,
      column: root.column,
      hint: 'A master file (000000000000.cfg or <MAC>.cfg) starts with <APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="…">; configuration files belong in CONFIG_FILES.',
    });
  }
  const attrs: MasterAttr[] = [];
  for (const el of walkElements(root)) {
    for (const a of el.attrs) attrs.push({ name: a.name, value: a.value, pos: { file, line: a.line, column: a.column } });
  }
  return { file, attrs };
}

/**
 * `APP_FILE_PATH_SPIP650` → { base: 'APP_FILE_PATH', model: 'SPIP650' }. Model tokens contain no
 * underscore (facts §1.6), so the suffix is whatever follows the last `_`.
 */
export function splitMasterSuffix(name: string): { base: string; model?: ModelToken } {
  const i = name.lastIndexOf('_');
  if (i > 0) {
    const suffix = name.slice(i + 1);
    if (isModelToken(suffix)) return { base: name.slice(0, i), model: suffix };
  }
  return { base: name };
}

function sameModel(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return (normalizeModel(a) ?? a.toUpperCase()) === (normalizeModel(b) ?? b.toUpperCase());
}

/**
 * `[PHONE_MAC_ADDRESS]`, `[PHONE_MODEL_NUMBER]`, `[PHONE_PART_NUMBER]` (white paper, Master
 * Configuration File: "the substitution string needs to be enclosed in []"; facts §1.4).
 * Case-sensitive, brackets required. A token whose value is unknown (no model given) is left as
 * written, so the missing file shows up under its literal name rather than a guessed one.
 * What PHONE_MODEL_NUMBER expands to is not documented publicly; we use the master-file model
 * token (`SPIP650`), the same spelling the `_<MODEL>` suffixes use.
 */
export function substituteTokens(value: string, phone: PhoneIdentity): string {
  return value.replace(/\[(PHONE_MAC_ADDRESS|PHONE_MODEL_NUMBER|PHONE_PART_NUMBER)\]/g, (whole, tok: string) => {
    if (tok === 'PHONE_MAC_ADDRESS') return phone.mac.toLowerCase();
    if (tok === 'PHONE_MODEL_NUMBER') return phone.model ?? whole;
    return phone.partNumber ?? whole;
  });
}

/** CONFIG_FILES: comma-separated, white space around entries ignored, empty entries dropped. */
export function splitConfigFiles(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const URL_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Whether a CONFIG_FILES entry or directory is a full URL (white paper: "different servers using different protocols"). */
export function isUrl(s: string): boolean {
  return URL_RE.test(s);
}

/** `ftp://user:secret@host/x.cfg` → `ftp://user:***@host/x.cfg`; anything else unchanged. */
export function maskUrlCredentials(s: string): string {
  return s.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:?#]*):[^/@?#]*@/, '$1:***@');
}

/** The master-file attributes that name URLs the phone fetches, whose entries may carry `user:password@`. */
export const URL_ATTRIBUTES: ReadonlySet<string> = new Set(['APP_FILE_PATH', 'CONFIG_FILES']);

/**
 * Whether a master-file attribute value names a URL with a password in it (`ftp://user:pw@host/…`,
 * which the Administrator's Guide allows in CONFIG_FILES and APP_FILE_PATH): whoever reads that
 * master learns the password (issue 13 item 7). A comma-separated list counts if any entry does.
 */
export function hasUrlCredentials(value: string): boolean {
  return value.split(',').some((entry) => {
    const e = entry.trim();
    return maskUrlCredentials(e) !== e;
  });
}

/**
 * Part-number image naming (Administrator's Guide, "Supporting SoundPoint IP and SoundStation IP
 * Phones": "the reference to sip.ld is changed to 2345-11605-001.sip.ld to boot the SoundPoint
 * IP 601 image"; facts §1.5). Only the file name `sip.ld` is rewritten; the directory or URL
 * before it is kept. The fallback to the plain name (combined image) is inferred (facts §1.5).
 */
export function imageCandidates(appFilePath: string, partNumber?: string): string[] {
  if (!appFilePath) return [];
  const slash = appFilePath.lastIndexOf('/');
  const dir = appFilePath.slice(0, slash + 1);
  const base = appFilePath.slice(slash + 1);
  if (base === 'sip.ld' && partNumber) return [`${dir}${partNumber}.sip.ld`, appFilePath];
  return [appFilePath];
}

/**
 * The master file as one phone sees it. For each attribute name, the value suffixed with the
 * phone's model wins over the generic one, for that model only (Administrator's Guide,
 * "Supporting SoundPoint IP 300 and 500 Phones": `APP_FILE_PATH_SPIP500` for IP 500s,
 * `APP_FILE_PATH` for the rest). When an attribute appears twice, the first in document order
 * counts ("top to bottom", white paper, Default Configuration Parameter Values).
 */
export function applyMaster(master: MasterFile, phone: PhoneIdentity): EffectiveMaster {
  const generic = new Map<string, MasterAttr>();
  const specific = new Map<string, MasterAttr>();
  for (const a of master.attrs) {
    const { base, model } = splitMasterSuffix(a.name);
    if (model === undefined) {
      if (!generic.has(base)) generic.set(base, a);
    } else if (sameModel(model, phone.model)) {
      if (!specific.has(base)) specific.set(base, a);
    }
  }
  const chosen = new Map<string, MasterAttr>(generic);
  for (const [base, a] of specific) chosen.set(base, a);

  const value = (name: string): string | undefined => {
    const a = chosen.get(name);
    return a === undefined ? undefined : substituteTokens(a.value, phone);
  };

  const appPath = (value('APP_FILE_PATH') ?? '').trim();
  const directories: Record<string, string> = {};
  const attrs: Record<string, string> = {};
  const sources: Record<string, MasterAttr> = {};
  for (const [base, a] of chosen) {
    sources[base] = a;
    const v = substituteTokens(a.value, phone);
    if (base === 'APP_FILE_PATH' || base === 'CONFIG_FILES') continue;
    if (base.endsWith('_DIRECTORY')) directories[base] = v.trim();
    else attrs[base] = v;
  }
  return {
    file: master.file,
    // The name as the master file gives it; appFileCandidates holds what the phone tries.
    appFilePath: appPath === '' ? null : appPath,
    appFileCandidates: imageCandidates(appPath, phone.partNumber),
    configFiles: splitConfigFiles(value('CONFIG_FILES') ?? ''),
    directories,
    attrs,
    sources,
  };
}

/**
 * Limits from the SIP 2.0 Administrator's Guide (facts §1.2): APP_FILE_PATH and each CONFIG_FILES
 * entry at most 255 characters; the whole CONFIG_FILES list at most 2047 including commas and
 * white space. Checked on every variant (generic and model-specific) as written.
 */
export function masterFindings(master: MasterFile): ProvError[] {
  const out: ProvError[] = [];
  for (const a of master.attrs) {
    const { base } = splitMasterSuffix(a.name);
    const where = { file: a.pos.file, line: a.pos.line, column: a.pos.column };
    if (base === 'APP_FILE_PATH' && a.value.length > MAX_ENTRY_CHARS) {
      out.push(
        new ProvError('PP_CFG_ENTRY_TOO_LONG', `${a.name} is ${a.value.length} characters; phones ignore entries over ${MAX_ENTRY_CHARS} (SIP 2.0 Administrator's Guide, master file limits)`, {
          ...where,
          hint: 'Shorten the path or move the image nearer the root.',
        }),
      );
    }
    if (base !== 'CONFIG_FILES') continue;
    if (a.value.length > MAX_CONFIG_FILES_CHARS) {
      out.push(
        new ProvError('PP_CFG_LIST_TOO_LONG', `${a.name} is ${a.value.length} characters; phones read at most ${MAX_CONFIG_FILES_CHARS} including commas and white space (SIP 2.0 Administrator's Guide, master file limits)`, {
          ...where,
          hint: 'Merge configuration files or shorten their paths.',
        }),
      );
    }
    for (const entry of splitConfigFiles(a.value)) {
      if (entry.length > MAX_ENTRY_CHARS) {
        out.push(
          new ProvError('PP_CFG_ENTRY_TOO_LONG', `${a.name} entry "${maskUrlCredentials(entry).slice(0, 40)}…" is ${entry.length} characters; phones ignore entries over ${MAX_ENTRY_CHARS} (SIP 2.0 Administrator's Guide, master file limits)`, {
            ...where,
            hint: 'Shorten the path or move the file nearer the root.',
          }),
        );
      }
    }
  }
  return out;
}
