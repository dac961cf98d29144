// Rule family "references": what master files point at. A CONFIG_FILES entry that is not in
// the tree is skipped by the phone, which then keeps its cached copies (white paper, Default
// Configuration Parameter Values: "If one or more files could not be read from the provisioning
// server, the phone will use the cached version"), so a missing file is an error. A missing
// application image only means the phone keeps the software it runs: a warning. Entry and list
// lengths (255 / 2047 characters, SIP 2.0 Administrator's Guide, facts §1.2) come from
// masterFindings(). A tree with no master file at all gives phones nothing to start from. Entries
// with spaces, backslashes or `%` escapes cannot be fetched (Administrator's Guide, Supported
// Provisioning Protocols, note: "A URL should contain forward slashes instead of back slashes and
// should not contain spaces. Escape characters are not supported.").
import { ProvError } from '../../errors.ts';
import { isUrl, masterFindings, maskUrlCredentials, splitConfigFiles, splitMasterSuffix, substituteTokens } from '../master-file.ts';
import { partNumberFor } from '../models.ts';
import { nearest } from '../../util/nearest.ts';
import { isMasterName, joinTreePath, macOfName } from '../phone-layout.ts';
import type { Mac, MasterAttr } from '../types.ts';
import { DEFAULT_MASTER, type LintContext } from './context.ts';
import { isManagedPath } from './managed.ts';

/** The substitution tokens phones know (white paper, Master Configuration File; facts §1.4). */
const KNOWN_TOKEN = /\[(PHONE_MAC_ADDRESS|PHONE_MODEL_NUMBER|PHONE_PART_NUMBER)\]/;

/** Master-file attributes seen in real files (facts §1.3); the `_<MODEL>` suffix is split off first. */
const MASTER_ATTRIBUTES = [
  'APP_FILE_PATH', 'DECT_FILE_PATH', 'CONFIG_FILES', 'SERVICE_FILES', 'MISC_FILES', 'LOG_FILE_DIRECTORY', 'OVERRIDES_DIRECTORY',
  'CONTACTS_DIRECTORY', 'CONTACT_DIRECTORY', 'LICENSE_DIRECTORY', 'USER_PROFILES_DIRECTORY', 'CALL_LISTS_DIRECTORY', 'COREFILE_DIRECTORY',
  'CERTIFICATE_DIRECTORY', 'FLK_DIRECTORY', 'ICONS_DIRECTORY', 'CAMERA_PRESETS_DIRECTORY', 'BOOTBLOCK_FILE_PATH',
];
const MASTER_ATTRIBUTE_SET = new Set(MASTER_ATTRIBUTES);

export function lintReferences(ctx: LintContext): ProvError[] {
  const out: ProvError[] = [];
  // A master-file name that is not a master is PP_CFG_NOT_MASTER already; this is the tree with none.
  if (ctx.masters.size === 0 && !ctx.files.some(isMasterName)) {
    out.push(
      new ProvError('PP_CFG_NO_MASTER', `the tree has no master file (no ${DEFAULT_MASTER}, no <MAC>.cfg): a phone asks for its master file first and finds no configuration here (white paper, Master Configuration File)`, {
        hint: `Create ${DEFAULT_MASTER} (polyprov init DIR writes a documented one), or give lint the directory the boot server serves.`,
      }),
    );
  }
  for (const [path, master] of ctx.masters) {
    out.push(...masterFindings(master));
    const masterDir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    const mac = macOfName(path);
    for (const a of master.attrs) {
      const { base, model: suffixModel } = splitMasterSuffix(a.name);
      if (!MASTER_ATTRIBUTE_SET.has(base) && !a.name.includes(':') && a.name !== 'xmlns') {
        // A misspelt attribute (CONFIG_FILE) is ignored by the phone: nothing it names is read.
        const near = nearest(base, MASTER_ATTRIBUTES);
        out.push(
          new ProvError('PP_PARAM_UNKNOWN', `${a.name} is not a master-file attribute; phones ignore it`, {
            ...at(a),
            hint: near ? `Did you mean ${a.name.replace(base, near)}?` : `Master files use ${MASTER_ATTRIBUTES.slice(0, 8).join(', ')}, … (white paper, Master Configuration File).`,
          }),
        );
      }
      if (base === 'CONFIG_FILES') out.push(...entryCharacters(a), ...missingConfigFiles(ctx, a, masterDir, mac, suffixModel));
      else if (base === 'APP_FILE_PATH') {
        const w = missingImage(ctx, a, masterDir, suffixModel);
        if (w) out.push(w);
      }
    }
  }
  return out;
}

function at(a: MasterAttr) {
  return { file: a.pos.file, line: a.pos.line, column: a.pos.column };
}

