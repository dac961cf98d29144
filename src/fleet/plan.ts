// Planning a fleet write (issue 14, Model): FleetCommands checked one by one against a draft of the
// snapshot — names, existence, the parameter catalogue, a MAC's one tenant — and turned into the
// store's FleetOps, the change record's FleetChanges (secrets masked as {"set": true}) and the
// differences that say which phones' files to drop. A command that changes nothing yields nothing
// (re-importing the same file is a no-op). A refused command throws before touching the draft and
// names the field (CSV column) it is about. The draft mirrors the store's cascades (FleetOp comment
// in src/domain.ts) so the fleet service can adopt it as the next snapshot without a re-read.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TENANT, type FleetOp, type Group, type Mac, type ManagedPhone, type Scope, type Setting, type Site, type Tenant } from '../domain.ts';
import { isSecretParam } from '../config/params.ts';
import { ProvError } from '../errors.ts';
import { about, FleetRefusal, macOf, phoneFields, phoneView } from './phone-input.ts';
import { checkFleetName, formatScope, scopeKey } from './scope.ts';
import { settingAad, type SecretBox } from './secret-box.ts';
import { emptyDiff, memberKey, noteSetting, type FleetState, type StateDiff } from './snapshot.ts';
import type { FleetChange, FleetCommand, PhoneInput } from './types.ts';
import { checkSetting, checkSettingName } from './validate.ts';

/** Path segments a tenant may not take: they are served at the root for the default tenant. */
const RESERVED_TENANTS = new Set(['managed']);

export interface PlanOptions {
  box: SecretBox;
  /** The provisioning tree: a tenant name that is a file or folder there is refused. */
  root?: string;
  /** Create tenants, sites and groups that commands name but the fleet lacks. */
  create: boolean;
  now: Date;
  /** The values were already checked against the catalogue (the CSV reader checks every cell): only the secret flag is looked up. */
  valuesChecked?: boolean;
}

const secretByName = new Map<string, boolean>();
function secretName(name: string): boolean {
  let s = secretByName.get(name);
  if (s === undefined) {
    s = isSecretParam(name);
    if (secretByName.size < 10_000) secretByName.set(name, s);
  }
  return s;
}

const SET = { set: true } as const;
const shown = (v: string, secret: boolean): unknown => (secret ? SET : v);

export class Draft {
  readonly tenants: Map<string, Tenant>;
  readonly sites: Map<string, Site>;
  readonly groups: Map<string, Group>;
  readonly phones: Map<Mac, ManagedPhone>;
  readonly settings: Map<string, Map<string, Setting>>;
  readonly ops: FleetOp[] = [];
  readonly changes: FleetChange[] = [];
  readonly diff: StateDiff = emptyDiff();
  /** Phone MACs added by this draft (import counts). */
  readonly added = new Set<Mac>();
  private readonly owned = new Set<string>();

  constructor(
    private readonly base: FleetState,
    private readonly o: PlanOptions,
  ) {
    this.tenants = new Map(base.tenants);
    this.sites = new Map(base.sites);
    this.groups = new Map(base.groups);
    this.phones = new Map(base.phones);
    this.settings = new Map(base.settings as Map<string, Map<string, Setting>>);
  }

  toState(generation: number): FleetState {
    return { generation, tenants: this.tenants, sites: this.sites, groups: this.groups, phones: this.phones, settings: this.settings };
  }

  run(c: FleetCommand): void {
    switch (c.op) {
      case 'tenant.add':
        return this.addTenant(c.tenant);
      case 'tenant.remove':
        return this.removeTenant(c.tenant);
      case 'site.add':
      case 'group.add':
        return this.addMember(c.op === 'site.add' ? 'site' : 'group', c.tenant, c.name);
      case 'site.remove':
      case 'group.remove':
        return this.removeMember(c.op === 'site.remove' ? 'site' : 'group', c.tenant, c.name);
      case 'phone.put':
        return this.putPhone(c.phone);
      case 'phone.remove':
        return this.removePhone(c.mac);
      case 'phone.replace':
        return this.replacePhone(c.from, c.to);
      case 'settings.set':
        return this.setSettings(c.scope, c.values);
      case 'settings.unset':
        return this.unsetSettings(c.scope, c.names);
      default:
        throw new ProvError('PP_FLEET_SCOPE_INVALID', `unknown fleet command ${JSON.stringify((c as { op?: unknown }).op)}`);
    }
  }

