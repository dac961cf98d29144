// The ground floor's shared domain types: the words every layer speaks (a phone's MAC, the
// transports, the boot stages, inventory and audit records, uploads, accounts). This module
// imports nothing of the project; config, store, core, fleet and every face import from it.
import type { Readable } from 'node:stream';

/** A MAC address as phones use it in file names: 12 lowercase hex digits, no separators. */
export type Mac = string & { readonly __brand: 'Mac' };

/** A model token as used in master-file suffixes: `SPIP650`, `SSIP6000`, `VVX1500`, `Trio8800`. */
export type ModelToken = string;

/** A Polycom part number without the hardware revision: `2345-12600-001`. */
export type PartNumber = string;

/** The boot-server transports a phone can use (Administrator's Guide, Supported Provisioning Protocols). */
export type Transport = 'http' | 'https' | 'ftp' | 'ftps' | 'tftp';

export type Stage = 'bootrom' | 'updater' | 'application';

/**
 * Time for code that waits: the TFTP sessions' retransmission timers (RFC 1350 §2) and the virtual
 * phone's Retry Wait and polling. One interface; tests pass a virtual one. `now()` is in
 * milliseconds and only differences between two readings mean anything, except on the wall clock
 * (src/util/clock.ts), whose now() is Unix time: the phone needs it (prov.polling is a time of
 * day), while TFTP deadlines take the monotonic clock so a stepped wall clock cannot stall them.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Where a sighting came from: a boot-server transport, or the DHCP INFORM responder. */
export type SightingSource = Transport | 'dhcp' | 'sip';

/** One observation of a phone; the store folds it into the inventory row. */
export interface Sighting {
  mac: Mac;
  at: Date;
  source: SightingSource;
  address: string;
  model?: string;
  partNumber?: string;
  appVersion?: string;
  bootromVersion?: string;
  stage?: Stage;
  userAgent?: string;
  /** True when this request starts a boot (the master file read by the bootROM/updater or application). */
  bootStart?: boolean;
  /** Path of a file fetched or uploaded, with its status. */
  file?: { path: string; op: 'read' | 'write'; status: string };
  /** Last error, as an error code plus short text, or null to clear. */
  error?: string | null;
  /** An override upload: whether it touched locked parameters (override policy). */
  overrideLocked?: boolean;
  /** SIP user learned for this phone (check-sync targets). */
  sipUser?: string;
  /** SIP port learned for this phone. */
  sipPort?: number;
  /** The master file this request read (root-relative): the phone's uploads follow it (issue 13 item 4). */
  master?: string;
}

export interface Phone {
  mac: Mac;
  model?: string;
  partNumber?: string;
  appVersion?: string;
  bootromVersion?: string;
  address?: string;
  lastSource?: SightingSource;
  firstSeen: Date;
  lastSeen: Date;
  lastBoot?: Date;
  lastError?: string;
  sipUser?: string;
  sipPort?: number;
  /** The master file the phone last read (root-relative; a tenant's `tenant1/000000000000.cfg`). */
  master?: string;
  /** Counters since first seen. */
  fetchedCount: number;
  uploadedCount: number;
  /** Whether a served override had locked parameters stripped (override policy). */
  overrideLocked: boolean;
}

/** One boot start of a phone (a master file read by the bootROM/Updater or the application), for `phone show`. */
export interface BootRecord {
  at: Date;
  source: SightingSource;
  address: string;
  stage?: Stage;
  /** The version the booting stage reported (bootROM/Updater version, or application version). */
  version?: string;
  userAgent?: string;
}

export interface PhoneQuery {
  macPrefix?: string;
  seenSince?: Date;
  limit?: number;
}

/** What an upload is: which phone, which kind of file, and its path relative to the tree root. */
export type UploadKind = 'override-phone' | 'override-web' | 'directory' | 'log-boot' | 'log-app' | 'calls';

export interface UploadKey {
  mac: Mac;
  kind: UploadKind;
  /** Path relative to the tree root as the phone names it (e.g. `overrides/0004f2000001-phone.cfg`). */
  path: string;
}

export interface StoredFile {
  key: UploadKey;
  version: number;
  size: number;
  sha256: string;
  storedAt: Date;
  address: string;
  /** Whether the stored copy had locked parameters (override policy); set by the core at commit. */
  locked?: boolean;
  /**
   * The version (content hash) of the tree file of the same name when this upload was stored, or
   * '' when the tree had none: a later edit of the tree file supersedes the upload (issue 13 item 3).
   */
  treeVersion?: string;
  /** The stored bytes. Uploads are small (size-capped), so whole buffers are fine. */
  read(): Promise<Buffer>;
}

export interface AuditEvent {
  at: Date;
  mac?: Mac;
  address: string;
  transport: SightingSource;
  op: string;
  path: string;
  status: string;
  bytes: number;
  durationMs: number;
  user?: string;
  code?: string;
}

export interface AuditQuery {
  mac?: Mac;
  since?: Date;
  until?: Date;
  /** Newest first; default 100. */
  limit?: number;
}

export type AccountKind = 'staging' | 'phone' | 'site';

