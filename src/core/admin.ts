// The admin service (issue 12 item 4): every administrative operation a face makes — the CLI
// today, the REST API to come — goes through here, never to the store. Reads (inventory, audit,
// overrides, logs, the change record) and changes (accounts, staging, overrides, enrolment
// resets); each change is written to the change record with who made it. One file per topic:
// admin-accounts.ts, admin-staging.ts, admin-overrides.ts, admin-inventory.ts.
import type { ChangeQuery, ChangeRecord } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { ServerOptions } from '../options.ts';
import type { Store } from '../store/store.ts';
import { AdminAccounts } from './admin-accounts.ts';
import { AdminChecksync } from './admin-checksync.ts';
import { AdminExplain } from './admin-explain.ts';
import { AdminFleet, type FleetLoader, type FleetSource } from './admin-fleet.ts';
import { AdminInventory } from './admin-inventory.ts';
import { AdminOverrides } from './admin-overrides.ts';
import { AdminStaging } from './admin-staging.ts';
import { AdminStats } from './admin-stats.ts';
import { AdminUploads } from './admin-uploads.ts';
import { AdminTokens } from './admin-tokens.ts';
import { ChangeRecorder } from './change-record.ts';
import type { IsTenant } from './tenant-paths.ts';

export interface AdminDeps {
  store: Store;
  options: Readonly<ServerOptions>;
  /** Who makes the changes: the OS user for the CLI, an API token's name for the API. */
  who: string;
  clock?: () => Date;
  /**
   * The fleet service open-core.ts opened once and shares (or why it could not open: thrown by
   * fleet calls), or for a CLI command how to open it on first use (AdminFleet.open()).
   */
  fleet?: FleetSource | FleetLoader;
}

export class AdminService {
  readonly who: string;
  readonly realm: string;
  readonly accounts: AdminAccounts;
  readonly staging: AdminStaging;
  readonly overrides: AdminOverrides;
  readonly inventory: AdminInventory;
  /** REST API tokens (issue 15). */
  readonly tokens: AdminTokens;
  /** REST API reads and writes (issue 15): uploads with versions, check-sync jobs, dashboard counts. */
  readonly uploads: AdminUploads;
  readonly checksync: AdminChecksync;
  readonly stats: AdminStats;
  /** The managed fleet (issue 14): src/core/admin-fleet.ts. */
  readonly fleet: AdminFleet;
  /** `explain` for the REST API (issue 15): the phone as this server serves it. */
  readonly explain: AdminExplain;
  private readonly changeRecord: ChangeRecorder;

  constructor(deps: AdminDeps) {
    const { store, options } = deps;
    this.who = deps.who;
    this.realm = options.realm;
    this.changeRecord = new ChangeRecorder(store, deps.who, deps.clock);
    // The fleet's tenants, for the paths a tenant-bound caller sees (tenant-paths.ts); none without a fleet.
    const isTenant: IsTenant = (name) => this.fleet.hasTenant(name);
    this.accounts = new AdminAccounts(store, options.realm, this.changeRecord);
    this.staging = new AdminStaging(store, options.staging, this.changeRecord);
    this.overrides = new AdminOverrides(store, options.root, options.uploadKeepVersions, this.changeRecord, isTenant);
    this.inventory = new AdminInventory(store, isTenant);
    this.uploads = new AdminUploads(store, options.root, options.uploadKeepVersions, this.changeRecord, isTenant);
    this.checksync = new AdminChecksync(store, this.changeRecord, options.root, deps.clock);
    this.stats = new AdminStats(store, deps.clock);
    this.tokens = new AdminTokens(store, this.changeRecord, deps.clock);
    const noFleet = new ProvError('PP_INTERNAL', 'this admin service was built without the fleet service (open it through src/core/open-core.ts)');
    this.fleet = new AdminFleet(deps.fleet ?? noFleet, store, options, this.changeRecord);
    this.explain = new AdminExplain(store, options, this.fleet);
  }

  /** The change record, newest first (`polyprov changes`). */
  changes(q: ChangeQuery = {}): Promise<ChangeRecord[]> {
    return this.changeRecord.query(q);
  }
}

export type { AccountView, AddOutcome } from './admin-accounts.ts';
export type { BootTimeline, LogKind } from './admin-inventory.ts';
export type { OverrideDifference, OverrideKind, OverrideParam, StoredOverride } from './admin-overrides.ts';
export type { StagingStatus } from './admin-staging.ts';
export type { TokenView } from './admin-tokens.ts';