  // ---- tenants, sites, groups ------------------------------------------------------------------

  private tenantExists(t: string): boolean {
    return t === DEFAULT_TENANT || this.tenants.has(t);
  }

  /** The default tenant is implicit until something needs its row. */
  private ensureDefault(t: string): void {
    if (t === DEFAULT_TENANT && !this.tenants.has(t)) {
      const tenant: Tenant = { name: t, createdAt: this.o.now };
      this.tenants.set(t, tenant);
      this.ops.push({ op: 'putTenant', tenant });
    }
  }

  private addTenant(name: string): void {
    about('tenant', () => checkFleetName('tenant', name));
    if (this.tenantExists(name)) return;
    if (RESERVED_TENANTS.has(name) || (this.o.root !== undefined && existsSync(join(this.o.root, name)))) {
      throw new FleetRefusal('PP_FLEET_TENANT_CLASH', `tenant "${name}" clashes with ${RESERVED_TENANTS.has(name) ? 'a path the server reserves' : `the file or folder ${join(this.o.root ?? '', name)} at the root`}: /${name}/… could not tell the tenant from the shared tree`, 'tenant', 'Pick another tenant name; a tenant\'s own files go in ROOT/<tenant>/ only after the tenant exists.');
    }
    const tenant: Tenant = { name, createdAt: this.o.now };
    this.tenants.set(name, tenant);
    this.ops.push({ op: 'putTenant', tenant });
    this.changes.push({ operation: 'fleet.tenant.add', target: name, new: { name } });
  }

  private needTenant(t: string, field: string): void {
    about(field, () => checkFleetName('tenant', t));
    if (this.tenantExists(t)) return this.ensureDefault(t);
    if (this.o.create) return this.addTenant(t);
    throw new FleetRefusal('PP_FLEET_NOT_FOUND', `unknown tenant "${t}"`, field, `Add it first (polyprov fleet tenants add ${t}) or import with --create.`);
  }

  private removeTenant(name: string): void {
    if (name === DEFAULT_TENANT) throw new FleetRefusal('PP_FLEET_EXISTS', 'the default tenant cannot be removed', 'tenant');
    if (!this.tenants.has(name)) throw new FleetRefusal('PP_FLEET_NOT_FOUND', `unknown tenant "${name}"`, 'tenant');
    let n = 0;
    for (const p of this.phones.values()) if (p.tenant === name) n++;
    if (n > 0) throw new FleetRefusal('PP_FLEET_EXISTS', `tenant "${name}" still manages ${n} phone${n === 1 ? '' : 's'}`, 'tenant', 'Remove its phones first (polyprov fleet remove MAC).');
    for (const [k, s] of this.sites) if (s.tenant === name) this.dropMember('site', k, s);
    for (const [k, g] of this.groups) if (g.tenant === name) this.dropMember('group', k, g);
    this.dropScope({ kind: 'tenant', tenant: name, name });
    this.tenants.delete(name);
    this.ops.push({ op: 'removeTenant', name });
    this.changes.push({ operation: 'fleet.tenant.remove', target: name, old: { name } });
  }

  private members(kind: 'site' | 'group'): Map<string, Site | Group> {
    return kind === 'site' ? this.sites : this.groups;
  }

  private addMember(kind: 'site' | 'group', tenant: string, name: string): void {
    this.needTenant(tenant, 'tenant');
    about(kind === 'site' ? 'site' : 'groups', () => checkFleetName(kind, name));
    const k = memberKey(tenant, name);
    if (this.members(kind).has(k)) return;
    const m = { tenant, name };
    this.members(kind).set(k, m);
    this.ops.push(kind === 'site' ? { op: 'putSite', site: m } : { op: 'putGroup', group: m });
    this.changes.push({ operation: `fleet.${kind}.add`, target: formatScope({ kind, tenant, name }), new: m });
  }

