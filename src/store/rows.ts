// Row shapes shared by the SQL backends and their conversions to the store's types. Column names
// are the same in SQLite and PostgreSQL; drivers differ only in how they hand back bigint
// (number or string) and booleans (0/1 or true/false), which the converters accept either way.
import type { Mac } from '../domain.ts';
import { macKey, type FieldTimes, type PhoneState } from './fold-sighting.ts';
import type { Account, AccountKind, AuditEvent, BootRecord, Phone, SightingSource, Stage } from './store.ts';

type Big = number | string;
type Flag = number | boolean;

/** A row as written: plain numbers, flags as 0/1 (better-sqlite3 binds no booleans; PostgreSQL reads '1'/'0' as boolean). */
export interface PhoneRow {
  mac: string; model: string | null; part_number: string | null; app_version: string | null; bootrom_version: string | null;
  address: string | null; last_source: string | null; first_seen: number; last_seen: number; last_boot: number | null;
  last_error: string | null; sip_user: string | null; sip_port: number | null; fetched_count: number; uploaded_count: number;
  override_locked: number; field_times: string | null; master: string | null;
}
/** A row as a driver returns it: bigint may come back as a string, booleans as true/false. */
export type Read<R> = { [K in keyof R]: R[K] extends number ? Big | Flag : R[K] extends number | null ? Big | null : R[K] };

export interface VersionRow {
  id: number; mac: string; kind: string; path: string; version: number; size: number; sha256: string; stored_at: number;
  address: string; locked: number; tree_version: string | null; content?: Buffer;
}
export interface AuditRow {
  at: number; mac: string | null; address: string; transport: string; op: string; path: string; status: string; bytes: number;
  duration_ms: number; user_name: string | null; code: string | null;
}
export interface AccountRow {
  user_name: string; kind: string; realm: string; ha1_md5: string; ha1_sha256: string; mac: string | null; created_at: number; pending: number;
  /** NULL: the default tenant (migration 6). */
  tenant: string | null;
}
export interface BootRow { at: number; source: string; address: string; stage: string | null; version: string | null; user_agent: string | null }

export const VERSION_COLS = 'id, mac, kind, path, version, size, sha256, stored_at, address, locked, tree_version';
export const AUDIT_COLS = 'at, mac, address, transport, op, path, status, bytes, duration_ms, user_name, code';

export const num = (v: Big | Flag): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: Big | null): number | null => (v === null ? null : num(v));
const flag = (v: Big | Flag): boolean => v === true || v === 1 || v === '1';

function opt<T>(v: T | null): T | undefined {
  return v === null ? undefined : v;
}

export function phoneFromRow(r: Read<PhoneRow>): Phone {
  const p: Phone = {
    mac: r.mac as Mac,
    firstSeen: new Date(num(r.first_seen)),
    lastSeen: new Date(num(r.last_seen)),
    fetchedCount: num(r.fetched_count),
    uploadedCount: num(r.uploaded_count),
    overrideLocked: flag(r.override_locked),
  };
  assign(p, 'model', opt(r.model));
  assign(p, 'partNumber', opt(r.part_number));
  assign(p, 'appVersion', opt(r.app_version));
  assign(p, 'bootromVersion', opt(r.bootrom_version));
  assign(p, 'address', opt(r.address));
  assign(p, 'lastSource', opt(r.last_source) as SightingSource | undefined);
  if (r.last_boot !== null) p.lastBoot = new Date(num(r.last_boot));
  assign(p, 'lastError', opt(r.last_error));
  assign(p, 'sipUser', opt(r.sip_user));
  assign(p, 'sipPort', opt(numOrNull(r.sip_port)));
  assign(p, 'master', opt(r.master ?? null));
  return p;
}

function assign<K extends keyof Phone>(p: Phone, k: K, v: Phone[K] | undefined): void {
  if (v !== undefined) p[k] = v;
}

export function phoneStateFromRow(r: Read<PhoneRow>): PhoneState {
  let times: FieldTimes = {};
  if (r.field_times) {
    try {
      times = JSON.parse(r.field_times) as FieldTimes;
    } catch {
      // A damaged column only loses the ordering hints; the values stay.
    }
  }
  return { phone: phoneFromRow(r), times };
}

export function phoneToRow({ phone: p, times }: PhoneState): PhoneRow {
  return {
    mac: p.mac, model: p.model ?? null, part_number: p.partNumber ?? null, app_version: p.appVersion ?? null,
    bootrom_version: p.bootromVersion ?? null, address: p.address ?? null, last_source: p.lastSource ?? null,
    first_seen: p.firstSeen.getTime(), last_seen: p.lastSeen.getTime(), last_boot: p.lastBoot?.getTime() ?? null,
    last_error: p.lastError ?? null, sip_user: p.sipUser ?? null, sip_port: p.sipPort ?? null,
    fetched_count: p.fetchedCount, uploaded_count: p.uploadedCount, override_locked: p.overrideLocked ? 1 : 0,
    field_times: JSON.stringify(times), master: p.master ?? null,
  };
}

export function bootFromRow(r: Read<BootRow>): BootRecord {
  const b: BootRecord = { at: new Date(num(r.at)), source: r.source as SightingSource, address: r.address };
  if (r.stage !== null) b.stage = r.stage as Stage;
  if (r.version !== null) b.version = r.version;
  if (r.user_agent !== null) b.userAgent = r.user_agent;
  return b;
}

export function auditToRow(e: AuditEvent): AuditRow {
  return {
    at: e.at.getTime(), mac: e.mac ? macKey(e.mac) : null, address: e.address, transport: e.transport, op: e.op, path: e.path,
    status: e.status, bytes: e.bytes, duration_ms: e.durationMs, user_name: e.user ?? null, code: e.code ?? null,
  };
}

export function auditFromRow(r: Read<AuditRow>): AuditEvent {
  const e: AuditEvent = {
    at: new Date(num(r.at)), address: r.address, transport: r.transport as SightingSource, op: r.op, path: r.path, status: r.status,
    bytes: num(r.bytes), durationMs: num(r.duration_ms),
  };
  if (r.mac !== null) e.mac = r.mac as Mac;
  if (r.user_name !== null) e.user = r.user_name;
  if (r.code !== null) e.code = r.code;
  return e;
}

export function accountToRow(a: Account): AccountRow {
  return {
    user_name: a.user, kind: a.kind, realm: a.realm, ha1_md5: a.ha1Md5, ha1_sha256: a.ha1Sha256, mac: a.mac ? macKey(a.mac) : null,
    created_at: a.createdAt.getTime(), pending: a.pending ? 1 : 0, tenant: a.tenant ?? null,
  };
}

export function accountFromRow(r: Read<AccountRow>): Account {
  const a: Account = {
    user: r.user_name, kind: r.kind as AccountKind, realm: r.realm, ha1Md5: r.ha1_md5, ha1Sha256: r.ha1_sha256,
    createdAt: new Date(num(r.created_at)),
  };
  if (r.mac !== null) a.mac = r.mac as Mac;
  if (flag(r.pending)) a.pending = true;
  if (r.tenant !== null && r.tenant !== undefined) a.tenant = r.tenant;
  return a;
}

