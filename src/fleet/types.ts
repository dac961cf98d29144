// The managed fleet's contracts (issue 14): what a face asks the fleet service for (a
// FleetCommand), what it answers (changes, effective settings), and the narrow synchronous view the
// boot path reads on every request (ManagedFiles). The implementations are fleet-service.ts and
// snapshot.ts; the core wraps writes in its admin service (src/core/admin-fleet.ts) so every change
// reaches the change record with who made it.
import type { Mac, ManagedPhone, Scope } from '../domain.ts';

/** A phone as a face describes it; absent fields keep their stored value on update (default tenant on create). */
export interface PhoneInput {
  mac: Mac;
  tenant?: string;
  model?: string;
  label?: string;
  site?: string;
  groups?: string[];
}

/** What a face asks for. Clear values come in; the service validates, seals secrets and writes. */
export type FleetCommand =
  | { op: 'tenant.add' | 'tenant.remove'; tenant: string }
  | { op: 'site.add' | 'site.remove' | 'group.add' | 'group.remove'; tenant: string; name: string }
  | { op: 'phone.put'; phone: PhoneInput }
  | { op: 'phone.remove'; mac: Mac }
  /** A broken phone swapped: settings move (re-sealed for the new scope); uploads and accounts are the core's part. */
  | { op: 'phone.replace'; from: Mac; to: Mac }
  /** Each value is checked against the parameter catalogue; a secret parameter's value is sealed. */
  | { op: 'settings.set'; scope: Scope; values: Record<string, string> }
  | { op: 'settings.unset'; scope: Scope; names: string[] };

/** One change for the change record: secrets already masked (`{"set": true}`). */
export interface FleetChange {
  /** `fleet.tenant.add`, `fleet.phone.put`, `settings.set` … */
  operation: string;
  /** `acme`, `site:acme/hq`, a MAC, `phone:0004f2000001 reg.1.auth.password` … */
  target: string;
  old?: unknown;
  new?: unknown;
}

export interface ApplyOptions {
  /** Validate and compute the changes; write nothing. */
  dryRun?: boolean;
  /** Create a tenant, site or group a command names but the fleet does not have (import --create). */
  create?: boolean;
}

export interface ApplyResult {
  changes: FleetChange[];
  /** The store's generation after the write (unchanged on a dry run or a no-op). */
  generation: number;
  /** Phones whose effective managed settings this apply changed (for `settings set --notify`). */
  affected: Mac[];
}

/** A managed parameter of one phone, with the scope that set it and what that shadowed (explain). */
export interface EffectiveSetting {
  name: string;
  /** Clear value; the caller masks it when `secret`. */
  value: string;
  secret: boolean;
  /** Text form: `site:hq`, `group:acme/sales`, `phone:0004f2000001`. */
  scope: string;
  shadowed: Array<{ scope: string; value: string }>;
}

/** A rendered file and its validator. */
export interface RenderedFile {
  body: Buffer;
  /** Strong ETag, quoted: a hash of the body, so it changes exactly when the bytes do. */
  etag: string;
}

/**
 * What the boot path needs, answered from memory with no store read (warm cache: no render
 * either). Synchronous on purpose: it is on every request.
 */
export interface ManagedFiles {
  /** Whether `name` is a tenant (the default tenant included). */
  hasTenant(name: string): boolean;
  /** The tenant managing this MAC, or undefined when the MAC is not managed. */
  tenantOf(mac: Mac): string | undefined;
  /** `managed/<MAC>.cfg` for this phone: its rendered settings, or an empty valid file when unmanaged. */
  managedFile(mac: Mac): RenderedFile;
  /** The master file served for a tenant whose tree has none: lists `managed/[PHONE_MAC_ADDRESS].cfg` first. */
  defaultMaster(tenant: string): RenderedFile;
  /** Counters the bench reads: renders done and store reads made by the snapshot. */
  readonly stats: { renders: number; storeReads: number; generation: number };
}

export type { ManagedPhone };
