// The phones' override files through the admin service (issue 4, Override policy; issue 12
// item 4): list, show, diff against the server's own files, and clear — the server side of
// Reset Local Config, which per the white paper ("Resetting Parameters to Defaults") stores an
// EMPTY <MAC>-phone.cfg: deleting it would let the phone fall back on its cached copy. A clear
// is recorded in the change record with the parameters it removed (secrets masked).
// Each method takes an optional tenant (issue 15, tenant-bound tokens): given one, only the
// overrides under that tenant's paths (tenant-paths.ts) are read or cleared.
import { parseConfigFile } from '../config/config-file.ts';
import { resolvePhone } from '../config/resolver.ts';
import { writeConfigFile } from '../config/write-xml.ts';
import type { Mac, StoredFile, UploadKey, UploadKind } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { layoutKeyOf, newestOf } from './admin-uploads.ts';
import type { ChangeRecorder } from './change-record.ts';
import { LiveTreeSource, servedUpload } from './live-tree.ts';
import { tenantHoldsPath, type IsTenant } from './tenant-paths.ts';
import { TreeFiles } from '../config/tree-source.ts';

export type OverrideKind = 'phone' | 'web';
const UPLOAD_KIND: Record<OverrideKind, UploadKind> = { phone: 'override-phone', web: 'override-web' };
const kindOf = (f: StoredFile): OverrideKind | undefined => (f.key.kind === 'override-phone' ? 'phone' : f.key.kind === 'override-web' ? 'web' : undefined);

export interface OverrideParam {
  name: string;
  value: string;
  line: number;
}

export interface StoredOverride {
  mac: Mac;
  kind: OverrideKind;
  file: StoredFile;
}

export interface OverrideDifference {
  kind: OverrideKind;
  name: string;
  /** The phone's value (raw; the face masks secrets). */
  phone: string;
  /** What the server's files set, or null for "not set: built-in default". */
  server: string | null;
  source: string | null;
}

/** The parameters of an override file; an unreadable one has none (the linter reports it). */
export function overrideParams(buf: Buffer, file: string): OverrideParam[] {
  try {
    const cfg = parseConfigFile(buf, file);
    return cfg.kind === 'xml' ? cfg.params.map((p) => ({ name: p.name, value: p.value, line: p.pos.line })) : [];
  } catch {
    return [];
  }
}

export class AdminOverrides {
  constructor(
    private readonly store: Store,
    private readonly root: string,
    private readonly keepVersions: number,
    private readonly changes: ChangeRecorder,
    /** The fleet's tenants with a prefix (none without a fleet). */
    private readonly isTenant: IsTenant = () => false,
  ) {}

  /** The current overrides of one phone, or of every phone in the inventory (under `tenant`'s paths when given). */
  async list(mac?: Mac, tenant?: string): Promise<StoredOverride[]> {
    const macs = mac ? [mac] : (await this.store.phones.list()).map((p) => p.mac);
    const out: StoredOverride[] = [];
    for (const m of macs) {
      // One per kind: the one stored last, when the phone uploaded the kind under several paths (tenants, issue 14).
      const files = (await this.store.uploads.listForPhone(m)).filter((f) => tenantHoldsPath(tenant, f.key.path, this.isTenant));
      for (const kind of ['override-phone', 'override-web'] as const) {
        const file = newestOf(files, kind);
        if (file) out.push({ mac: m, kind: kindOf(file)!, file });
      }
    }
    return out;
  }

  async show(mac: Mac, tenant?: string): Promise<Partial<Record<OverrideKind, OverrideParam[]>>> {
    const out: Partial<Record<OverrideKind, OverrideParam[]>> = {};
    for (const o of await this.list(mac, tenant)) out[o.kind] = overrideParams(await o.file.read(), o.file.key.path);
    return out;
  }

