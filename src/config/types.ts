// Shared types of the configuration model. Parsers (master-file.ts, config-file.ts,
// contact-directory.ts), the catalogues (models.ts, params.ts), the resolver and the
// linter all speak these; nothing here does I/O.

export type { Mac, ModelToken, PartNumber } from '../domain.ts';
import type { Mac, ModelToken, PartNumber } from '../domain.ts';

/** Where something stands in a file. Lines and columns are 1-based; file is relative to the tree root. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** One `name="value"` attribute of a configuration file: every attribute is a parameter. */
export interface ParamEntry {
  name: string;
  value: string;
  pos: SourcePos;
}

/** A parsed configuration file (`sip.cfg`, `site.cfg`, `<MAC>-phone.cfg`, …). */
export type ConfigFile =
  | { kind: 'xml'; file: string; params: ParamEntry[] }
  /** Starts with `Crypt=`: AES-128-CBC per the guide; the key format is not public, so never decoded. */
  | { kind: 'encrypted'; file: string; header: Record<string, string> };

/** One attribute of a master file, kept verbatim with its position. */
export interface MasterAttr {
  name: string;
  value: string;
  pos: SourcePos;
}

/** A parsed master configuration file: every attribute of every element, element names ignored. */
export interface MasterFile {
  file: string;
  attrs: MasterAttr[];
}

/** The phone a master file, a resolver run or a lint pass is evaluated for. */
export interface PhoneIdentity {
  mac: Mac;
  model?: ModelToken;
  partNumber?: PartNumber;
}

/** A master file applied to one phone: model-specific values chosen, [PHONE_*] tokens substituted. */
export interface EffectiveMaster {
  file: string;
  /** Image the phone loads, after part-number naming candidates; null when APP_FILE_PATH is empty. */
  appFilePath: string | null;
  /** Candidate image names in the order a phone tries them (`<part>.sip.ld`, then `sip.ld`). */
  appFileCandidates: string[];
  /** CONFIG_FILES after substitution, in master order (leftmost wins). Entries may be full URLs. */
  configFiles: string[];
  /** The XXX_DIRECTORY attributes by name (`OVERRIDES_DIRECTORY` → value), after substitution. */
  directories: Record<string, string>;
  /** Every other attribute after model selection and substitution. */
  attrs: Record<string, string>;
  /** Where each chosen value came from (attribute name as written, e.g. `CONFIG_FILES_SPIP650`). */
  sources: Record<string, MasterAttr>;
}

/** One contact of a contact directory (`<directory><item_list><item>`). */
export interface Contact {
  fn?: string;
  ln?: string;
  ct?: string;
  sd?: string;
  rt?: string;
  dc?: string;
  ad?: string;
  ar?: string;
  bw?: string;
  bb?: string;
  lb?: string;
  pt?: string;
  /** Any other child element, kept as is. */
  extra?: Record<string, string>;
  /** Position of the `<item>` element, and of each child element by name. */
  pos: SourcePos;
  fieldPos?: Partial<Record<string, SourcePos>>;
}

export interface ContactDirectory {
  file: string;
  contacts: Contact[];
}

/**
 * Where the resolver and linter read a provisioning tree from. Today a directory on disk
 * (`TreeFiles`); later the boot server's live content (files plus stored uploads).
 * Paths are relative to the root, forward slashes, no leading slash.
 */
export interface TreeSource {
  /** Bytes of the file, or null when it does not exist. MAC-named files match in either case. */
  read(path: string): Promise<Buffer | null>;
  /** Whether a file exists (same matching as read). */
  exists(path: string): Promise<boolean>;
  /** Every file path under the root (used by lint), relative, forward slashes. */
  list(): AsyncIterable<string>;
}
