// The in-memory store's fleet, API tokens and check-sync jobs (issues 14 and 15): the same contract
// as the SQL backends (src/store/sqlite/fleet.ts, src/store/postgres/fleet.ts …), checked by the
// same conformance cases (test/store/conformance-fleet.ts). apply() works on a copy and swaps it in
// only when every op went through, as one SQL transaction commits or rolls back whole. Every value
// handed out is a copy.
import type { ApiToken, CheckSyncJob, FleetData, FleetOp, Group, Mac, ManagedPhone, Scope, Setting, Site, Tenant } from '../../src/domain.ts';
import { ProvError } from '../../src/errors.ts';
import { macKey } from '../../src/store/fold-sighting.ts';
import { checkFleetOp, compareSettings, fleetLogScopes, jobLimit, LOG_KEEP, LOG_MAX, logScope, scopeCols } from '../../src/store/fleet-rows.ts';
import type { FleetChanges, Store } from '../../src/store/store.ts';

interface FleetState {
  generation: number;
  tenants: Map<string, Tenant>;
  /** `tenant/name` → site. */
  sites: Map<string, Site>;
  groups: Map<string, Group>;
  phones: Map<string, ManagedPhone>;
  /**
   * scope key (scopeCols joined) → parameter name → setting (a phone scope's tenant is read from
   * the phone at load). Inner maps are shared between states until an apply writes one (#inner).
   */
  settings: Map<string, Map<string, Setting>>;
  /** Scope keys whose inner map this state owns (copied in this apply). */
  owned: Set<string>;
}

const byStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const clonePhone = (p: ManagedPhone): ManagedPhone => ({ ...p, groups: [...p.groups], createdAt: new Date(p.createdAt), updatedAt: new Date(p.updatedAt) });
const cloneSetting = (s: Setting): Setting => ({ scope: { ...s.scope }, name: s.name, value: s.value, sealed: s.sealed });

function copyState(s: FleetState): FleetState {
  return {
    generation: s.generation,
    tenants: new Map(s.tenants),
    sites: new Map(s.sites),
    groups: new Map(s.groups),
    phones: new Map(s.phones),
    settings: new Map(s.settings),
    owned: new Set(),
  };
}

const scopeKeyOf = (sc: Scope) => scopeCols(sc).join('\0');

/** The settings of one scope, this state's own copy, to write. */
function inner(st: FleetState, key: string): Map<string, Setting> {
  let m = st.settings.get(key);
  if (!m || !st.owned.has(key)) {
    m = new Map(m);
    st.settings.set(key, m);
    st.owned.add(key);
  }
  return m;
}

/** Removes every setting of the scope `sc`, or of every scope that `match` accepts. */
function dropSettings(st: FleetState, match: Scope | ((sc: Scope) => boolean)): void {
  if (typeof match !== 'function') {
    st.settings.delete(scopeKeyOf(match));
    return;
  }
  for (const [k, m] of st.settings) {
    const first = m.values().next().value;
    if (first && match(first.scope)) st.settings.delete(k);
  }
}