  private needMember(kind: 'site' | 'group', tenant: string, name: string, field: string): void {
    about(field, () => checkFleetName(kind, name));
    if (this.members(kind).has(memberKey(tenant, name))) return;
    if (this.o.create) return this.addMember(kind, tenant, name);
    const text = formatScope({ kind, tenant, name }).slice(kind.length + 1);
    throw new FleetRefusal('PP_FLEET_NOT_FOUND', `unknown ${kind} "${text}"${tenant === DEFAULT_TENANT ? '' : ` of tenant ${tenant}`}`, field, `Add it first (polyprov fleet ${kind}s add ${name}${tenant === DEFAULT_TENANT ? '' : ` --tenant ${tenant}`}) or import with --create.`);
  }

  private removeMember(kind: 'site' | 'group', tenant: string, name: string): void {
    const k = memberKey(tenant, name);
    const m = this.members(kind).get(k);
    if (!m) throw new FleetRefusal('PP_FLEET_NOT_FOUND', `unknown ${kind} "${formatScope({ kind, tenant, name })}"`, kind);
    this.dropMember(kind, k, m);
    this.ops.push(kind === 'site' ? { op: 'removeSite', tenant, name } : { op: 'removeGroup', tenant, name });
    this.changes.push({ operation: `fleet.${kind}.remove`, target: formatScope({ kind, tenant, name }), old: { tenant, name } });
  }

  /** The store's cascade, mirrored: the member's settings go, phones naming it lose it. */
  private dropMember(kind: 'site' | 'group', k: string, m: Site | Group): void {
    this.members(kind).delete(k);
    this.dropScope({ kind, tenant: m.tenant, name: m.name });
    for (const p of this.phones.values()) {
      if (p.tenant !== m.tenant) continue;
      if (kind === 'site' ? p.site === m.name : p.groups.includes(m.name)) {
        const next: ManagedPhone = { ...p, groups: kind === 'group' ? p.groups.filter((g) => g !== m.name) : p.groups };
        if (kind === 'site') delete next.site;
        this.phones.set(p.mac, next);
        this.diff.phones.add(p.mac);
      }
    }
  }

  private dropScope(scope: Scope): void {
    const key = scopeKey(scope);
    const m = this.settings.get(key);
    if (!m) return;
    for (const name of m.keys()) noteSetting(this.diff, key, name);
    this.settings.delete(key);
    this.owned.delete(key);
  }

  // ---- phones ----------------------------------------------------------------------------------

  private putPhone(input: PhoneInput): void {
    const mac = macOf(input.mac, 'mac');
    const old = this.phones.get(mac);
    const f = phoneFields(input, old, mac);
    this.needTenant(f.tenant, 'tenant');
    if (f.site !== undefined) this.needMember('site', f.tenant, f.site, 'site');
    for (const g of f.groups) this.needMember('group', f.tenant, g, 'groups');
    if (old && phoneView(old) === phoneView(f)) return;
    const next: ManagedPhone = { ...f, createdAt: old?.createdAt ?? this.o.now, updatedAt: this.o.now };
    this.phones.set(mac, next);
    this.diff.phones.add(mac);
    if (!old) this.added.add(mac);
    this.ops.push({ op: 'putPhone', phone: next });
    this.changes.push({ operation: old ? 'fleet.phone.update' : 'fleet.phone.add', target: mac, old: old ? JSON.parse(phoneView(old)) : undefined, new: JSON.parse(phoneView(next)) });
  }

  private needPhone(mac: Mac, field: string): ManagedPhone {
    const p = this.phones.get(mac);
    if (!p) throw new FleetRefusal('PP_FLEET_NOT_FOUND', `phone ${mac} is not managed`, field, `Add it first: polyprov fleet add ${mac} --model MODEL.`);
    return p;
  }

