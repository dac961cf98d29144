// The managed fleet through the admin service (issue 14, "Every change goes through the core's
// admin service"): AdminService.fleet, what the CLI and the REST API call. Reads answer from the
// fleet service's memory (a CLI command opens it first: `await admin.fleet.open()`); every write (apply, import, replace, rotate) goes to the change record
// with who made it, secrets masked. `replace` is the fleet's phone.replace plus the core's part of
// a swapped phone: its contact directory and call lists move to the new MAC (the old history
// stays), its phone account goes (the new phone enrols through staging).
import { parseMac } from '../config/models.ts';
import type { Group, Mac, ManagedPhone, Scope, Site, Tenant, UploadKind } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { FleetService, ImportResult, PhoneFilter, RotateResult, SettingView } from '../fleet/fleet-service.ts';
import { SecretBox } from '../fleet/secret-box.ts';
import type { ApplyOptions, ApplyResult, EffectiveSetting, FleetChange, FleetCommand, ManagedFiles } from '../fleet/types.ts';
import type { ServerOptions } from '../options.ts';
import type { Store } from '../store/store.ts';
import type { ChangeRecorder } from './change-record.ts';

/** The fleet service, or why it could not be opened (no key, wrong key) — thrown by every fleet call. */
export type FleetSource = FleetService | ProvError;
/**
 * How a CLI command's admin service opens the fleet on first use (issue 16 leftover: `phones`,
 * `audit`, `changes` … neither load 10,000 phones nor create `<data>/secret.key`).
 */
export type FleetLoader = () => Promise<FleetSource>;

/** The uploads that follow a swapped phone (issue 14, CLI: "settings, contact directory and call lists move"). */
const MOVED_KINDS: readonly UploadKind[] = ['directory', 'calls'];

export interface ReplaceResult extends ApplyResult {
  /** New upload paths written for the new MAC. */
  uploads: string[];
  /** Phone accounts of the old MAC removed. */
  accounts: string[];
}

/** `path` with the old MAC in its file name put to the new one, keeping its case. */
function movePath(path: string, from: Mac, to: Mac): string {
  return path.replace(new RegExp(from, 'gi'), (m) => (m === m.toUpperCase() ? to.toUpperCase() : to));
}

export class AdminFleet {
  /** Undefined until a lazy fleet is opened (open()). */
  private source: FleetSource | undefined;
  private readonly loader: FleetLoader | undefined;
  private loading: Promise<FleetSource> | undefined;

  constructor(
    source: FleetSource | FleetLoader,
    private readonly store: Store,
    private readonly options: Readonly<ServerOptions>,
    private readonly changeRecord: ChangeRecorder,
  ) {
    if (typeof source === 'function') this.loader = source;
    else this.source = source;
  }

  /**
   * Reads the fleet if it is not read yet (a CLI command's admin service: issue 16 leftover, the
   * fleet and its key only for commands that use them); `serve` hands a fleet already open. A key
   * problem is not thrown here but by each fleet call, as for a fleet that could not open at start.
   */
  async open(): Promise<this> {
    if (this.source === undefined && this.loader) {
      this.loading ??= this.loader();
      try {
        this.source = await this.loading;
      } finally {
        this.loading = undefined;
      }
    }
    return this;
  }

  /** Whether the fleet service is open (false: no key, a wrong key, an admin built without it, or not opened yet). */
  get available(): boolean {
    return this.source !== undefined && !(this.source instanceof ProvError);
  }

  /** Whether `name` is a tenant of the open fleet (false when it is not open: tenant-paths.ts). */
  hasTenant(name: string): boolean {
    return this.source !== undefined && !(this.source instanceof ProvError) && this.source.hasTenant(name);
  }

  private get svc(): FleetService {
    if (this.source === undefined) throw new ProvError('PP_INTERNAL', 'the fleet is read on first use: await admin.fleet.open() before reading it');
    if (this.source instanceof ProvError) throw this.source;
    return this.source;
  }

  /** What the boot path and `render --out` read: managed/<MAC>.cfg, the default master. */
  get files(): ManagedFiles {
    return this.svc;
  }

