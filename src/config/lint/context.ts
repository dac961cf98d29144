// Everything the lint rules look at, read and parsed once: every file of the tree classified
// (master file, configuration file, contact directory, other XML), parse problems, and the
// configuration chains of the phones the tree can be evaluated for. Rules are then pure
// functions of this context.
//
// Chains: for each master file — 000000000000.cfg once for a phone with no MAC-specific files
// (and once per model the master names with `_<MODEL>` suffixes), each <MAC>.cfg for its MAC —
// plus every MAC found in the tree's file names (override files `<MAC>-phone.cfg`, per-phone
// `[PHONE_MAC_ADDRESS]` files, logs…) that would use 000000000000.cfg.
import { ProvError, isProvError } from '../../errors.ts';
import { encryptedNotice, isEncryptedConfig, parseConfigFile } from '../config-file.ts';
import { parseContactDirectory } from '../contact-directory.ts';
import { applyMaster, isUrl, parseMasterFile, splitMasterSuffix } from '../master-file.ts';
import { modelInfo, normalizeModel, partNumberFor } from '../models.ts';
import { DEFAULT_MASTER, directoriesOf, inDir, isMasterName, joinTreePath, macOfName, parentDir, uploadName, type Directories } from '../phone-layout.ts';
import { parseXml } from '../xml.ts';
import type { ContactDirectory, EffectiveMaster, Mac, MasterFile, ModelToken, ParamEntry, PhoneIdentity, TreeSource } from '../types.ts';

export interface LintOptions {
  /** Model assumed for phones whose model the tree does not tell (e.g. `--model VVX410`). */
  model?: ModelToken;
  /** Known models by MAC (from the store's sightings, or a fleet list). */
  models?: ReadonlyMap<string, ModelToken> | Record<string, ModelToken>;
  /** The phones the fleet manages (`lint --data`): each should read a master that lists managed/[PHONE_MAC_ADDRESS].cfg. */
  managed?: ReadonlyArray<{ mac: string; tenant: string; model?: ModelToken }>;
}

export { DEFAULT_MASTER } from '../phone-layout.ts';
/** The generic phone's MAC: the broadcast address, which no phone has, so substituted entries are recognisable. */
const GENERIC_MAC = 'ffffffffffff' as Mac;

export interface ConfigFileInfo {
  path: string;
  params: ParamEntry[];
  /** First occurrence of each name in the file ("top to bottom", white paper). */
  first: Map<string, ParamEntry>;
}

/** One phone's view: which master, which files in precedence order (highest first). */
export interface Chain {
  master: string;
  em: EffectiveMaster;
  phone: PhoneIdentity;
  /** True for the phone with no MAC-specific files of its own: what every phone reads. */
  generic: boolean;
  directories: Directories;
  /** Tree paths, highest precedence first: <MAC>-phone.cfg, <MAC>-web.cfg, CONFIG_FILES left to right. */
  files: string[];
  /** CONFIG_FILES entries (tree paths) only, in master order, token-bearing entries dropped for the generic phone. */
  configFiles: string[];
  stack: Stack | null;
}

/** The merged parameters of a chain suffix, as a linked list so suffixes are shared between phones. */
export interface Stack {
  file: ConfigFileInfo;
  rest: Stack | null;
}

export function lookup(stack: Stack | null, name: string): ParamEntry | undefined {
  for (let s = stack; s; s = s.rest) {
    const e = s.file.first.get(name);
    if (e) return e;
  }
  return undefined;
}

/** An occurrence that a higher-precedence one overrides, found while building a stack. */
export interface Shadow {
  loser: ParamEntry;
  winner: ParamEntry;
}

