// The fleet service (issue 14, Model, Secrets, Serving): the managed fleet's operations over the
// store. It holds the fleet in memory (snapshot.ts) — every read, and the boot path's
// managed/<MAC>.cfg, is answered from there — and writes through one store transaction per apply:
// every command is checked first (plan.ts), a command that changes nothing writes nothing, and only
// the phones whose effective settings changed lose their cached file. It polls the store's
// generation so a write made by another node is seen within the poll interval. The core's admin
// service (src/core/admin-fleet.ts) wraps the writes and puts each change in the change record.
import { normalizeModel, parseMac } from '../config/models.ts';
import { DEFAULT_TENANT, type Group, type Mac, type ManagedPhone, type Scope, type Site, type Tenant } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { parseFleetCsv, writeFleetCsv } from './csv.ts';
import { FleetRefusal } from './phone-input.ts';
import { Draft } from './plan.ts';
import { scopeKey } from './scope.ts';
import { checkKey, KEY_CHECK_NEXT_SETTING, KEY_CHECK_SETTING } from './key-check.ts';
import type { SecretBox } from './secret-box.ts';
import { affectedPhones, diffStates, FleetSnapshot, stateOf, stateWithChanges, type FleetState, type StateDiff } from './snapshot.ts';
import type { ApplyOptions, ApplyResult, EffectiveSetting, FleetChange, FleetCommand, ManagedFiles, RenderedFile } from './types.ts';

/** How often the server polls the store's generation (issue 14: changes visible in under 1 s). */
export const POLL_MS = 250;

export { KEY_CHECK_NEXT_SETTING, KEY_CHECK_SETTING };

export interface FleetServiceOptions {
  /** The provisioning tree: tenant names that are files or folders there are refused. */
  root?: string;
  log?: Logger;
  clock?: () => Date;
}

export interface PhoneFilter {
  tenant?: string;
  site?: string;
  group?: string;
  model?: string;
  /** Hex digits the MAC starts with (any spelling: `00:04:f2`). */
  macPrefix?: string;
  /** Case-insensitive substring of the label. */
  label?: string;
}

export interface ImportResult {
  added: number;
  changed: number;
  unchanged: number;
  /** `FILE:LINE: column: message`, one per bad row (and per problem the CSV reader found); non-empty → nothing applied. */
  errors: string[];
  changes: FleetChange[];
  generation: number;
  affected: Mac[];
}

export interface RotateResult {
  /** Sealed settings re-sealed under the new key. */
  settings: number;
  generation: number;
  changes: FleetChange[];
}

export type SettingView = { name: string; value: string | { set: true } };

/**
 * One change per imported row (10,000 rows, 10,000 records): the row's phone change and its
 * settings change become one, `fleet.phone.add|update` of the MAC with the settings inside.
 * Returns whether the row changed its phone at all.
 */
