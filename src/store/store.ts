// The store boundary: state and uploads behind one narrow, promise-based interface.
// SQLite (src/store/sqlite/) is the embedded default; PostgreSQL (src/store/postgres/) serves
// clusters of nodes. No SQL, row shape or driver type crosses this file. Every method added
// here is one more thing both backends must match (test/store/conformance.ts).
import type { Readable } from 'node:stream';
import type { Account, AccountKind, ApiToken, CheckSyncJob, CheckSyncTarget, FleetData, FleetOp, Group, ManagedPhone, Scope, Setting, Site, Tenant, AuditEvent, AuditQuery, BootRecord, ChangeQuery, ChangeRecord, Mac, Phone, PhoneQuery, Sighting, SightingSource, Stage, StoredFile, UploadKey, UploadKind } from '../domain.ts';

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
  /** The tree file's version when this upload is stored (StoredFile.treeVersion). */
  treeVersion?: string;
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

/** What changed, for Store.watch (issue 16): a key names the account, setting, token or upload path when known. */
export type ChangeTopic = 'fleet' | 'accounts' | 'settings' | 'uploads' | 'tokens';

export interface Store {
  init(): Promise<void>;
  close(): Promise<void>;
  /**
   * Calls `onChange` after a shared change is committed (issue 16, Several nodes): SQLite and the
   * memory store on their own writes, PostgreSQL for every node's writes (LISTEN/NOTIFY on a
   * connection of its own, reconnected by itself). A call without a key means "anything under
   * this topic may have changed" (after the feed reconnects: what was missed). PostgreSQL announces
   * `uploads` for overrides and contact directories only (not logs or call lists). Returns the unwatch.
   */
  watch(onChange: (topic: ChangeTopic, key?: string) => void): () => void;
  readonly phones: {
    recordSighting(s: Sighting): Promise<void>;
    recordSightings(s: Sighting[]): Promise<void>;
    get(mac: Mac): Promise<Phone | undefined>;
    list(q?: PhoneQuery): Promise<Phone[]>;
    /** Sets the flag outright (Reset Local Config clears it); an override upload's sighting folds it in otherwise. */
    setOverrideLocked(mac: Mac, locked: boolean): Promise<void>;
    /** The phone's most recent boot starts, newest first (a bounded number is kept per phone). */
    boots(mac: Mac, limit: number): Promise<BootRecord[]>;
  };
  /** Uploads are kept per key: MAC, kind and path (the path carries a tenant's prefix, issue 14 Tenants). */
  readonly uploads: {
    begin(key: UploadKey, opts: UploadOptions): Promise<UploadSink>;
    current(key: UploadKey): Promise<StoredFile | undefined>;
    /** Newest first. */
    history(key: UploadKey, n: number): Promise<StoredFile[]>;
    /** All current uploads of one phone, one per key, by kind then path (overrides list). */
    listForPhone(mac: Mac): Promise<StoredFile[]>;
    /** Removes every version of this key (this path only). */
    clear(key: UploadKey): Promise<void>;
  };
  readonly audit: {
    append(events: AuditEvent[]): Promise<void>;
    /**
     * One write batch (issue 16, Speed: "at most one write batch" per boot): the audit events and
     * the inventory sightings of one recorder flush in ONE transaction, both stored or neither.
     * The sightings fold exactly as recordSightings folds them. `batchIds` (the audit journal's,
     * src/core/audit-journal.ts) are recorded in the same transaction; when ANY of them was applied
     * before, the whole call is a no-op and resolves false (a batch replayed after a kill that had
     * in fact committed: issue 16, every request counted at most once), else true. Ids are kept
     * 7 days (AUDIT_BATCH_KEEP_MS).
     */
    record(events: AuditEvent[], sightings: Sighting[], batchIds?: readonly string[]): Promise<boolean>;
    query(q: AuditQuery): Promise<AuditEvent[]>;
  };
  readonly accounts: {
    get(user: string): Promise<Account | undefined>;
    put(a: Account): Promise<void>;
    remove(user: string): Promise<boolean>;
    list(): Promise<Account[]>;
    forPhone(mac: Mac): Promise<Account | undefined>;
  };
  /** The change record: every administrative change, written by the core's admin service. */
  readonly changes: {
    append(c: ChangeRecord): Promise<void>;
    /** Several, in order, in one transaction (a fleet import's 10,000 changes: not 10,000 round trips). */
    appendMany(cs: readonly ChangeRecord[]): Promise<void>;
    /** Newest first. */
    query(q: ChangeQuery): Promise<ChangeRecord[]>;
  };
  /**
   * The managed fleet (issue 14): tenants, sites, groups, phones and settings. Read whole into the
   * fleet service's snapshot; written in one transaction per apply(). Values arrive validated and
   * secrets sealed.
   */
  readonly fleet: {
    load(): Promise<FleetData>;
    /** The generation apply() last wrote (0 for an empty fleet): cheap, polled by every node. */
    generation(): Promise<number>;
    /** All or nothing, in one transaction; returns the new generation. */
    apply(ops: FleetOp[]): Promise<number>;
    /**
     * What changed after generation `since` (issue 14 Scale: a node that sees the generation move
     * reads only that), as of one commit; undefined when the store no longer knows (too old, a
     * removed tenant, site or group, a large apply): the caller then load()s.
     */
    changesSince(since: number): Promise<FleetChanges | undefined>;
  };
  /** API tokens (issue 15): stored by the hash of the token, never the token. */
  readonly tokens: {
    put(t: ApiToken): Promise<void>;
    get(name: string): Promise<ApiToken | undefined>;
    byHash(hash: string): Promise<ApiToken | undefined>;
    list(): Promise<ApiToken[]>;
    remove(name: string): Promise<boolean>;
  };
  /** Check-sync jobs (issue 15): created whole, then their targets' progress updated. */
  readonly jobs: {
    create(job: CheckSyncJob): Promise<void>;
    get(id: string): Promise<CheckSyncJob | undefined>;
    /** Newest first. */
    list(limit: number): Promise<CheckSyncJob[]>;
    /** Replaces these targets' status (matched by MAC) in one write. */
    updateTargets(id: string, targets: CheckSyncTarget[]): Promise<void>;
  };
  /** Small named values shared by every node (staging switch, enrolment secrets). */
  readonly settings: {
    get(name: string): Promise<string | undefined>;
    set(name: string, value: string | undefined): Promise<void>;
  };
}

/**
 * The fleet's changes after a generation (Store.fleet.changesSince): tenants, sites and groups
 * whole (they are few), and every scope written since — a phone scope stands for its phone record
 * too — with what it holds now.
 */
export interface FleetChanges {
  generation: number;
  tenants: Tenant[];
  sites: Site[];
  groups: Group[];
  /** Scopes written after `since` (a phone scope: tenant '', name the MAC), each once. */
  scopes: Scope[];
  /** The phones of those phone scopes that exist now, as load() gives them. */
  phones: ManagedPhone[];
  /** Every setting stored now at those scopes, as load() gives them. */
  settings: Setting[];
}

export type { ApiToken, CheckSyncJob, CheckSyncTarget, FleetData, FleetOp, Stage, SightingSource, Sighting, Phone, BootRecord, PhoneQuery, UploadKind, UploadKey, StoredFile, AuditEvent, AuditQuery, AccountKind, Account, ChangeRecord, ChangeQuery } from '../domain.ts';
export type { Readable };