export class LintContext {
  readonly files: string[] = [];
  readonly masters = new Map<string, MasterFile>();
  readonly configs = new Map<string, ConfigFileInfo>();
  readonly directories = new Map<string, ContactDirectory>();
  /** Parse errors and encrypted-file notices, one per file. */
  readonly fileProblems: ProvError[] = [];
  readonly encrypted = new Set<string>();
  readonly chains: Chain[] = [];
  /** Shadowed occurrences met while building chains (deduplicated by position). */
  readonly shadows: Shadow[] = [];
  /** Extra problems found while resolving chains (hostile directory paths, …). */
  readonly chainProblems: ProvError[] = [];
  readonly macs = new Set<string>();
  /** Folded (MAC digits lower-cased) path → path as in the tree. */
  private readonly folded = new Map<string, string>();
  private readonly stacks = new Map<string, Stack | null>();
  private readonly shadowSeen = new Set<string>();
  private readonly modelsByMac = new Map<string, ModelToken>();
  private readers: Map<string, { masters: string[]; phones: Mac[] }> | undefined;

  constructor(
    readonly source: TreeSource,
    readonly opts: LintOptions = {},
  ) {
    const m = opts.models;
    if (m) for (const [mac, model] of m instanceof Map ? m : Object.entries(m)) this.modelsByMac.set(mac.toLowerCase().replace(/[^0-9a-f]/g, ''), normalizeModel(model) ?? model);
  }

  static async load(source: TreeSource, opts: LintOptions = {}): Promise<LintContext> {
    const ctx = new LintContext(source, opts);
    for await (const p of source.list()) ctx.files.push(p);
    ctx.files.sort();
    for (const p of ctx.files) {
      const f = foldMac(p);
      if (!ctx.folded.has(f) || f === p) ctx.folded.set(f, p);
      const mac = macOfName(p);
      if (mac) ctx.macs.add(mac);
    }
    // Read in small batches: enough overlap to hide disk latency, bounded memory.
    const wanted = ctx.files.filter((p) => /\.(cfg|xml)$/i.test(p) && !/-license\.cfg$/i.test(p));
    const BATCH = 64;
    for (let i = 0; i < wanted.length; i += BATCH) {
      const batch = wanted.slice(i, i + BATCH);
      const bytes = await Promise.all(batch.map((p) => source.read(p).catch((e: unknown) => e)));
      batch.forEach((p, j) => ctx.classify(p, bytes[j]));
    }
    ctx.buildChains();
    return ctx;
  }

  /** Whether a tree path exists (MAC-named files match in either case, as the tree source does). */
  has(path: string): boolean {
    return this.folded.has(foldMac(path));
  }

  modelOf(mac: string): ModelToken | undefined {
    return this.modelsByMac.get(mac) ?? (this.opts.model ? (normalizeModel(this.opts.model) ?? this.opts.model) : undefined);
  }

  private classify(path: string, read: Buffer | null | unknown): void {
    if (read === null) return;
    if (!Buffer.isBuffer(read)) {
      if (isProvError(read)) this.fileProblems.push(read);
      else throw read;
      return;
    }
    const buf = read;
    try {
      if (isEncryptedConfig(buf)) {
        const cfg = parseConfigFile(buf, path);
        if (cfg.kind === 'encrypted') {
          this.encrypted.add(path);
          const notice = encryptedNotice(cfg);
          // "Configuration files (excluding the master configuration file) … can be encrypted"
          // (Administrator's Guide; facts §7): a phone cannot read an encrypted master file.
          this.fileProblems.push(
            isRootMaster(path)
              ? new ProvError('PP_CFG_ENCRYPTED', 'this master file is encrypted, but phones read master files only in plain XML (master files cannot be encrypted)', {
                  file: path,
                  line: 1,
                  column: 1,
                  severity: 'error',
                  hint: 'Serve the master file unencrypted; encrypt the configuration files it lists instead.',
                })
              : notice,
          );
          return;
        }
      }
      const isDirectory = /-directory(~)?\.xml$/i.test(path);
      if (/\.xml$/i.test(path)) {
        if (isDirectory || rootName(buf, path) === 'directory') this.directories.set(path, parseContactDirectory(buf, path));
        else parseXml(buf, path); // well-formedness only (dictionaries, all.xml, …)
        return;
      }
      // 000000000000.cfg and <MAC>.cfg at the root are what phones fetch as master files, so they
      // must be one (parseMasterFile refuses another root with PP_CFG_NOT_MASTER).
      if (isRootMaster(path) || rootName(buf, path) === 'APPLICATION') {
        this.masters.set(path, parseMasterFile(buf, path));
        return;
      }
      const cfg = parseConfigFile(buf, path);
      if (cfg.kind !== 'xml') return;
      const first = new Map<string, ParamEntry>();
      for (const e of cfg.params) if (!first.has(e.name)) first.set(e.name, e);
      this.configs.set(path, { path, params: cfg.params, first });
    } catch (e) {
      if (!isProvError(e)) throw e;
      this.fileProblems.push(e);
    }
  }

