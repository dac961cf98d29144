// The fleet snapshot (issue 14, Serving): the whole fleet held in memory, indexed for the boot
// path, with the render cache of `managed/<MAC>.cfg`. Pure memory: the fleet service loads it
// from the store, replaces it after each write or when another node's write moved the store's
// generation, and tells it which phones' effective settings changed — only their cached files are
// dropped, lazily (nothing is re-rendered until a phone asks), so a global change for 10,000 phones
// costs a Map.clear(), not 10,000 renders. A warm cache answers with no render and no store read.
import type { FleetChanges } from '../store/store.ts';
import { DEFAULT_TENANT, type FleetData, type Group, type Mac, type ManagedPhone, type Setting, type Site, type Tenant } from '../domain.ts';
import { effectiveSettings } from './effective.ts';
import { etagOf, renderDefaultMaster, renderEmpty, renderManaged } from './render.ts';
import { phoneScopes, scopeKey } from './scope.ts';
import { settingAad, type SecretBox } from './secret-box.ts';
import type { EffectiveSetting, ManagedFiles, RenderedFile } from './types.ts';

/** A site or group's Map key within the fleet: `tenant/name`. */
export const memberKey = (tenant: string, name: string): string => `${tenant}/${name}`;


/** The fleet indexed: settings by scope key (src/fleet/scope.ts scopeKey), then by name. */
export interface FleetState {
  readonly generation: number;
  readonly tenants: ReadonlyMap<string, Tenant>;
  readonly sites: ReadonlyMap<string, Site>;
  readonly groups: ReadonlyMap<string, Group>;
  readonly phones: ReadonlyMap<Mac, ManagedPhone>;
  readonly settings: ReadonlyMap<string, ReadonlyMap<string, Setting>>;
}

/**
 * One string per parameter name across the fleet: the store hands every row its own copy, and
 * 10,000 phones with the same eight line parameters held 80,000 of them (issue 14 Scale: RSS).
 * Names are catalogue names (validated before they are stored), so the table stays small.
 */
const names = new Map<string, string>();
function intern(name: string): string {
  const hit = names.get(name);
  if (hit !== undefined) return hit;
  if (names.size >= 100_000) names.clear();
  names.set(name, name);
  return name;
}

export function stateOf(d: FleetData): FleetState {
  const settings = new Map<string, Map<string, Setting>>();
  // load() gives settings by scope (SQLite's share one Scope record per scope): one key per run.
  let lastScope: Setting['scope'] | undefined;
  let m: Map<string, Setting> | undefined;
  for (const s of d.settings) {
    if (s.scope !== lastScope || !m) {
      const k = scopeKey(s.scope);
      m = settings.get(k);
      if (!m) settings.set(k, (m = new Map()));
      lastScope = s.scope;
    }
    s.name = intern(s.name);
    m.set(s.name, s);
  }
  return {
    generation: d.generation,
    tenants: new Map(d.tenants.map((t) => [t.name, t])),
    sites: new Map(d.sites.map((s) => [memberKey(s.tenant, s.name), s])),
    groups: new Map(d.groups.map((g) => [memberKey(g.tenant, g.name), g])),
    phones: new Map(d.phones.map((p) => [p.mac, p])),
    settings,
  };
}

/** What differs between two states: (scope key → names) whose stored value differs, and phones whose record does. */
export interface StateDiff {
  settings: Map<string, Set<string>>;
  phones: Set<Mac>;
}

export function emptyDiff(): StateDiff {
  return { settings: new Map(), phones: new Set() };
}

export function noteSetting(d: StateDiff, key: string, name: string): void {
  let s = d.settings.get(key);
  if (!s) d.settings.set(key, (s = new Set()));
  s.add(name);
}

const sameSetting = (a: Setting | undefined, b: Setting | undefined): boolean => a === b || (a !== undefined && b !== undefined && a.value === b.value && a.sealed === b.sealed);

const samePhone = (a: ManagedPhone | undefined, b: ManagedPhone | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.tenant === b.tenant && a.site === b.site && a.model === b.model && a.label === b.label && a.groups.join('\n') === b.groups.join('\n'));

/** The full difference, for a snapshot re-read after another node's write. */
export function diffStates(a: FleetState, b: FleetState): StateDiff {
  const d = emptyDiff();
  for (const [key, ma] of a.settings) {
    const mb = b.settings.get(key);
    for (const [name, s] of ma) if (!sameSetting(s, mb?.get(name))) noteSetting(d, key, name);
  }
  for (const [key, mb] of b.settings) {
    const ma = a.settings.get(key);
    for (const name of mb.keys()) if (!ma?.has(name)) noteSetting(d, key, name);
  }
  for (const [mac, p] of a.phones) if (!samePhone(p, b.phones.get(mac))) d.phones.add(mac);
  for (const mac of b.phones.keys()) if (!a.phones.has(mac)) d.phones.add(mac);
  return d;
}