  private removePhone(text: Mac): void {
    const mac = macOf(text, 'mac');
    const p = this.needPhone(mac, 'mac');
    this.dropScope({ kind: 'phone', tenant: p.tenant, name: mac });
    this.phones.delete(mac);
    this.diff.phones.add(mac);
    this.ops.push({ op: 'removePhone', mac });
    this.changes.push({ operation: 'fleet.phone.remove', target: mac, old: JSON.parse(phoneView(p)) });
  }

  /** A swapped phone: the record and its phone-scope settings (re-sealed for the new scope) move. */
  private replacePhone(fromText: Mac, toText: Mac): void {
    const from = macOf(fromText, 'from');
    const to = macOf(toText, 'to');
    const p = this.needPhone(from, 'from');
    if (from === to) throw new FleetRefusal('PP_FLEET_EXISTS', `phone ${from} cannot replace itself`, 'to');
    const other = this.phones.get(to);
    if (other) throw new FleetRefusal('PP_FLEET_EXISTS', `phone ${to} is already managed (tenant ${other.tenant})`, 'to', `Remove it first (polyprov fleet remove ${to}) if it is the replacement.`);
    const next: ManagedPhone = { ...p, mac: to, groups: [...p.groups], createdAt: this.o.now, updatedAt: this.o.now };
    const fromKey = scopeKey({ kind: 'phone', tenant: p.tenant, name: from });
    const toScope: Scope = { kind: 'phone', tenant: p.tenant, name: to };
    const toKey = scopeKey(toScope);
    const moved = new Map<string, Setting>();
    for (const s of this.settings.get(fromKey)?.values() ?? []) {
      const value = s.sealed ? this.o.box.seal(this.o.box.open(s.value, settingAad(fromKey, s.name)), settingAad(toKey, s.name)) : s.value;
      moved.set(s.name, { scope: toScope, name: s.name, value, sealed: s.sealed });
    }
    this.ops.push({ op: 'putPhone', phone: next });
    for (const s of moved.values()) this.ops.push({ op: 'setSetting', setting: s });
    this.ops.push({ op: 'removePhone', mac: from });
    this.dropScope({ kind: 'phone', tenant: p.tenant, name: from });
    this.phones.delete(from);
    this.phones.set(to, next);
    if (moved.size > 0) {
      this.settings.set(toKey, moved);
      this.owned.add(toKey);
      for (const n of moved.keys()) noteSetting(this.diff, toKey, n);
    }
    this.diff.phones.add(from).add(to);
    this.changes.push({ operation: 'fleet.phone.replace', target: from, old: { mac: from }, new: { mac: to, settings: moved.size } });
  }

  // ---- settings --------------------------------------------------------------------------------

  /** The scope as stored (a phone scope takes its phone's tenant); refuses a scope the fleet lacks. */
  resolveScope(scope: Scope): Scope {
    switch (scope.kind) {
      case 'global':
        return { kind: 'global', tenant: '', name: '' };
      case 'tenant':
        this.needTenant(scope.tenant, 'scope');
        return { kind: 'tenant', tenant: scope.tenant, name: scope.tenant };
      case 'site':
      case 'group':
        this.needTenant(scope.tenant, 'scope');
        this.needMember(scope.kind, scope.tenant, scope.name, 'scope');
        return { ...scope };
      case 'phone': {
        const mac = macOf(scope.name, 'scope');
        const p = this.phones.get(mac);
        const asked = scope.tenant === '' ? DEFAULT_TENANT : scope.tenant;
        if (p) {
          // Named under another tenant (not the default spelling): as unknown there as any phone.
          if (asked !== DEFAULT_TENANT && asked !== p.tenant) throw new FleetRefusal('PP_FLEET_NOT_FOUND', `phone ${mac} is not managed by tenant ${asked}`, 'scope');
          return { kind: 'phone', tenant: p.tenant, name: mac };
        }
        if (!this.o.create) throw new FleetRefusal('PP_FLEET_NOT_FOUND', `phone ${mac} is not managed: phone-scope settings need the phone first`, 'scope', `Add it first: polyprov fleet add ${mac} --model MODEL${asked === DEFAULT_TENANT ? '' : ` --tenant ${asked}`}.`);
        this.putPhone({ mac, tenant: asked });
        return { kind: 'phone', tenant: asked, name: mac };
      }
    }
  }

