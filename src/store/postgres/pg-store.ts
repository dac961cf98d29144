// The PostgreSQL store, for several boot-server nodes sharing one state (issue 4: "a PostgreSQL
// backend for several nodes"). Same interface, tables and rules as src/store/sqlite/; hot queries
// are named so node-postgres prepares them once per connection. This file only assembles the
// parts: the connection and its fault handling (connection.ts), the schema (schema.ts), the
// inventory, uploads, audit, accounts with settings, the change record, the managed fleet, and
// API tokens with check-sync jobs, each in its own file.
import { mkdirSync } from 'node:fs';
import { ProvError } from '../../errors.ts';
import type { Store } from '../store.ts';
import { cleanStaleTemps } from '../upload-temp.ts';
import { pgAccounts, pgSettings } from './accounts.ts';
import { pgJobs, pgTokens } from './api-records.ts';
import { pgAudit } from './audit.ts';
import { pgChanges } from './changes.ts';
import { isUnavailable, PgConnection } from './connection.ts';
import { PgFeed } from './feed.ts';
import { pgFleet } from './fleet.ts';
import { pgPhones } from './inventory.ts';
import { migrate } from './schema.ts';
import { pgUploads } from './uploads.ts';

/** How often a node started without its database tries again (issue 16). */
const RETRY_MS = 1_000;

export interface PgStoreOptions {
  connectionString: string;
  /** A schema of its own (created if missing); default: the server's search_path. */
  schema?: string;
  /** Where uploads are received before commit (`<data>/tmp`). */
  tmpDir: string;
  poolSize?: number;
  /** How long a request waits for a database connection before it is refused as PP_STORE_UNAVAILABLE. */
  connectTimeoutMs?: number;
}

export class PgStore implements Store {
  readonly db: PgConnection;
  readonly phones: Store['phones'];
  readonly uploads: Store['uploads'];
  readonly audit: Store['audit'];
  readonly accounts: Store['accounts'];
  readonly fleet: Store['fleet'];
  readonly tokens: Store['tokens'];
  readonly jobs: Store['jobs'];
  readonly settings: Store['settings'];
  readonly changes: Store['changes'];
  /** Every node's committed changes, through LISTEN/NOTIFY (feed.ts; issue 16). */
  readonly feed: PgFeed;
  #open = false;

  constructor(readonly opts: PgStoreOptions) {
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) {
      throw new ProvError('PP_OPT_INVALID', `schema name ${JSON.stringify(opts.schema)} is not a plain lower-case SQL identifier`);
    }
    this.db = new PgConnection(opts);
    this.phones = pgPhones(this.db);
    this.uploads = pgUploads(this.db, opts.tmpDir);
    this.audit = pgAudit(this.db);
    this.accounts = pgAccounts(this.db);
    this.settings = pgSettings(this.db);
    this.changes = pgChanges(this.db);
    this.fleet = pgFleet(this.db);
    this.tokens = pgTokens(this.db);
    this.jobs = pgJobs(this.db);
    this.feed = new PgFeed(opts);
  }

  watch(onChange: Parameters<Store['watch']>[0]): () => void {
    return this.feed.watch(onChange);
  }

  /**
   * Opens the pool and brings the schema up to date. `waitForDatabase` (serve, issue 16: a node
   * starts while its database is down): an unreachable database is no error — the store refuses
   * every call as PP_STORE_UNAVAILABLE and retries the migration every second by itself; once
   * it succeeds the store is usable and every watcher is told to catch up.
   */
  async init(o: { waitForDatabase?: boolean } = {}): Promise<void> {
    if (this.#open) return;
    mkdirSync(this.opts.tmpDir, { recursive: true, mode: 0o700 });
    this.db.open();
    try {
      await this.#migrate();
    } catch (err) {
      if (o.waitForDatabase && isUnavailable(err)) {
        this.db.hold(`the database was not reachable when this node started (${(err as Error).message}); reconnecting`);
        this.#retryMigration();
      } else {
        await this.db.close().catch(() => undefined);
        throw new ProvError(isUnavailable(err) ? 'PP_STORE_UNAVAILABLE' : 'PP_INTERNAL', `cannot open the PostgreSQL store: ${(err as Error).message}`, {
          cause: err,
          hint: 'Check that the server in storeUrl is reachable and that its user may create tables.',
        });
      }
    }
    this.#open = true;
    cleanStaleTemps(this.opts.tmpDir);
  }

  #migrate(): Promise<void> {
    return this.db.withClient((c) => migrate(c, this.opts.schema), true);
  }

  #retry: NodeJS.Timeout | undefined;

  #retryMigration(): void {
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#migrate().then(
        () => {
          this.db.ready();
          this.feed.announceAll();
        },
        () => {
          if (this.#open) this.#retryMigration();
        },
      );
    }, RETRY_MS);
    this.#retry.unref();
  }

  async close(): Promise<void> {
    this.#open = false;
    if (this.#retry) clearTimeout(this.#retry);
    await this.feed.close();
    await this.db.close();
  }
}