function mergeRowChanges(changes: FleetChange[], mark: number, mac: Mac): boolean {
  const own = changes.slice(mark).filter((c) => c.target === mac || c.target === `phone:${mac}`);
  if (own.length < 2) return own.length > 0;
  const phone = own.find((c) => c.target === mac);
  const set = own.find((c) => c.target === `phone:${mac}`);
  const merged: FleetChange = {
    operation: phone?.operation ?? 'fleet.phone.update',
    target: mac,
    ...(phone?.old !== undefined || set?.old !== undefined ? { old: { ...(phone?.old as object | undefined), ...(set?.old !== undefined ? { settings: set.old } : {}) } } : {}),
    new: { ...(phone?.new as object | undefined), ...(set ? { settings: set.new } : {}) },
  };
  const rest = changes.slice(mark).filter((c) => !own.includes(c));
  changes.splice(mark, changes.length - mark, ...rest, merged);
  return true;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class FleetService implements ManagedFiles {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastPollError: string | undefined;

  private constructor(
    private readonly store: Store,
    private readonly snap: FleetSnapshot,
    private readonly o: FleetServiceOptions,
  ) {}

  /** Loads the fleet and checks the key against the store's check value (PP_FLEET_KEY_MISMATCH). */
  static async open(store: Store, box: SecretBox, opts: FleetServiceOptions = {}): Promise<FleetService> {
    const state = stateOf(await store.fleet.load());
    await checkKey(store, box, state);
    const svc = new FleetService(store, new FleetSnapshot(state, box), opts);
    svc.snap.stats.storeReads++;
    return svc;
  }

  // ---- the boot path (ManagedFiles): memory only ----------------------------------------------

  get stats(): FleetSnapshot['stats'] {
    return this.snap.stats;
  }
  get generation(): number {
    return this.snap.state.generation;
  }
  hasTenant(name: string): boolean {
    return this.snap.hasTenant(name);
  }
  tenantOf(mac: Mac): string | undefined {
    return this.snap.tenantOf(mac);
  }
  managedFile(mac: Mac): RenderedFile {
    return this.snap.managedFile(mac);
  }
  defaultMaster(tenant: string): RenderedFile {
    return this.snap.defaultMaster(tenant);
  }

  // ---- reads, from memory ----------------------------------------------------------------------

  /** Every tenant, the default one included (it exists before anything names it). */
  tenants(): Tenant[] {
    const st = this.snap.state;
    const out = [...st.tenants.values()];
    if (!st.tenants.has(DEFAULT_TENANT)) out.push({ name: DEFAULT_TENANT, createdAt: new Date(0) });
    return out.sort(byName);
  }

  private needTenant(t: string): void {
    if (!this.snap.hasTenant(t)) throw new ProvError('PP_FLEET_NOT_FOUND', `unknown tenant "${t}"`, { hint: 'List them with polyprov fleet tenants list.' });
  }

  sites(tenant: string = DEFAULT_TENANT): Site[] {
    this.needTenant(tenant);
    return [...this.snap.state.sites.values()].filter((s) => s.tenant === tenant).sort(byName);
  }

  groups(tenant: string = DEFAULT_TENANT): Group[] {
    this.needTenant(tenant);
    return [...this.snap.state.groups.values()].filter((g) => g.tenant === tenant).sort(byName);
  }

  phone(mac: Mac | string): ManagedPhone | undefined {
    const m = parseMac(String(mac));
    return m ? this.snap.state.phones.get(m) : undefined;
  }

  /** Managed phones matching every given field, by MAC. */
  phones(filter: PhoneFilter = {}): ManagedPhone[] {
    if (filter.tenant !== undefined) this.needTenant(filter.tenant);
    const prefix = filter.macPrefix?.toLowerCase().replace(/[^0-9a-f]/g, '');
    const label = filter.label?.toLowerCase();
    const model = filter.model === undefined ? undefined : (normalizeModel(filter.model) ?? filter.model);
    const out: ManagedPhone[] = [];
    for (const p of this.snap.state.phones.values()) {
      if (filter.tenant !== undefined && p.tenant !== filter.tenant) continue;
      if (filter.site !== undefined && p.site !== filter.site) continue;
      if (filter.group !== undefined && !p.groups.includes(filter.group)) continue;
      if (model !== undefined && p.model !== model) continue;
      if (prefix && !p.mac.startsWith(prefix)) continue;
      if (label !== undefined && !(p.label ?? '').toLowerCase().includes(label)) continue;
      out.push(p);
    }
    return out.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  /** The scope as stored; PP_FLEET_NOT_FOUND when the fleet has no such tenant, site, group or phone. */
  private storedScope(scope: Scope): Scope {
    return new Draft(this.snap.state, { box: this.snap.box, create: false, now: new Date() }).resolveScope(scope);
  }

  /** The settings made at one scope, by name; a secret shows as `{ set: true }`, never its value. */
  settings(scope: Scope): SettingView[] {
    const key = scopeKey(this.storedScope(scope));
    const m = this.snap.state.settings.get(key);
    if (!m) return [];
    return [...m.values()].map((s) => ({ name: s.name, value: s.sealed ? ({ set: true } as const) : s.value })).sort(byName);
  }

  /** A managed phone's effective settings with their scopes, clear values (the caller masks `secret` ones); [] when unmanaged. */
  effective(mac: Mac | string): EffectiveSetting[] {
    const m = parseMac(String(mac));
    return m ? this.snap.effective(m) : [];
  }

  // ---- writes ------------------------------------------------------------------------------------

  /** Runs `fn` alone: writes, refreshes and rotations never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private draft(create: boolean, box = this.snap.box, valuesChecked = false): Draft {
    return new Draft(this.snap.state, { box, root: this.o.root, create, now: (this.o.clock ?? (() => new Date()))(), valuesChecked });
  }

  /** Writes the draft in one store transaction (nothing on a dry run or when nothing changes). */
  private async commit(d: Draft, dryRun: boolean): Promise<ApplyResult> {
    const before = this.snap.state;
    const affected = affectedPhones(before, d.toState(before.generation), d.diff);
    if (dryRun || d.ops.length === 0) return { changes: d.changes, generation: before.generation, affected: dryRun ? affected : [] };
    const generation = await this.store.fleet.apply(d.ops);
    if (generation === before.generation + 1) this.snap.adopt(d.toState(generation), d.diff, affected);
    else await this.reload(); // another node wrote in between: read the store's whole truth
    return { changes: d.changes, generation, affected };
  }

  /**
   * Checks every command, then writes them in one transaction: all or nothing. Unknown tenants,
   * sites and groups are refused unless `create`; a no-op command writes and records nothing.
   */
  apply(commands: FleetCommand[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    return this.exclusive(async () => {
      await this.refreshNow();
      const d = this.draft(opts.create === true);
      commands.forEach((c, i) => {
        try {
          d.run(c);
        } catch (err) {
          if (err instanceof ProvError && commands.length > 1) {
            const message = `command ${i + 1} of ${commands.length} (${c.op}): ${err.message}; nothing applied`;
            if (err instanceof FleetRefusal) throw new FleetRefusal(err.code, message, err.field, err.hint);
            throw new ProvError(err.code, message, { hint: err.hint, cause: err });
          }
          throw err;
        }
      });
      return this.commit(d, opts.dryRun === true);
    });
  }

  /**
   * `fleet import`: the CSV read (csv.ts), every row checked against the fleet, and — only when no
   * row is bad — applied in one transaction. Each row is a phone and its phone-scope settings; an
   * empty cell leaves a setting as it is (so an export without secrets imports as a no-op).
   */
  importCsv(bytes: Buffer, file: string, opts: ApplyOptions = {}): Promise<ImportResult> {
    return this.exclusive(async () => {
      const parsed = parseFleetCsv(bytes, file);
      await this.refreshNow();
      const d = this.draft(opts.create === true, this.snap.box, true);
      const errors: Array<{ line: number; text: string }> = parsed.errors.map((text) => ({ line: Number(/:(\d+):/.exec(text.slice(file.length))?.[1] ?? 0), text }));
      let added = 0;
      let changed = 0;
      let unchanged = 0;
      for (const row of parsed.rows) {
        const mac = parseMac(String(row.phone.mac));
        const known = mac !== undefined && d.phones.has(mac);
        const mark = d.changes.length;
        try {
          d.run({ op: 'phone.put', phone: row.phone });
          if (Object.keys(row.settings).length > 0) {
            d.run({ op: 'settings.set', scope: { kind: 'phone', tenant: row.phone.tenant || DEFAULT_TENANT, name: String(row.phone.mac) }, values: row.settings });
          }
        } catch (err) {
          if (!(err instanceof ProvError)) throw err;
          const field = err instanceof FleetRefusal ? err.field : 'mac';
          errors.push({ line: row.line, text: `${file}:${row.line}: ${field}: ${err.message}` });
          continue;
        }
        const own = mergeRowChanges(d.changes, mark, mac as Mac);
        if (!known) added++;
        else if (own) changed++;
        else unchanged++;
      }
      if (errors.length > 0) {
        errors.sort((a, b) => a.line - b.line);
        return { added: 0, changed: 0, unchanged: 0, errors: errors.map((e) => e.text), changes: [], generation: this.generation, affected: [] };
      }
      const r = await this.commit(d, opts.dryRun === true);
      return { added, changed, unchanged, errors: [], ...r };
    });
  }

  /** `fleet export`: the import's CSV, phones by MAC; secret cells blank unless `withSecrets`. */
  exportCsv(o: { tenant?: string; withSecrets?: boolean } = {}): string {
    if (o.tenant !== undefined) this.needTenant(o.tenant);
    const st = this.snap.state;
    const secretNames = new Set<string>();
    const rows = this.phones(o.tenant === undefined ? {} : { tenant: o.tenant }).map((phone) => {
      const key = scopeKey({ kind: 'phone', tenant: phone.tenant, name: phone.mac });
      const settings: Record<string, string> = {};
      for (const s of st.settings.get(key)?.values() ?? []) {
        if (s.sealed) secretNames.add(s.name);
        settings[s.name] = !s.sealed ? s.value : o.withSecrets ? this.snap.open(key, s) : '';
      }
      return { phone, settings };
    });
    return writeFleetCsv(rows, o.withSecrets ? 'with-secrets' : secretNames);
  }

  /**
   * `secrets rotate`: every sealed setting re-sealed under `next` in one transaction, then the
   * check value replaced. The new key's check value is stored first, so a start with the new key
   * after a crash between the two finishes the rotation (checkKey).
   */
  rotate(next: SecretBox): Promise<RotateResult> {
    return this.exclusive(async () => {
      await this.refreshNow();
      const before = this.snap.state;
      const nextCheck = next.makeCheck();
      await this.store.settings.set(KEY_CHECK_NEXT_SETTING, nextCheck);
      const d = this.draft(false);
      const n = d.resealAll(next);
      let generation = before.generation;
      try {
        if (n > 0) generation = await this.store.fleet.apply(d.ops);
      } catch (err) {
        // Nothing re-sealed: the old key stays the store's key.
        await this.store.settings.set(KEY_CHECK_NEXT_SETTING, undefined).catch(() => undefined);
        throw err;
      }
      await this.store.settings.set(KEY_CHECK_SETTING, nextCheck);
      await this.store.settings.set(KEY_CHECK_NEXT_SETTING, undefined);
      if (n === 0 || generation === before.generation + 1) this.snap.rekey(d.toState(generation), next);
      else {
        this.snap.rekey(before, next);
        await this.reload();
      }
      return { settings: n, generation, changes: [{ operation: 'secrets.rotate', target: 'fleet', new: { resealed: n } }] };
    });
  }

  // ---- keeping up with other nodes ---------------------------------------------------------------

  /** Reads what changed since the snapshot's generation (the whole fleet when the store no longer knows) and adopts it. */
  private async reload(): Promise<void> {
    const cur = this.snap.state;
    const ch = await this.store.fleet.changesSince(cur.generation);
    let next: FleetState;
    let diff: StateDiff;
    if (ch) {
      ({ next, diff } = stateWithChanges(cur, ch));
      this.snap.stats.changeReads++;
    } else {
      next = stateOf(await this.store.fleet.load());
      this.snap.stats.storeReads++;
      diff = diffStates(cur, next);
    }
    this.snap.adopt(next, diff, affectedPhones(cur, next, diff));
  }

  private async refreshNow(): Promise<boolean> {
    this.snap.stats.polls++;
    const gen = await this.store.fleet.generation();
    if (gen === this.snap.state.generation) return false;
    await this.reload();
    return true;
  }

  /** Re-reads the fleet when the store's generation moved (another node wrote); true when it did. */
  refresh(): Promise<boolean> {
    return this.exclusive(() => this.refreshNow());
  }

  /** Polls the store's generation every `ms` (the server's 250 ms); a failed poll keeps the current snapshot. */
  startPolling(ms: number = POLL_MS): void {
    if (this.timer) return;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.refresh()
        .then(() => {
          if (this.lastPollError) this.o.log?.info({ event: 'fleet.poll.ok' }, 'fleet: the store answers again');
          this.lastPollError = undefined;
        })
        .catch((err: unknown) => {
          const code = err instanceof ProvError ? err.code : 'error';
          if (code !== this.lastPollError) this.o.log?.warn({ event: 'fleet.poll.failed', code, err: (err as Error).message }, 'fleet: cannot read the store generation; serving the fleet as last read');
          this.lastPollError = code;
        })
        .finally(() => {
          busy = false;
        });
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