  private writable(key: string): Map<string, Setting> {
    let m = this.settings.get(key);
    if (!m) {
      m = new Map();
      this.settings.set(key, m);
      this.owned.add(key);
    } else if (!this.owned.has(key)) {
      m = new Map(m);
      this.settings.set(key, m);
      this.owned.add(key);
    }
    return m;
  }

  private setSettings(asked: Scope, values: Record<string, string>): void {
    // Every value checked (and sealed) before the draft changes.
    const checked: Array<{ name: string; value: string; secret: boolean }> = [];
    for (const [name, value] of Object.entries(values)) {
      if (typeof value !== 'string') throw new FleetRefusal('PP_FLEET_PARAM_INVALID', `${name}: the value must be a string`, name);
      checked.push({ name, value, secret: this.o.valuesChecked ? secretName(name) : about(name, () => checkSetting(name, value)).secret });
    }
    const scope = this.resolveScope(asked);
    const key = scopeKey(scope);
    const current = this.settings.get(key);
    const old: Record<string, unknown> = {};
    const now: Record<string, unknown> = {};
    const next: Setting[] = [];
    for (const c of checked) {
      const s = current?.get(c.name);
      if (s && s.sealed === c.secret && (s.sealed ? this.o.box.open(s.value, settingAad(key, s.name)) : s.value) === c.value) continue;
      if (s) old[c.name] = shown(s.sealed ? '' : s.value, s.sealed);
      now[c.name] = shown(c.value, c.secret);
      next.push({ scope, name: c.name, value: c.secret ? this.o.box.seal(c.value, settingAad(key, c.name)) : c.value, sealed: c.secret });
    }
    if (next.length === 0) return;
    const m = this.writable(key);
    for (const s of next) {
      m.set(s.name, s);
      noteSetting(this.diff, key, s.name);
      this.ops.push({ op: 'setSetting', setting: s });
    }
    this.changes.push({ operation: 'settings.set', target: formatScope(scope), old: Object.keys(old).length > 0 ? old : undefined, new: now });
  }

  private unsetSettings(asked: Scope, names: string[]): void {
    for (const n of names) about(n, () => checkSettingName(n));
    const scope = this.resolveScope(asked);
    const key = scopeKey(scope);
    const current = this.settings.get(key);
    const gone = names.filter((n, i) => current?.has(n) && names.indexOf(n) === i);
    if (gone.length === 0) return;
    const m = this.writable(key);
    const old: Record<string, unknown> = {};
    for (const n of gone) {
      const s = m.get(n) as Setting;
      old[n] = shown(s.sealed ? '' : s.value, s.sealed);
      m.delete(n);
      noteSetting(this.diff, key, n);
      this.ops.push({ op: 'unsetSetting', scope, name: n });
    }
    if (m.size === 0) {
      this.settings.delete(key);
      this.owned.delete(key);
    }
    this.changes.push({ operation: 'settings.unset', target: formatScope(scope), old });
  }

  /** Every sealed value re-sealed under `next` (key rotation): ops and the count. */
  resealAll(next: SecretBox): number {
    let n = 0;
    for (const [key, m] of [...this.settings]) {
      const sealed = [...m.values()].filter((s) => s.sealed);
      if (sealed.length === 0) continue;
      const w = this.writable(key);
      for (const s of sealed) {
        const r: Setting = { ...s, value: next.seal(this.o.box.open(s.value, settingAad(key, s.name)), settingAad(key, s.name)) };
        w.set(s.name, r);
        this.ops.push({ op: 'setSetting', setting: r });
        n++;
      }
    }
    return n;
  }
}