  /** For each stored override, whether the phone gets it or a later edit of the tree file, and why (issue 13 item 3). */
  async served(mac: Mac, root = this.root, tenant?: string): Promise<Partial<Record<OverrideKind, { path: string; served: boolean; why: string }>>> {
    const tree = new TreeFiles(root);
    const out: Partial<Record<OverrideKind, { path: string; served: boolean; why: string }>> = {};
    for (const o of await this.list(mac, tenant)) {
      const a = await servedUpload(this.store, tree, o.file.key, undefined);
      if (a) out[o.kind] = { path: o.file.key.path, served: !a.superseded, why: a.why };
    }
    return out;
  }

  /** Each overridden parameter whose value differs from what the server's own files give the phone. */
  async diff(mac: Mac, root = this.root, tenant?: string): Promise<OverrideDifference[]> {
    const phone = await this.store.phones.get(mac);
    const server = await resolvePhone(new LiveTreeSource(root, this.store, { hideOverrides: true }), { mac, ...(phone?.model ? { model: phone.model } : {}) });
    const rows: OverrideDifference[] = [];
    for (const o of await this.list(mac, tenant)) {
      for (const p of overrideParams(await o.file.read(), o.file.key.path)) {
        const s = server.params.get(p.name);
        if (s && s.value === p.value) continue;
        rows.push({ kind: o.kind, name: p.name, phone: p.value, server: s ? s.value : null, source: s ? `${s.source.file}:${s.source.line}` : null });
      }
    }
    return rows;
  }

  /** Reset Local Config, server side: an empty override of each kind; returns the paths written. */
  async clear(mac: Mac, kinds: OverrideKind[], root = this.root, tenant?: string): Promise<string[]> {
    const cleared: string[] = [];
    for (const kind of kinds) {
      const key = await this.key(mac, UPLOAD_KIND[kind], root, tenant);
      const old = await this.store.uploads.current(key);
      const sink = await this.store.uploads.begin(key, { mode: 'replace', address: 'polyprov-admin', maxBytes: 1 << 20, keepVersions: this.keepVersions });
      await sink.write(Buffer.from(writeConfigFile([]), 'utf8'));
      await sink.commit({ locked: false });
      const before = old ? overrideParams(await old.read(), old.key.path).map(({ name, value }) => ({ name, value })) : undefined;
      await this.changes.record('overrides.clear', mac, before && { path: key.path, version: old!.version, params: before }, { path: key.path, params: [] });
      cleared.push(key.path);
    }
    await this.store.phones.setOverrideLocked(mac, false);
    return cleared;
  }

  /**
   * The phone's stored contact directory removed (issue 13 item 3), so the tree's `<MAC>-directory.xml`
   * (or 000000000000-directory.xml) is what the phone reads next (white paper, "Configuring Your
   * Local Contact Directory"). Unlike an override it is not replaced by an empty file: that would
   * empty the phone's directory. Returns the path cleared, or undefined when nothing was stored.
   */
  async clearDirectory(mac: Mac, root = this.root, tenant?: string): Promise<string | undefined> {
    const key = await this.key(mac, 'directory', root, tenant);
    const old = await this.store.uploads.current(key);
    if (!old) return undefined;
    await this.store.uploads.clear(key);
    await this.changes.record('overrides.clear', mac, { path: key.path, version: old.version, size: old.size, sha256: old.sha256 }, undefined);
    return key.path;
  }

  /**
   * The store key of the phone's override of `kind`: the OVERRIDES_DIRECTORY of the master the
   * phone reads, applied with its model and part number (config/phone-layout.ts). For a tenant:
   * the phone's current upload of `kind` under the tenant's paths, else that key under its prefix.
   */
  private async key(mac: Mac, kind: UploadKind, root: string, tenant?: string): Promise<UploadKey> {
    if (tenant !== undefined) {
      const current = newestOf((await this.store.uploads.listForPhone(mac)).filter((f) => tenantHoldsPath(tenant, f.key.path, this.isTenant)), kind);
      if (current) return current.key;
    }
    return layoutKeyOf(this.store, root, mac, kind, tenant);
  }
}