  /** The stack for files[i..], memoised by the suffix so phones sharing site files share work. */
  private stackFor(files: string[], i = 0): Stack | null {
    if (i >= files.length) return null;
    const key = files.slice(i).join('\n');
    if (this.stacks.has(key)) return this.stacks.get(key)!;
    const rest = this.stackFor(files, i + 1);
    const info = this.configs.get(files[i]!) ?? this.configs.get(this.realPath(files[i]!));
    let stack: Stack | null = rest;
    if (info) {
      stack = { file: info, rest };
      for (const [name, e] of info.first) {
        const lower = lookup(rest, name);
        if (lower) this.addShadow(lower, e);
      }
    }
    this.stacks.set(key, stack);
    return stack;
  }

  private addShadow(loser: ParamEntry, winner: ParamEntry): void {
    const k = `${loser.pos.file}:${loser.pos.line}:${loser.pos.column}`;
    if (this.shadowSeen.has(k)) return;
    this.shadowSeen.add(k);
    this.shadows.push({ loser, winner });
  }

  /** The spelling of a MAC-named path as it is in the tree (either letter case). */
  realPath(path: string): string {
    if (this.configs.has(path)) return path;
    return this.folded.get(foldMac(path)) ?? path;
  }

  private buildChains(): void {
    const defaultMaster = this.masters.get(DEFAULT_MASTER);
    const macMasters = new Set<string>();
    for (const [path, master] of this.masters) {
      const mac = isRootMaster(path) ? macOfName(path) : undefined;
      if (mac) {
        macMasters.add(mac);
        this.addChain(path, master, mac as Mac, this.modelOf(mac), false);
      } else if (path !== DEFAULT_MASTER) {
        // A master named in the boot-server address (`http://srv/dir/example1.cfg`): generic phones.
        for (const model of [undefined, ...modelsNamedIn(master)]) this.addChain(path, master, GENERIC_MAC, model, true);
      }
    }
    if (!defaultMaster) return;
    for (const model of [undefined, ...modelsNamedIn(defaultMaster)]) this.addChain(DEFAULT_MASTER, defaultMaster, GENERIC_MAC, model, true);
    // Phones known by MAC that read the default master: only worth a chain of their own when
    // the master substitutes tokens or the phone has override files.
    const tokens = defaultMaster.attrs.some((a) => a.value.includes('[PHONE_'));
    for (const mac of this.macs) {
      if (macMasters.has(mac)) continue;
      if (!tokens && !this.hasOverrides(defaultMaster, mac)) continue;
      this.addChain(DEFAULT_MASTER, defaultMaster, mac as Mac, this.modelOf(mac), false);
    }
  }

  private hasOverrides(master: MasterFile, mac: string): boolean {
    const dirs = directoriesOf(applyMaster(master, { mac: GENERIC_MAC }), '', []);
    return this.has(inDir(dirs.overrides, uploadName(mac as Mac, 'override-phone'))) || this.has(inDir(dirs.overrides, uploadName(mac as Mac, 'override-web')));
  }