/**
 * Spaces, backslashes and `%` escapes in a CONFIG_FILES entry (guide note above). A URL's user and
 * password may carry RFC 1738 escapes (Administrator's Guide, Server Menu: ":", "@" or "/" "if they
 * are correctly escaped using the method specified in RFC 1738"), so `%` is allowed there.
 */
function entryCharacters(a: MasterAttr): ProvError[] {
  const out: ProvError[] = [];
  for (const entry of splitConfigFiles(a.value)) {
    const path = entry.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1');
    const bad = [/\s/.test(entry) ? 'a space' : '', entry.includes('\\') ? 'a backslash' : '', /%[0-9A-Fa-f]{2}/.test(path) ? 'a % escape' : ''].filter(Boolean);
    if (bad.length === 0) continue;
    out.push(
      new ProvError('PP_CFG_ENTRY_CHARS', `${a.name} entry "${maskUrlCredentials(entry)}" contains ${bad.join(' and ')}; phones cannot fetch it (Administrator's Guide, Supported Provisioning Protocols: "should contain forward slashes instead of back slashes and should not contain spaces. Escape characters are not supported.")`, {
        ...at(a),
        hint: 'Rename the file without spaces or %, and write / between directories.',
      }),
    );
  }
  return out;
}

function missingConfigFiles(ctx: LintContext, a: MasterAttr, masterDir: string, mac: string | undefined, suffixModel: string | undefined): ProvError[] {
  const out: ProvError[] = [];
  for (const entry of splitConfigFiles(a.value)) {
    if (isUrl(entry)) continue; // on another server: cannot be checked from the tree
    let name = entry;
    if (KNOWN_TOKEN.test(name)) {
      // In 000000000000.cfg a [PHONE_MAC_ADDRESS] entry names a file per phone; which phones
      // exist is not known from the tree, so only <MAC>.cfg masters are checked.
      if (!mac) continue;
      const model = suffixModel ?? ctx.modelOf(mac);
      const partNumber = model ? partNumberFor(model) : undefined;
      name = substituteTokens(name, { mac: mac as Mac, ...(model ? { model } : {}), ...(partNumber ? { partNumber } : {}) });
      if (KNOWN_TOKEN.test(name)) continue;
    }
    const p = joinTreePath(masterDir, name);
    if (p === undefined || p === '') {
      out.push(
        new ProvError('PP_PATH_HOSTILE', `${a.name} entry "${maskUrlCredentials(entry)}" points outside the provisioning root`, {
          ...at(a),
          hint: 'List files under the server path, or give a full URL for another server.',
        }),
      );
      continue;
    }
    if (!ctx.has(p) && !isManagedPath(p)) {
      const odd = /\[[A-Za-z_]+\]/.exec(name)?.[0];
      out.push(
        new ProvError('PP_CFG_FILE_MISSING', `${a.name} lists "${entry}" but ${p} is not in the tree; the phone skips it and keeps its cached configuration (white paper, Default Configuration Parameter Values)`, {
          ...at(a),
          hint: odd
            ? `${odd} is not a substitution token phones know, so they request the name literally; use [PHONE_MAC_ADDRESS], [PHONE_MODEL_NUMBER] or [PHONE_PART_NUMBER] (white paper, Master Configuration File).`
            : `Create ${p}, or remove "${entry}" from ${a.name}.`,
        }),
      );
    }
  }
  return out;
}

/** APP_FILE_PATH: `sip.ld` is fetched as `<part-number>.sip.ld` first (facts §1.5), so either counts. */
function missingImage(ctx: LintContext, a: MasterAttr, masterDir: string, suffixModel: string | undefined): ProvError | undefined {
  const v = a.value.trim();
  if (v === '' || isUrl(v) || v.includes('[PHONE_')) return undefined;
  const p = joinTreePath(masterDir, v);
  if (p === undefined || p === '') return undefined;
  if (ctx.has(p)) return undefined;
  const slash = p.lastIndexOf('/');
  const dir = p.slice(0, slash + 1);
  const baseName = p.slice(slash + 1);
  if (baseName === 'sip.ld') {
    const part = suffixModel ? partNumberFor(suffixModel) : undefined;
    if (part && ctx.has(`${dir}${part}.sip.ld`)) return undefined;
    if (!part && ctx.files.some((f) => f.startsWith(dir) && /^\d{4}-\d{5}-\d{3}\.sip\.ld$/.test(f.slice(dir.length)))) return undefined;
  }
  return new ProvError('PP_CFG_FILE_MISSING', `${a.name}="${v}" but no such image is in the tree; the phone finds no software to load and keeps the one it runs`, {
    ...at(a),
    severity: 'warning',
    hint: `Put the firmware (${baseName === 'sip.ld' ? 'sip.ld or <part-number>.sip.ld' : baseName}) in the tree, or set ${a.name}="" so phones do not look for one (white paper, Master Configuration File).`,
  });
}