/** A provisioning account. No plain password is ever stored: only HA1 per realm (RFC 7616). */
export interface Account {
  user: string;
  kind: AccountKind;
  realm: string;
  /** H(user:realm:password) with MD5, hex. */
  ha1Md5: string;
  /** H(user:realm:password) with SHA-256, hex. */
  ha1Sha256: string;
  /** A phone account is bound to exactly one phone. */
  mac?: Mac;
  createdAt: Date;
  /** A phone account issued at enrolment is pending until the phone first uses it. */
  pending?: boolean;
  /** The tenant the account belongs to (issue 14); absent = the default tenant. */
  tenant?: string;
}

/**
 * One administrative change (issue 12, Administration through the core), kept beside the
 * transfer audit: who made it, when, what (operation and target), and the old and new values
 * with every secret already masked by the core. Values are plain JSON.
 */
export interface ChangeRecord {
  at: Date;
  /** The OS user for the CLI; an API token's name for the REST API. */
  who: string;
  /** `topic.verb`: `accounts.add`, `staging.set`, `overrides.clear`, `enrolment.reset` … */
  operation: string;
  /** What was changed: an account name, a MAC, a setting's name. */
  target: string;
  old?: unknown;
  new?: unknown;
}

export interface ChangeQuery {
  since?: Date;
  target?: string;
  /** Newest first; default 100. */
  limit?: number;
}

// ---- the managed fleet (issue 14; docs/design/managed-provisioning.md) -----------------------

export type ScopeKind = 'global' | 'tenant' | 'site' | 'group' | 'phone';
/**
 * Where a setting is made. Text form: `global`, `tenant:T`, `site:S`, `group:G`, `phone:MAC`, with
 * sites and groups of a tenant other than the default written `site:T/S`, `group:T/G`.
 * global: tenant '' and name ''; tenant:T: tenant T, name T; phone: the phone's tenant, name = MAC.
 */
export interface Scope {
  kind: ScopeKind;
  tenant: string;
  name: string;
}
/** The tenant single-site users never have to name; served at the root, with no URL prefix. */
export const DEFAULT_TENANT = 'default';
/** Tenant, site and group names: URL-safe (a tenant is a URL prefix). */
export const FLEET_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface Tenant {
  name: string;
  createdAt: Date;
}
export interface Site {
  tenant: string;
  name: string;
}
export interface Group {
  tenant: string;
  name: string;
}
/** A managed phone. Its lines are its `reg.N.*` settings at phone scope, not a separate record. */
export interface ManagedPhone {
  mac: Mac;
  tenant: string;
  model?: string;
  label?: string;
  site?: string;
  /** In precedence order, highest first. */
  groups: string[];
  createdAt: Date;
  updatedAt: Date;
}
/** One stored setting. A secret is sealed (`sealed: true`, value = the secret box's text form), never clear. */
export interface Setting {
  scope: Scope;
  name: string;
  value: string;
  sealed: boolean;
}
/** Everything the fleet holds, read at once (10,000 phones with a few settings each is a few MB). */
export interface FleetData {
  /** Bumped by every apply(); nodes compare it to know when to reload. */
  generation: number;
  tenants: Tenant[];
  sites: Site[];
  groups: Group[];
  phones: ManagedPhone[];
  settings: Setting[];
}
/**
 * One write in a fleet transaction. Values arrive validated and secrets sealed: the store never
 * sees a clear secret. Removing a tenant, site, group or phone removes the settings at its scope
 * (and a site or group from the phones naming it); the fleet service refuses what it must first.
 */
export type FleetOp =
  | { op: 'putTenant'; tenant: Tenant }
  | { op: 'removeTenant'; name: string }
  | { op: 'putSite'; site: Site }
  | { op: 'removeSite'; tenant: string; name: string }
  | { op: 'putGroup'; group: Group }
  | { op: 'removeGroup'; tenant: string; name: string }
  | { op: 'putPhone'; phone: ManagedPhone }
  | { op: 'removePhone'; mac: Mac }
  | { op: 'setSetting'; setting: Setting }
  | { op: 'unsetSetting'; scope: Scope; name: string };

// ---- the REST API (issue 15) ------------------------------------------------------------------

export type TokenRole = 'admin' | 'operator' | 'read-only';
/** An API token. Only its SHA-256 is stored; the token itself is printed once. */
export interface ApiToken {
  name: string;
  role: TokenRole;
  /** Bound to one tenant: sees and changes only it. Absent: every tenant. */
  tenant?: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  createdAt: Date;
}
export type CheckSyncTargetStatus = 'pending' | 'sent' | 'failed' | 'returned';
export interface CheckSyncTarget {
  mac: Mac;
  status: CheckSyncTargetStatus;
  /** SIP result or error text when sent or failed. */
  detail?: string;
  at?: Date;
}
/** A check-sync job (`POST /api/v1/checksync`): kept in the store, progress per phone. */
export interface CheckSyncJob {
  id: string;
  createdAt: Date;
  who: string;
  tenant?: string;
  /** What was asked: MACs, a scope, or `all`, as the request wrote it. */
  request: unknown;
  targets: CheckSyncTarget[];
}

export type { Readable };