  private addChain(path: string, master: MasterFile, mac: Mac, model: ModelToken | undefined, generic: boolean): void {
    const partNumber = model ? partNumberFor(model) : undefined;
    const phone: PhoneIdentity = { mac, ...(model ? { model } : {}), ...(partNumber ? { partNumber } : {}) };
    const em = applyMaster(master, phone);
    const masterDir = parentDir(path);
    const directories = directoriesOf(em, masterDir, this.chainProblems);
    const configFiles: string[] = [];
    for (const entry of em.configFiles) {
      if (isUrl(entry)) continue;
      // The generic phone has no MAC: entries naming one are per-phone, not read by every phone.
      if (generic && (entry.includes('[PHONE_') || entry.includes(GENERIC_MAC))) continue;
      const p = joinTreePath(masterDir, entry);
      if (p === undefined || p === '' || configFiles.includes(p)) continue;
      configFiles.push(p);
    }
    const files: string[] = [];
    if (!generic) {
      for (const kind of ['phone', 'web'] as const) {
        const o = inDir(directories.overrides, uploadName(mac, `override-${kind}`));
        if (!isUrl(o) && this.has(o)) files.push(this.realPath(o));
      }
    }
    files.push(...configFiles.map((p) => this.realPath(p)));
    this.chains.push({ master: path, em, phone, generic, directories, files, configFiles, stack: this.stackFor(files) });
  }

  /** Files every phone reads: the token-free CONFIG_FILES of 000000000000.cfg (any model variant). */
  sharedFiles(): Set<string> {
    const out = new Set<string>();
    for (const c of this.chains) if (c.generic && c.master === DEFAULT_MASTER) for (const f of c.configFiles) out.add(this.realPath(f));
    return out;
  }

  /**
   * Files more than one phone reads (issue 13 item 6), with who reads them: `masters` whose
   * generic phone reads the file (every phone using that master: a token-free CONFIG_FILES entry),
   * and `phones`, the MACs whose own chains read it (`<MAC>.cfg` masters, per-phone entries).
   * A file only one phone reads is not in the map.
   */
  sharedReaders(): Map<string, { masters: string[]; phones: Mac[] }> {
    if (this.readers) return this.readers;
    // Sets while counting: site.cfg of a 10,000-phone tree has 10,000 readers.
    const all = new Map<string, { masters: Set<string>; phones: Set<Mac> }>();
    for (const c of this.chains) {
      for (const f of c.configFiles) {
        const path = this.realPath(f);
        let r = all.get(path);
        if (!r) all.set(path, (r = { masters: new Set(), phones: new Set() }));
        if (c.generic) r.masters.add(c.master);
        else r.phones.add(c.phone.mac);
      }
    }
    this.readers = new Map();
    for (const [path, r] of all) if (r.masters.size > 0 || r.phones.size > 1) this.readers.set(path, { masters: [...r.masters], phones: [...r.phones] });
    return this.readers;
  }

  /** Config files no chain reads (checked on their own). */
  unreferencedConfigs(): ConfigFileInfo[] {
    const used = new Set<string>();
    for (const c of this.chains) for (const f of c.files) used.add(f);
    return [...this.configs.values()].filter((c) => !used.has(c.path));
  }
}

/** Model tokens a master file names in `_<MODEL>` suffixes. */
export function modelsNamedIn(master: MasterFile): ModelToken[] {
  const out = new Set<ModelToken>();
  for (const a of master.attrs) {
    const { model } = splitMasterSuffix(a.name);
    if (model && modelInfo(model)) out.add(model);
  }
  return [...out];
}

function foldMac(p: string): string {
  return p.replace(/[0-9A-Fa-f]{12}/g, (m) => m.toLowerCase());
}

/** Name of the first element, without a full parse (to tell master files from configuration files). */
function rootName(buf: Buffer, file: string): string | undefined {
  // Lossy decoding of a prefix is fine here: only the first element name matters, and the full
  // parse that follows reports any encoding error with its position.
  void file;
  const head = buf.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '');
  const m = /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)*<([A-Za-z_][\w.:-]*)/.exec(head);
  return m?.[1];
}

/**
 * `000000000000.cfg` or `<MAC>.cfg` at the root of the tree: what phones whose server address
 * names no directory fetch as their master file, so it must be one. Deeper `<MAC>.cfg` files are
 * often per-phone configuration files (the starter tree's `phones/[PHONE_MAC_ADDRESS].cfg`), so
 * there the content decides.
 */
function isRootMaster(path: string): boolean {
  return isMasterName(path) && !path.includes('/');
}