function applyOp(st: FleetState, op: FleetOp): void {
  checkFleetOp(op);
  switch (op.op) {
    case 'putTenant': {
      const old = st.tenants.get(op.tenant.name);
      st.tenants.set(op.tenant.name, { name: op.tenant.name, createdAt: new Date(old?.createdAt ?? op.tenant.createdAt) });
      return;
    }
    case 'removeTenant': {
      const t = op.name;
      st.tenants.delete(t);
      for (const [k, s] of st.sites) if (s.tenant === t) st.sites.delete(k);
      for (const [k, g] of st.groups) if (g.tenant === t) st.groups.delete(k);
      const macs = new Set<string>();
      for (const [k, p] of st.phones) {
        if (p.tenant !== t) continue;
        macs.add(k);
        st.phones.delete(k);
      }
      dropSettings(st, (sc) => (sc.kind === 'phone' ? macs.has(sc.name) : sc.kind !== 'global' && sc.tenant === t));
      return;
    }
    case 'putSite':
      st.sites.set(`${op.site.tenant}/${op.site.name}`, { tenant: op.site.tenant, name: op.site.name });
      return;
    case 'removeSite':
      st.sites.delete(`${op.tenant}/${op.name}`);
      dropSettings(st, { kind: 'site', tenant: op.tenant, name: op.name });
      for (const [k, p] of st.phones) {
        if (p.tenant !== op.tenant || p.site !== op.name) continue;
        const { site: _site, ...rest } = p;
        st.phones.set(k, rest);
      }
      return;
    case 'putGroup':
      st.groups.set(`${op.group.tenant}/${op.group.name}`, { tenant: op.group.tenant, name: op.group.name });
      return;
    case 'removeGroup':
      st.groups.delete(`${op.tenant}/${op.name}`);
      dropSettings(st, { kind: 'group', tenant: op.tenant, name: op.name });
      for (const [k, p] of st.phones) {
        if (p.tenant === op.tenant && p.groups.includes(op.name)) st.phones.set(k, { ...p, groups: p.groups.filter((g) => g !== op.name) });
      }
      return;
    case 'putPhone': {
      const p = clonePhone(op.phone);
      p.mac = macKey(p.mac) as Mac;
      const old = st.phones.get(p.mac);
      if (old) p.createdAt = new Date(old.createdAt);
      for (const k of ['model', 'label', 'site'] as const) if (p[k] === undefined) delete p[k];
      st.phones.set(p.mac, p);
      return;
    }
    case 'removePhone': {
      const mac = macKey(op.mac);
      st.phones.delete(mac);
      dropSettings(st, { kind: 'phone', tenant: '', name: mac });
      return;
    }
    case 'setSetting': {
      const s = cloneSetting(op.setting);
      const [kind, tenant, name] = scopeCols(s.scope);
      s.scope = { kind, tenant, name };
      s.sealed = !!s.sealed;
      inner(st, scopeKeyOf(s.scope)).set(s.name, s);
      return;
    }
    case 'unsetSetting':
      if (st.settings.get(scopeKeyOf(op.scope))?.has(op.name)) inner(st, scopeKeyOf(op.scope)).delete(op.name);
      return;
  }
}

export class MemoryFleet {
  #st: FleetState = { generation: 0, tenants: new Map(), sites: new Map(), groups: new Map(), phones: new Map(), settings: new Map(), owned: new Set() };

  /** The change log (as migration 8): scopes written, by generation; complete after #logFrom. */
  #log: Array<{ generation: number; cols: [string, string, string] }> = [];
  #logFrom = 0;

  constructor(private readonly check: () => void) {}

