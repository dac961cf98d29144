// The store boundary: state and uploads behind one narrow, promise-based interface.
// SQLite (src/store/sqlite/) is the embedded default; PostgreSQL (src/store/postgres/) serves
// clusters of nodes. No SQL, row shape or driver type crosses this file. Every method added
// here is one more thing both backends must match (test/store/conformance.ts).
import type { Readable } from 'node:stream';
import type { Mac } from '../config/types.ts';
import type { Transport } from '../core/request.ts';

export type Stage = 'bootrom' | 'updater' | 'application';

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
  /** SIP user learned for this phone (check-sync targets). */
  sipUser?: string;
  /** SIP port learned for this phone. */
  sipPort?: number;
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
  /** The stored bytes. Uploads are small (size-capped), so whole buffers are fine. */
  read(): Promise<Buffer>;
}

export interface UploadOptions {
  /** `append` adds to the current version (phone log upload in append mode); `replace` makes a new version. */
  mode: 'replace' | 'append';
  address: string;
  /** Refuse (abort with PP_UPLOAD_TOO_LARGE) past this many bytes in this upload. */
  maxBytes: number;
  /** For logs: after appending, keep only the last `capBytes` bytes (rolling log). */
  capBytes?: number;
  /** Versions of this key to keep; older ones are pruned at commit. */
  keepVersions: number;
}

/**
 * An upload in progress. Nothing is visible until commit(); abort(), a thrown write, a crash or
 * kill -9 leave the previous version current.
 */
export interface UploadSink {
  write(chunk: Buffer): Promise<void>;
  /** Makes the new version current atomically and returns it. */
  commit(meta?: { locked?: boolean }): Promise<StoredFile>;
  abort(): Promise<void>;
  readonly bytes: number;
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
}

export interface Store {
  init(): Promise<void>;
  close(): Promise<void>;
  readonly phones: {
    recordSighting(s: Sighting): Promise<void>;
    recordSightings(s: Sighting[]): Promise<void>;
    get(mac: Mac): Promise<Phone | undefined>;
    list(q?: PhoneQuery): Promise<Phone[]>;
    setOverrideLocked(mac: Mac, locked: boolean): Promise<void>;
    /** The phone's most recent boot starts, newest first (a bounded number is kept per phone). */
    boots(mac: Mac, limit: number): Promise<BootRecord[]>;
  };
  readonly uploads: {
    begin(key: UploadKey, opts: UploadOptions): Promise<UploadSink>;
    current(key: UploadKey): Promise<StoredFile | undefined>;
    /** Newest first. */
    history(key: UploadKey, n: number): Promise<StoredFile[]>;
    /** All current uploads of one phone (overrides list). */
    listForPhone(mac: Mac): Promise<StoredFile[]>;
    /** Removes every version of this key. */
    clear(key: UploadKey): Promise<void>;
  };
  readonly audit: {
    append(events: AuditEvent[]): Promise<void>;
    query(q: AuditQuery): Promise<AuditEvent[]>;
  };
  readonly accounts: {
    get(user: string): Promise<Account | undefined>;
    put(a: Account): Promise<void>;
    remove(user: string): Promise<boolean>;
    list(): Promise<Account[]>;
    forPhone(mac: Mac): Promise<Account | undefined>;
  };
  /** Small named values shared by every node (staging switch, enrolment secrets). */
  readonly settings: {
    get(name: string): Promise<string | undefined>;
    set(name: string, value: string | undefined): Promise<void>;
  };
}

export type { Readable };