/**
 * The state after the store's changes since `cur` (Store.fleet.changesSince: a node behind reads
 * only the scopes written since), and what differs: each changed scope's settings are replaced
 * whole, a phone scope's phone record with them; tenants, sites and groups come whole.
 */
export function stateWithChanges(cur: FleetState, ch: FleetChanges): { next: FleetState; diff: StateDiff } {
  const diff = emptyDiff();
  const phones = new Map(cur.phones);
  const settings = new Map(cur.settings);
  const got = new Map(ch.phones.map((p) => [p.mac, p]));
  const at = new Map<string, Map<string, Setting>>();
  for (const st of ch.settings) {
    const k = scopeKey(st.scope);
    let m = at.get(k);
    if (!m) at.set(k, (m = new Map()));
    st.name = intern(st.name);
    m.set(st.name, st);
  }
  for (const scope of ch.scopes) {
    const key = scopeKey(scope);
    if (scope.kind === 'phone') {
      const mac = scope.name as Mac;
      const p = got.get(mac);
      if (!samePhone(cur.phones.get(mac), p)) diff.phones.add(mac);
      if (p) phones.set(mac, p);
      else phones.delete(mac);
    }
    const was = cur.settings.get(key);
    const now = at.get(key);
    for (const [name, st] of was ?? []) if (!sameSetting(st, now?.get(name))) noteSetting(diff, key, name);
    for (const name of now?.keys() ?? []) if (!was?.has(name)) noteSetting(diff, key, name);
    if (now) settings.set(key, now);
    else settings.delete(key);
  }
  const next: FleetState = {
    generation: ch.generation,
    tenants: new Map(ch.tenants.map((t) => [t.name, t])),
    sites: new Map(ch.sites.map((x) => [memberKey(x.tenant, x.name), x])),
    groups: new Map(ch.groups.map((g) => [memberKey(g.tenant, g.name), g])),
    phones,
    settings,
  };
  return { next, diff };
}

/** The stored setting that wins for `name` on this phone (highest-precedence scope that sets it). */
function winner(state: FleetState, keys: readonly string[], name: string): Setting | undefined {
  for (const k of keys) {
    const s = state.settings.get(k)?.get(name);
    if (s) return s;
  }
  return undefined;
}

function scopeKeysOf(p: ManagedPhone): string[] {
  return phoneScopes(p).map(scopeKey);
}

/**
 * Phones whose effective managed settings differ between `before` and `after`, given what differs
 * (a superset is fine: each candidate is checked by the winning value of each changed name).
 * Phones added or removed count as affected (their file goes from empty to managed or back).
 */
export function affectedPhones(before: FleetState, after: FleetState, diff: StateDiff): Mac[] {
  const out = new Set<Mac>();
  for (const mac of diff.phones) {
    const a = before.phones.get(mac);
    const b = after.phones.get(mac);
    if (!a || !b) {
      out.add(mac);
      continue;
    }
    const ka = scopeKeysOf(a);
    const kb = scopeKeysOf(b);
    const names = new Set<string>();
    for (const k of ka) for (const n of before.settings.get(k)?.keys() ?? []) names.add(n);
    for (const k of kb) for (const n of after.settings.get(k)?.keys() ?? []) names.add(n);
    for (const n of names) {
      if (!sameSetting(winner(before, ka, n), winner(after, kb, n))) {
        out.add(mac);
        break;
      }
    }
  }
  // Phone-scope changes name their phone; other scopes are checked against every phone once.
  const wide = new Map<string, Set<string>>();
  for (const [key, names] of diff.settings) {
    if (key.startsWith('phone:')) {
      const mac = key.slice('phone:'.length) as Mac;
      const p = after.phones.get(mac);
      if (!p || out.has(mac)) continue;
      const keys = scopeKeysOf(p);
      for (const n of names) {
        if (!sameSetting(winner(before, keys, n), winner(after, keys, n))) {
          out.add(mac);
          break;
        }
      }
    } else {
      wide.set(key, names);
    }
  }
  if (wide.size > 0) {
    for (const p of after.phones.values()) {
      if (out.has(p.mac)) continue;
      const keys = scopeKeysOf(p);
      let hit = false;
      for (const k of keys) {
        const names = wide.get(k);
        if (!names) continue;
        for (const n of names) {
          if (!sameSetting(winner(before, keys, n), winner(after, keys, n))) {
            hit = true;
            break;
          }
        }
        if (hit) break;
      }
      if (hit) out.add(p.mac);
    }
  }
  return [...out].sort();
}

