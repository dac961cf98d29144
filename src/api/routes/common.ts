// Pieces the resource routes share (issue 15 "Resources"): the MAC path parameter, JSON forms of
// the inventory's records (dates as ISO strings; the response schemas list every field, so
// nothing else leaves), and which tenant an inventory phone belongs to, for tenant-bound tokens.
import { DEFAULT_TENANT, type AuditEvent, type Mac, type Phone, type StoredFile } from '../../domain.ts';
import type { AdminService } from '../../core/admin.ts';
import { ApiError, notFound } from '../problem.ts';
import { tenantVisible, type ApiRequest, type JSONSchema } from '../route.ts';

/** `:mac` in a path: 12 hex digits, any case; answered lower case. */
export const macParams: JSONSchema = {
  type: 'object',
  properties: { mac: { type: 'string', pattern: '^[0-9a-fA-F]{12}$', description: 'MAC address, 12 hex digits' } },
  required: ['mac'],
};

export function macOf(req: Pick<ApiRequest, 'params'>): Mac {
  const m = String(req.params.mac ?? '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(m)) throw new ApiError('PP_API_INVALID', 'the MAC must be 12 hex digits', { status: 400, pointer: '/params/mac' });
  return m as Mac;
}

export const iso = (d: Date | undefined): string | undefined => (d === undefined ? undefined : d.toISOString());

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullable = (s: JSONSchema): JSONSchema => ({ anyOf: [s, { type: 'null' }] });

/** The managed record an inventory phone is joined to by MAC (or null when not managed). */
export const managedRefSchema: JSONSchema = nullable({
  type: 'object',
  properties: { tenant: str, model: str, label: str, site: str, groups: { type: 'array', items: str } },
  required: ['tenant', 'groups'],
});

export const inventoryPhoneSchema: JSONSchema = {
  type: 'object',
  properties: {
    mac: str,
    tenant: str,
    model: str,
    partNumber: str,
    appVersion: str,
    bootromVersion: str,
    address: str,
    lastSource: str,
    firstSeen: dateTime,
    lastSeen: dateTime,
    lastBoot: dateTime,
    lastError: str,
    sipUser: str,
    sipPort: int,
    master: str,
    fetchedCount: int,
    uploadedCount: int,
    overrideLocked: { type: 'boolean' },
    managed: managedRefSchema,
  },
  required: ['mac', 'tenant', 'firstSeen', 'lastSeen', 'fetchedCount', 'uploadedCount', 'overrideLocked'],
};

export function phoneJson(p: Phone, tenant: string, managed: unknown = null): Record<string, unknown> {
  return { ...p, tenant, firstSeen: iso(p.firstSeen), lastSeen: iso(p.lastSeen), lastBoot: iso(p.lastBoot), managed };
}

export const auditEventSchema: JSONSchema = {
  type: 'object',
  properties: { at: dateTime, mac: str, address: str, transport: str, op: str, path: str, status: str, bytes: int, durationMs: { type: 'number' }, user: str, code: str },
  required: ['at', 'address', 'transport', 'op', 'path', 'status', 'bytes'],
};

export function auditJson(e: AuditEvent): Record<string, unknown> {
  return { ...e, at: iso(e.at) };
}

export const storedFileSchema: JSONSchema = {
  type: 'object',
  properties: { version: int, size: int, sha256: str, storedAt: dateTime, address: str, locked: { type: 'boolean' }, treeVersion: str },
  required: ['version', 'size', 'sha256', 'storedAt'],
};

export function storedJson(f: StoredFile): Record<string, unknown> {
  return { version: f.version, size: f.size, sha256: f.sha256, storedAt: iso(f.storedAt), address: f.address, locked: f.locked, treeVersion: f.treeVersion };
}

/** The narrow part of the fleet service the inventory join needs (AdminService.fleet, issue 14). */
interface FleetView {
  phone(mac: Mac): { tenant: string; model?: string; label?: string; site?: string; groups: string[] } | undefined;
  tenants(): Array<{ name: string }> | string[];
}

/** The admin service's fleet, when the core has one that opened (the inventory answers without it). */
export function fleetOf(admin: AdminService): FleetView | undefined {
  return admin.fleet.available ? admin.fleet : undefined;
}

/** The managed record of a MAC, as the inventory join shows it. */
export function managedRef(admin: AdminService, mac: Mac): { tenant: string; model?: string; label?: string; site?: string; groups: string[] } | null {
  const m = fleetOf(admin)?.phone(mac);
  if (!m) return null;
  return { tenant: m.tenant, model: m.model, label: m.label, site: m.site, groups: [...m.groups] };
}

/**
 * The tenant of an inventory phone: its managed record's, else the tenant directory of the master
 * it last read (`acme/000000000000.cfg`), else the default tenant.
 */
export function tenantOfPhone(admin: AdminService, p: Pick<Phone, 'mac' | 'master'>): string {
  const m = fleetOf(admin)?.phone(p.mac);
  if (m) return m.tenant;
  const slash = p.master?.indexOf('/') ?? -1;
  if (p.master && slash > 0) {
    const dir = p.master.slice(0, slash);
    const tenants = fleetOf(admin)?.tenants() ?? [];
    if (tenants.some((t) => (typeof t === 'string' ? t : t.name) === dir)) return dir;
  }
  return DEFAULT_TENANT;
}

/** The inventory phone, or 404 when it is unknown or belongs to another tenant than the token's. */
export async function visiblePhone(req: ApiRequest, mac: Mac): Promise<Phone | undefined> {
  const p = await req.admin.inventory.phone(mac);
  if (!p) {
    // A phone only managed (never seen) still exists for a tenant-bound token of its tenant.
    const m = fleetOf(req.admin)?.phone(mac);
    if (m && !tenantVisible(req, m.tenant)) throw notFound(`phone ${mac}`);
    return undefined;
  }
  if (!tenantVisible(req, tenantOfPhone(req.admin, p))) throw notFound(`phone ${mac}`);
  return p;
}

/** Like visiblePhone, but 404 when the phone is neither in the inventory nor managed. */
export async function requirePhone(req: ApiRequest, mac: Mac): Promise<Phone | undefined> {
  const p = await visiblePhone(req, mac);
  if (!p && !fleetOf(req.admin)?.phone(mac)) throw notFound(`phone ${mac}`);
  return p;
}

/** `?since=` and `?until=` as dates; 400 with the pointer when unreadable. */
export function dateQuery(req: ApiRequest, name: string): Date | undefined {
  const v = req.query[name];
  if (v === undefined || v === '') return undefined;
  const d = new Date(String(v));
  if (Number.isNaN(d.getTime())) throw new ApiError('PP_API_INVALID', `query parameter ${name} must be a date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)`, { status: 400, pointer: `/query/${name}` });
  return d;
}