  #settingsOf(st: FleetState, cols: readonly string[], tenantOf: (mac: string) => string): Setting[] {
    const m = st.settings.get(cols.join('\0'));
    return [...(m?.values() ?? [])].sort((a, b) => byStr(a.name, b.name)).map((s) => {
      const c = cloneSetting(s);
      if (c.scope.kind === 'phone') c.scope.tenant = tenantOf(c.scope.name);
      return c;
    });
  }

  readonly fleet: Store['fleet'] = {
    load: async () => {
      this.check();
      const st = this.#st;
      const phones = [...st.phones.values()].sort((a, b) => byStr(a.mac, b.mac)).map(clonePhone);
      const tenantOf = new Map(phones.map((p) => [p.mac as string, p.tenant]));
      const settings = [...st.settings.values()].flatMap((m) => [...m.values()]).map((s) => {
        const c = cloneSetting(s);
        if (c.scope.kind === 'phone') c.scope.tenant = tenantOf.get(c.scope.name) ?? '';
        return c;
      });
      const data: FleetData = {
        generation: st.generation,
        tenants: [...st.tenants.values()].sort((a, b) => byStr(a.name, b.name)).map((t) => ({ name: t.name, createdAt: new Date(t.createdAt) })),
        sites: [...st.sites.values()].sort((a, b) => byStr(a.tenant, b.tenant) || byStr(a.name, b.name)).map((s) => ({ ...s })),
        groups: [...st.groups.values()].sort((a, b) => byStr(a.tenant, b.tenant) || byStr(a.name, b.name)).map((g) => ({ ...g })),
        phones,
        settings: settings.sort(compareSettings),
      };
      return data;
    },
    generation: async () => {
      this.check();
      return this.#st.generation;
    },
    apply: async (ops) => {
      this.check();
      const next = copyState(this.#st);
      for (const op of ops) applyOp(next, op);
      next.generation++;
      this.#st = next;
      const scopes = fleetLogScopes(ops);
      if (scopes === 'full') {
        this.#logFrom = next.generation;
        this.#log = [];
      } else {
        for (const cols of scopes.values()) this.#log.push({ generation: next.generation, cols });
        if (next.generation % 50 === 0) {
          this.#logFrom = Math.max(this.#logFrom, next.generation - LOG_KEEP);
          this.#log = this.#log.filter((e) => e.generation > this.#logFrom);
        }
      }
      return next.generation;
    },
    changesSince: async (since) => {
      this.check();
      const st = this.#st;
      if (!Number.isInteger(since) || since < this.#logFrom || since > st.generation) return undefined;
      const keys = new Map<string, [string, string, string]>();
      for (const e of this.#log) if (e.generation > since) keys.set(e.cols.join('\0'), e.cols);
      if (keys.size > LOG_MAX) return undefined;
      const tenantOf = (mac: string) => st.phones.get(mac)?.tenant ?? '';
      const out: FleetChanges = {
        generation: st.generation,
        tenants: [...st.tenants.values()].sort((a, b) => byStr(a.name, b.name)).map((t) => ({ name: t.name, createdAt: new Date(t.createdAt) })),
        sites: [...st.sites.values()].sort((a, b) => byStr(a.tenant, b.tenant) || byStr(a.name, b.name)).map((x) => ({ ...x })),
        groups: [...st.groups.values()].sort((a, b) => byStr(a.tenant, b.tenant) || byStr(a.name, b.name)).map((x) => ({ ...x })),
        scopes: [],
        phones: [],
        settings: [],
      };
      for (const [kind, tenant, name] of keys.values()) {
        out.scopes.push(logScope(kind, tenant, name));
        const p = kind === 'phone' ? st.phones.get(name) : undefined;
        if (p) out.phones.push(clonePhone(p));
        out.settings.push(...this.#settingsOf(st, [kind, tenant, name], tenantOf));
      }
      return out;
    },
  };

  #tokens = new Map<string, ApiToken>();
  readonly tokens: Store['tokens'] = {
    put: async (t) => {
      this.check();
      for (const o of this.#tokens.values()) {
        if (o.hash === t.hash && o.name !== t.name) throw new ProvError('PP_INTERNAL', `token ${t.name}: another token has the same hash`);
      }
      const c: ApiToken = { ...t, createdAt: new Date(t.createdAt) };
      if (c.tenant === undefined) delete c.tenant;
      this.#tokens.set(t.name, c);
    },
    get: async (name) => {
      this.check();
      const t = this.#tokens.get(name);
      return t && { ...t, createdAt: new Date(t.createdAt) };
    },
    byHash: async (hash) => {
      this.check();
      const t = [...this.#tokens.values()].find((x) => x.hash === hash);
      return t && { ...t, createdAt: new Date(t.createdAt) };
    },
    list: async () => {
      this.check();
      return [...this.#tokens.keys()].sort(byStr).map((n) => ({ ...this.#tokens.get(n)!, createdAt: new Date(this.#tokens.get(n)!.createdAt) }));
    },
    remove: async (name) => {
      this.check();
      return this.#tokens.delete(name);
    },
  };

  /** In creation order. */
  #jobs: CheckSyncJob[] = [];
  readonly jobs: Store['jobs'] = {
    create: async (job) => {
      this.check();
      if (this.#jobs.some((j) => j.id === job.id)) throw new ProvError('PP_INTERNAL', `check-sync job ${job.id} already exists`);
      const c = structuredClone(job);
      for (const t of c.targets) t.mac = macKey(t.mac) as Mac;
      this.#jobs.push(normJob(c));
    },
    get: async (id) => {
      this.check();
      const j = this.#jobs.find((x) => x.id === id);
      return j && structuredClone(j);
    },
    list: async (limit) => {
      this.check();
      const n = jobLimit(limit);
      // Newest first; of two created at the same time, the later created first.
      return structuredClone([...this.#jobs].reverse().sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(0, n));
    },
    updateTargets: async (id, targets) => {
      this.check();
      const j = this.#jobs.find((x) => x.id === id);
      if (!j) return;
      const by = new Map(targets.map((t) => [macKey(t.mac), t]));
      j.targets = j.targets.map((t) => {
        const u = by.get(t.mac);
        if (!u) return t;
        const n: CheckSyncJob['targets'][number] = { mac: t.mac, status: u.status };
        if (u.detail !== undefined) n.detail = u.detail;
        if (u.at !== undefined) n.at = new Date(u.at);
        return n;
      });
    },
  };
}

/** Absent optional fields stay absent, as a NULL column reads back. */
function normJob(j: CheckSyncJob): CheckSyncJob {
  j.request = JSON.parse(JSON.stringify(j.request ?? null)) as unknown;
  if (j.tenant === undefined) delete j.tenant;
  for (const t of j.targets) {
    if (t.detail === undefined) delete t.detail;
    if (t.at === undefined) delete t.at;
  }
  return j;
}