type Clear = ReadonlyMap<string, { value: string; secret: boolean }>;

/** The snapshot the boot path reads, synchronously, on every request (ManagedFiles). */
export class FleetSnapshot implements ManagedFiles {
  /** storeReads: whole loads; changeReads: reads of only what changed (Store.fleet.changesSince). */
  readonly stats = { renders: 0, storeReads: 0, changeReads: 0, generation: 0, polls: 0 };
  private readonly cache = new Map<Mac, RenderedFile>();
  /**
   * Clear values of the shared scopes (global, tenant, site, group), opened lazily and dropped
   * with the scope's changes. A phone scope's are opened each time they are asked for and not
   * kept: only that phone reads them, once per render, and keeping them held 12 MB at 10,000
   * phones (issue 14 Scale: server RSS).
   */
  private readonly clear = new Map<string, Clear>();
  private emptyFile: RenderedFile | undefined;
  private masterFile: RenderedFile | undefined;

  constructor(
    private current: FleetState,
    private secretBox: SecretBox,
  ) {
    this.stats.generation = current.generation;
  }

  get state(): FleetState {
    return this.current;
  }

  get box(): SecretBox {
    return this.secretBox;
  }

  /** Takes the next state; drops the cached files of `affected` phones and the clear values of changed scopes. */
  adopt(next: FleetState, diff: StateDiff, affected: readonly Mac[]): void {
    this.current = next;
    this.stats.generation = next.generation;
    for (const key of diff.settings.keys()) this.clear.delete(key);
    if (affected.length >= this.cache.size) this.cache.clear();
    else for (const mac of affected) this.cache.delete(mac);
  }

  /** After a key rotation: the same clear values, sealed under another key. */
  rekey(next: FleetState, box: SecretBox): void {
    this.secretBox = box;
    this.current = next;
    this.stats.generation = next.generation;
    this.clear.clear();
  }

  /** A stored setting's clear value (opens a sealed one). */
  open(key: string, s: Setting): string {
    return s.sealed ? this.secretBox.open(s.value, settingAad(key, s.name)) : s.value;
  }

  private clearAt(key: string): Clear | undefined {
    const hit = this.clear.get(key);
    if (hit) return hit;
    const stored = this.current.settings.get(key);
    if (!stored || stored.size === 0) return undefined;
    const m = new Map<string, { value: string; secret: boolean }>();
    for (const s of stored.values()) m.set(s.name, { value: this.open(key, s), secret: s.sealed });
    if (!key.startsWith('phone:')) this.clear.set(key, m);
    return m;
  }

  hasTenant(name: string): boolean {
    return name === DEFAULT_TENANT || this.current.tenants.has(name);
  }

  tenantOf(mac: Mac): string | undefined {
    return this.current.phones.get(mac)?.tenant;
  }

  /** A managed phone's effective settings, clear values in (the caller masks secrets); [] when unmanaged. */
  effective(mac: Mac): EffectiveSetting[] {
    const p = this.current.phones.get(mac);
    if (!p) return [];
    return effectiveSettings(p, (key) => this.clearAt(key));
  }

  managedFile(mac: Mac): RenderedFile {
    const hit = this.cache.get(mac);
    if (hit) return hit;
    let file: RenderedFile;
    if (!this.current.phones.has(mac)) {
      // Unmanaged: the one empty file, not cached per MAC (any MAC may ask).
      if (!this.emptyFile) {
        const body = renderEmpty();
        this.emptyFile = { body, etag: etagOf(body) };
        this.stats.renders++;
      }
      return this.emptyFile;
    }
    const body = renderManaged(
      this.effective(mac).map((e) => ({ name: e.name, value: e.value })),
      mac,
    );
    this.stats.renders++;
    file = { body, etag: etagOf(body) };
    this.cache.set(mac, file);
    return file;
  }

  defaultMaster(_tenant: string): RenderedFile {
    if (!this.masterFile) {
      const body = renderDefaultMaster();
      this.masterFile = { body, etag: etagOf(body) };
    }
    return this.masterFile;
  }

  /** How many phones' files are cached (tests). */
  get cached(): number {
    return this.cache.size;
  }
}
