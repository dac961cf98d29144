// What one phone ends up with, computed from a provisioning tree the way the phone reads it:
// master file → application image → CONFIG_FILES → override files → contact directory.
// `polyprov explain` prints this; lint and the boot server reuse it.
import { ProvError, isProvError } from '../errors.ts';
import { encryptedNotice, parseConfigFile } from './config-file.ts';
import { parseContactDirectory } from './contact-directory.ts';
import { isUrl } from './master-file.ts';
import { normalizeModel, partNumberFor } from './models.ts';
import { inDir, phoneLayout, readTree, resolveApplication, uploadPath, type Directories, type PhoneLayout } from './phone-layout.ts';
import { applyDeviceRule, mergeParams, type EffectiveParam, type ParamLayer } from './resolve-params.ts';
import type { EffectiveMaster, PhoneIdentity, TreeSource } from './types.ts';

export type { EffectiveParam } from './resolve-params.ts';
export { toExplainJson } from './explain-json.ts';

export interface ConfigFileStatus {
  /** Tree path (relative to the root, after substitution), or the URL as written. */
  name: string;
  found: boolean;
  encrypted?: boolean;
  /** A full URL on another server: polyprov cannot tell whether it exists, so found is false. */
  url?: boolean;
}

export interface Resolution {
  phone: PhoneIdentity;
  master: { file: string; reason: string } | null;
  /** The phone layout (phone-layout.ts): master, image candidates, CONFIG_FILES, directories, upload paths. */
  layout: PhoneLayout;
  effectiveMaster: EffectiveMaster | null;
  application: string | null;
  configFiles: ConfigFileStatus[];
  directories: Directories;
  /** Contact directory file the phone reads. */
  directory: string | null;
  params: Map<string, EffectiveParam>;
  /** Parse errors and notices met on the way (the phone would skip or ignore those files). */
  problems: ProvError[];
}

export interface ResolveOptions {
  /**
   * The boot-server address's path: a named master file (`http://srv/dir/example1.cfg` →
   * `dir/example1.cfg`) or a directory (`http://srv/tenant1/` → `tenant1/`).
   */
  masterName?: string;
  /** The phone already holds a local contact directory (then 000000000000-directory.xml is not read). */
  hasLocalDirectory?: boolean;
}

const DEFAULT_DIRECTORY = '000000000000-directory.xml';

export async function resolvePhone(source: TreeSource, phoneIn: PhoneIdentity, opts: ResolveOptions = {}): Promise<Resolution> {
  const model = phoneIn.model ? (normalizeModel(phoneIn.model) ?? phoneIn.model) : undefined;
  // A phone always knows its own part number; default it from the model when not given.
  const partNumber = phoneIn.partNumber ?? (model ? partNumberFor(model) : undefined);
  const phone: PhoneIdentity = { mac: phoneIn.mac.toLowerCase() as PhoneIdentity['mac'], ...(model ? { model } : {}), ...(partNumber ? { partNumber } : {}) };
  const problems: ProvError[] = [];

  const layout = await phoneLayout(source, phone, opts.masterName, problems);
  const em = layout.effectiveMaster;
  const directories = layout.directories;
  const application = em ? await resolveApplication(source, layout, problems) : null;

  // Precedence, highest first (white paper, Default Configuration Parameter Values):
  // <MAC>-phone.cfg, <MAC>-web.cfg (both in OVERRIDES_DIRECTORY), then CONFIG_FILES left to right.
  const layers: ParamLayer[] = [];
  if (em) {
    for (const kind of ['override-phone', 'override-web'] as const) {
      const path = uploadPath(layout, kind);
      if (isUrl(path)) continue;
      const layer = await readLayer(source, path, problems);
      if (layer?.layer) layers.push(layer.layer);
    }
  }

  const configFiles: ConfigFileStatus[] = [];
  const seen = new Set<string>();
  for (const { entry, path, url } of layout.configFiles) {
    if (url) {
      configFiles.push({ name: entry, found: false, url: true });
      continue;
    }
    if (path === undefined) {
      problems.push(
        new ProvError('PP_PATH_HOSTILE', `CONFIG_FILES entry "${entry}" points outside the provisioning root`, {
          ...posOf(em!, 'CONFIG_FILES'),
          hint: 'List files under the server path, or give a full URL for another server.',
        }),
      );
      configFiles.push({ name: entry, found: false });
      continue;
    }
    const res = await readLayer(source, path, problems);
    configFiles.push({ name: path, found: res !== null, ...(res?.encrypted ? { encrypted: true } : {}) });
    // A file listed twice adds nothing: its first listing already outranks the second.
    if (res?.layer && !seen.has(path)) layers.push(res.layer);
    seen.add(path);
  }

  const params = mergeParams(layers, phone.model);
  applyDeviceRule(params);

  const directory = em ? await findContactDirectory(source, layout, opts, problems) : null;

  return {
    phone,
    master: layout.master,
    layout,
    effectiveMaster: em,
    application,
    configFiles,
    directories,
    directory,
    params,
    problems,
  };
}

function posOf(em: EffectiveMaster, base: string): { file?: string; line?: number; column?: number } {
  const a = em.sources[base];
  return a ? { file: a.pos.file, line: a.pos.line, column: a.pos.column } : { file: em.file };
}

/** Reads and parses one configuration file. Null when missing; a parse error becomes a problem (the phone skips the file). */
async function readLayer(source: TreeSource, path: string, problems: ProvError[]): Promise<{ layer?: ParamLayer; encrypted: boolean } | null> {
  const bytes = await readTree(source, path, problems);
  if (bytes === null) return null;
  try {
    const cfg = parseConfigFile(bytes, path);
    if (cfg.kind === 'encrypted') {
      problems.push(encryptedNotice(cfg));
      return { encrypted: true };
    }
    return { layer: { file: path, params: cfg.params }, encrypted: false };
  } catch (e) {
    if (!isProvError(e)) throw e;
    problems.push(e);
    return { encrypted: false };
  }
}

/**
 * The contact directory the phone reads: `<MAC>-directory.xml` in CONTACTS_DIRECTORY; failing
 * that, and only when the phone holds no directory of its own, `000000000000-directory.xml`
 * (white paper, Configuring Your Local Contact Directory). The white paper does not say where
 * the 000000000000 file lives; we look in CONTACTS_DIRECTORY first (where the phone looks for its
 * own directory) and then at the root of the server path (where the distribution ships the
 * seed template, Administrator's Guide, contact directory).
 */
async function findContactDirectory(source: TreeSource, layout: PhoneLayout, opts: ResolveOptions, problems: ProvError[]): Promise<string | null> {
  const contactsDir = layout.directories.contacts;
  const own = uploadPath(layout, 'directory');
  if (isUrl(own)) return own;
  const candidates = [own];
  if (!opts.hasLocalDirectory) {
    candidates.push(inDir(contactsDir, DEFAULT_DIRECTORY));
    const atRoot = inDir(layout.masterDir, DEFAULT_DIRECTORY);
    if (!candidates.includes(atRoot)) candidates.push(atRoot);
  }
  for (const c of candidates) {
    const bytes = await readTree(source, c, problems);
    if (bytes === null) continue;
    try {
      parseContactDirectory(bytes, c);
    } catch (e) {
      if (!isProvError(e)) throw e;
      problems.push(e);
    }
    return c;
  }
  return null;
}
