// A phone's stored uploads with their versions, through the admin service (issue 15 "Resources":
// uploads — list a phone's stored overrides, directories, logs and call lists with their versions,
// get a version, restore one, write a contact directory validated as lint does). Reset Local
// Config and the override diff stay in admin-overrides.ts. A restore or a directory write is a new
// version (the history keeps what it replaced) and is recorded in the change record with who.
// Every method takes an optional tenant (issue 15, tenant-bound tokens): given one, only the
// uploads under that tenant's paths (tenant-paths.ts) are read, restored or written to.
import { parseContactDirectory } from '../config/contact-directory.ts';
import { lintDirectories } from '../config/lint/directory.ts';
import type { LintContext } from '../config/lint/context.ts';
import { partNumberFor } from '../config/models.ts';
import { uploadKeyOf, uploadName } from '../config/phone-layout.ts';
import { TreeFiles } from '../config/tree-source.ts';
import type { Mac, StoredFile, UploadKey, UploadKind } from '../domain.ts';
import { isProvError, ProvError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { ChangeRecorder } from './change-record.ts';
import { PhoneLayouts } from './phone-layouts.ts';
import { tenantHoldsPath, tenantPrefix, type IsTenant } from './tenant-paths.ts';

export const UPLOAD_KINDS: readonly UploadKind[] = ['override-phone', 'override-web', 'directory', 'calls', 'log-boot', 'log-app'];

/** Versions kept per key: the history this service lists (the store prunes past the server's keepVersions). */
const MAX_VERSIONS = 100;
/** A directory written through the API: the same cap as a phone's upload of one. */
const MAX_DIRECTORY_BYTES = 1 << 20;

export interface UploadVersions {
  kind: UploadKind;
  path: string;
  /** Newest first. */
  versions: StoredFile[];
}

/** A lint finding on a directory written through the admin service. */
export interface DirectoryProblem {
  code: string;
  message: string;
  line?: number;
  severity: 'error' | 'warning';
}

export class AdminUploads {
  constructor(
    private readonly store: Store,
    private readonly root: string,
    private readonly keepVersions: number,
    private readonly changes: ChangeRecorder,
    /** The fleet's tenants with a prefix (none without a fleet). */
    private readonly isTenant: IsTenant = () => false,
  ) {}

  /** The phone's current uploads, only those under `tenant`'s paths when one is given. */
  async current(mac: Mac, tenant?: string): Promise<StoredFile[]> {
    return (await this.store.uploads.listForPhone(mac)).filter((f) => tenantHoldsPath(tenant, f.key.path, this.isTenant));
  }

  /** Every upload key the phone has (under `tenant`'s paths when given), each with its versions (newest first). */
  async list(mac: Mac, kind?: UploadKind, tenant?: string): Promise<UploadVersions[]> {
    const out: UploadVersions[] = [];
    for (const f of await this.current(mac, tenant)) {
      if (kind !== undefined && f.key.kind !== kind) continue;
      out.push({ kind: f.key.kind, path: f.key.path, versions: await this.store.uploads.history(f.key, MAX_VERSIONS) });
    }
    return out.sort((a, b) => UPLOAD_KINDS.indexOf(a.kind) - UPLOAD_KINDS.indexOf(b.kind) || a.path.localeCompare(b.path));
  }

  /**
   * One version of the phone's upload of `kind` (the current one when `version` is undefined). A
   * phone may have the kind under several paths (the tenants it uploaded under, issue 14): the key
   * stored to last is asked first, as when the store kept one key per kind.
   */
  async version(mac: Mac, kind: UploadKind, version?: number, tenant?: string): Promise<StoredFile | undefined> {
    const keys = await this.list(mac, kind, tenant);
    keys.sort((a, b) => (b.versions[0]?.storedAt.getTime() ?? 0) - (a.versions[0]?.storedAt.getTime() ?? 0));
    for (const u of keys) {
      const f = version === undefined ? u.versions[0] : u.versions.find((v) => v.version === version);
      if (f) return f;
    }
    return undefined;
  }

  /** An older version made current again (a new version with its bytes); undefined when there is no such version. */
  async restore(mac: Mac, kind: UploadKind, version: number, tenant?: string): Promise<StoredFile | undefined> {
    const old = await this.version(mac, kind, version, tenant);
    if (!old) return undefined;
    const current = await this.version(mac, kind, undefined, tenant);
    const stored = await this.write(old.key, await old.read(), old.locked);
    await this.changes.record('uploads.restore', mac, current && { kind, path: current.key.path, version: current.version, sha256: current.sha256 }, { kind, path: old.key.path, restored: version, version: stored.version, sha256: stored.sha256 });
    return stored;
  }

  /**
   * Checks a contact directory as lint does (src/config/lint/directory.ts: ct present and unique,
   * name lengths, sd/rt ranges, flags, the model's contact limit). Errors refuse the write.
   */
  checkDirectory(mac: Mac, body: Buffer, model?: string): DirectoryProblem[] {
    const file = uploadName(mac, 'directory');
    let dir;
    try {
      dir = parseContactDirectory(body, file);
    } catch (err) {
      if (!isProvError(err)) throw err;
      return [{ code: err.code, message: err.message, severity: 'error', ...(err.line !== undefined ? { line: err.line } : {}) }];
    }
    // The rule reads only these fields of the lint context: the directory, the phone's model, and
    // the chains (none here: the model's own limit applies).
    const ctx = { directories: new Map([[file, dir]]), modelOf: () => model, opts: { model }, chains: [] } as unknown as LintContext;
    return lintDirectories(ctx).map((e) => ({ code: e.code, message: e.message, severity: e.severity === 'warning' ? 'warning' : 'error', ...(e.line !== undefined ? { line: e.line } : {}) }));
  }

  /**
   * Stores a contact directory for the phone as a new version of its directory upload, where
   * the phone's own upload would go (under `tenant`'s paths when given). Stores nothing and
   * returns the problems when lint finds an error.
   */
  async putDirectory(mac: Mac, body: Buffer, tenant?: string): Promise<{ file: StoredFile; warnings: DirectoryProblem[] } | { problems: DirectoryProblem[] }> {
    if (body.length > MAX_DIRECTORY_BYTES) throw new ProvError('PP_UPLOAD_TOO_LARGE', `the directory is ${body.length} bytes; at most ${MAX_DIRECTORY_BYTES} are stored`);
    const phone = await this.store.phones.get(mac);
    const problems = this.checkDirectory(mac, body, phone?.model);
    if (problems.some((p) => p.severity === 'error')) return { problems };
    const key = await this.keyOf(mac, 'directory', tenant);
    const old = await this.store.uploads.current(key);
    const file = await this.write(key, body, false);
    await this.changes.record('uploads.directory', mac, old && { path: key.path, version: old.version, sha256: old.sha256 }, { path: key.path, version: file.version, sha256: file.sha256, size: file.size });
    return { file, warnings: problems.filter((p) => p.severity === 'warning') };
  }

  private async write(key: UploadKey, body: Buffer, locked: boolean | undefined): Promise<StoredFile> {
    const sink = await this.store.uploads.begin(key, { mode: 'replace', address: 'polyprov-admin', maxBytes: Math.max(MAX_DIRECTORY_BYTES, body.length), keepVersions: this.keepVersions });
    try {
      await sink.write(body);
    } catch (err) {
      await sink.abort();
      throw err;
    }
    return sink.commit(locked === undefined ? undefined : { locked });
  }

  /**
   * Where the phone's upload of `kind` is kept: its current key (under `tenant`'s paths when
   * given), else the OVERRIDES/CONTACTS directory of its master, under the tenant's prefix.
   */
  private async keyOf(mac: Mac, kind: UploadKind, tenant?: string): Promise<UploadKey> {
    const current = newestOf(await this.current(mac, tenant), kind);
    if (current) return current.key;
    return layoutKeyOf(this.store, this.root, mac, kind, tenant);
  }
}

/**
 * The key the phone's upload of `kind` gets from the OVERRIDES/CONTACTS directory of the server's
 * master (config/phone-layout.ts, with its model and part number), under `tenant`'s URL prefix.
 */
export async function layoutKeyOf(store: Store, root: string, mac: Mac, kind: UploadKind, tenant?: string): Promise<UploadKey> {
  const phone = await store.phones.get(mac);
  const part = phone?.partNumber ?? (phone?.model ? partNumberFor(phone.model) : undefined);
  const layout = await new PhoneLayouts(new TreeFiles(root)).forPhone(mac, phone?.model, part);
  const key = uploadKeyOf(layout, kind) ?? { mac, kind, path: uploadName(mac, kind) };
  const prefix = tenantPrefix(tenant);
  return prefix === '' ? key : { ...key, path: prefix + key.path };
}

/** The current upload of `kind` stored last, of a phone's current uploads (one per path, issue 14 Tenants). */
export function newestOf(files: readonly StoredFile[], kind: UploadKind): StoredFile | undefined {
  let best: StoredFile | undefined;
  for (const f of files) if (f.key.kind === kind && (!best || f.storedAt.getTime() > best.storedAt.getTime())) best = f;
  return best;
}