  tenants(): Tenant[] {
    return this.svc.tenants();
  }
  sites(tenant?: string): Site[] {
    return this.svc.sites(tenant);
  }
  groups(tenant?: string): Group[] {
    return this.svc.groups(tenant);
  }
  phones(filter: PhoneFilter = {}): ManagedPhone[] {
    return this.svc.phones(filter);
  }
  phone(mac: Mac | string): ManagedPhone | undefined {
    return this.svc.phone(mac);
  }
  /** Secrets as `{ set: true }`. */
  settings(scope: Scope): SettingView[] {
    return this.svc.settings(scope);
  }
  /** Clear values: the face masks the `secret` ones. */
  effective(mac: Mac | string): EffectiveSetting[] {
    return this.svc.effective(mac);
  }
  /** Secret cells blank unless `withSecrets`. */
  exportCsv(o: { tenant?: string; withSecrets?: boolean } = {}): string {
    return this.svc.exportCsv(o);
  }

  private async record(changes: readonly FleetChange[]): Promise<void> {
    await this.changeRecord.recordAll(changes);
  }

  /** Checks every command, writes them in one transaction (nothing on a dry run), records each change. */
  async apply(commands: FleetCommand[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    await this.open();
    const r = await this.svc.apply(commands, opts);
    if (opts.dryRun !== true) await this.record(r.changes);
    return r;
  }

  /** `fleet import`: nothing applied when `errors` is not empty. */
  async importCsv(bytes: Buffer, file: string, opts: ApplyOptions = {}): Promise<ImportResult> {
    await this.open();
    const r = await this.svc.importCsv(bytes, file, opts);
    if (opts.dryRun !== true && r.errors.length === 0 && r.changes.length > 0) {
      await this.record(r.changes);
      await this.changeRecord.record('fleet.import', file, undefined, { added: r.added, changed: r.changed, unchanged: r.unchanged });
    }
    return r;
  }

  /**
   * `fleet replace OLD NEW`: the fleet's settings move (re-sealed), the old MAC's contact directory
   * and call lists become the new MAC's current uploads (the old versions stay as history), the
   * old MAC's phone account is removed so the new phone enrols through staging. All recorded.
   */
  async replace(fromMac: Mac | string, toMac: Mac | string): Promise<ReplaceResult> {
    const r = await this.apply([{ op: 'phone.replace', from: fromMac as Mac, to: toMac as Mac }]);
    // The fleet accepted both MACs, so they parse.
    const from = parseMac(String(fromMac)) as Mac;
    const to = parseMac(String(toMac)) as Mac;
    const uploads: string[] = [];
    for (const f of await this.store.uploads.listForPhone(from)) {
      if (!MOVED_KINDS.includes(f.key.kind)) continue;
      const bytes = await f.read();
      const key = { mac: to, kind: f.key.kind, path: movePath(f.key.path, from, to) };
      const max = f.key.kind === 'calls' ? this.options.uploadMaxBytesCalls : this.options.uploadMaxBytesDirectory;
      const sink = await this.store.uploads.begin(key, {
        mode: 'replace',
        address: 'polyprov-admin',
        maxBytes: Math.max(max, bytes.length),
        keepVersions: this.options.uploadKeepVersions,
        ...(f.treeVersion !== undefined ? { treeVersion: f.treeVersion } : {}),
      });
      try {
        await sink.write(bytes);
        await sink.commit({ locked: false });
      } catch (err) {
        await sink.abort().catch(() => undefined);
        throw err;
      }
      await this.changeRecord.record('fleet.replace.upload', to, { path: f.key.path, version: f.version, sha256: f.sha256 }, { path: key.path, size: bytes.length });
      uploads.push(key.path);
    }
    const accounts: string[] = [];
    for (let i = 0; i < 16; i++) {
      const a = await this.store.accounts.forPhone(from);
      if (!a || !(await this.store.accounts.remove(a.user))) break;
      await this.changeRecord.record('accounts.remove', a.user, { user: a.user, kind: a.kind, mac: a.mac, tenant: a.tenant, reason: `phone ${from} replaced by ${to}` });
      accounts.push(a.user);
    }
    return { ...r, uploads, accounts };
  }

  /** `secrets rotate`: every sealed setting re-sealed under `key` (32 bytes) in one transaction. */
  async rotate(key: Buffer): Promise<RotateResult> {
    await this.open();
    const r = await this.svc.rotate(new SecretBox(key));
    await this.record(r.changes);
    return r;
  }
}
