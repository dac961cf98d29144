// Numbered schema migrations for the SQLite store. Append only: a released migration is never
// edited; a change is a new entry. `schema_version` holds the highest applied number. Index names
// say which query they serve. Times are integer milliseconds since the epoch (portable with the
// PostgreSQL backend, which uses bigint the same way).
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE phones (
        mac TEXT PRIMARY KEY,
        model TEXT,
        part_number TEXT,
        app_version TEXT,
        bootrom_version TEXT,
        address TEXT,
        last_source TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        last_boot INTEGER,
        last_error TEXT,
        sip_user TEXT,
        sip_port INTEGER,
        fetched_count INTEGER NOT NULL DEFAULT 0,
        uploaded_count INTEGER NOT NULL DEFAULT 0,
        override_locked INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX phones_by_last_seen ON phones (last_seen);

      CREATE TABLE phone_boots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mac TEXT NOT NULL,
        at INTEGER NOT NULL,
        source TEXT NOT NULL,
        address TEXT NOT NULL,
        stage TEXT,
        version TEXT,
        user_agent TEXT
      );
      CREATE INDEX phone_boots_by_mac_at ON phone_boots (mac, at);

      CREATE TABLE upload_versions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mac TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        version INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        stored_at INTEGER NOT NULL,
        address TEXT NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0,
        content BLOB NOT NULL
      );
      CREATE UNIQUE INDEX upload_versions_by_key_version ON upload_versions (mac, kind, version);

      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        mac TEXT,
        address TEXT NOT NULL,
        transport TEXT NOT NULL,
        op TEXT NOT NULL,
        path TEXT NOT NULL,
        status TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        user_name TEXT,
        code TEXT
      );
      CREATE INDEX audit_by_at ON audit (at);
      CREATE INDEX audit_by_mac_at ON audit (mac, at);

      CREATE TABLE accounts (
        user_name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        realm TEXT NOT NULL,
        ha1_md5 TEXT NOT NULL,
        ha1_sha256 TEXT NOT NULL,
        mac TEXT,
        created_at INTEGER NOT NULL,
        pending INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX accounts_by_mac ON accounts (mac);

      CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'phones.field_times',
    // When each "latest value" field of a phone was set (JSON), so that out-of-order sightings
    // (batches from several nodes) fold to the same row in any order (src/store/fold-sighting.ts).
    sql: `ALTER TABLE phones ADD COLUMN field_times TEXT;`,
  },
  {
    version: 3,
    name: 'audit.plain_rowid',
    // AUTOINCREMENT costs a sqlite_sequence update per audit row (a third of an insert, bench
    // http); ids only need to order rows, which a plain rowid does while rows are not deleted
    // from the top.
    sql: `
      CREATE TABLE audit_new (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        mac TEXT,
        address TEXT NOT NULL,
        transport TEXT NOT NULL,
        op TEXT NOT NULL,
        path TEXT NOT NULL,
        status TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        user_name TEXT,
        code TEXT
      );
      INSERT INTO audit_new SELECT * FROM audit;
      DROP TABLE audit;
      ALTER TABLE audit_new RENAME TO audit;
      CREATE INDEX audit_by_at ON audit (at);
      CREATE INDEX audit_by_mac_at ON audit (mac, at);
    `,
  },
  {
    version: 4,
    name: 'changes',
    // The change record (issue 12, Administration through the core): who changed what and when,
    // old and new values as JSON with secrets masked by the core. Read newest first, by time.
    sql: `
      CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        who TEXT NOT NULL,
        operation TEXT NOT NULL,
        target TEXT NOT NULL,
        old_value TEXT,
        new_value TEXT
      );
      CREATE INDEX changes_by_at ON changes (at);
    `,
  },
  {
    version: 5,
    name: 'phones.master, upload_versions.tree_version',
    // The master file each phone last read, so its uploads follow that master after a restart
    // (issue 13 item 4); the tree file's version when an upload was stored, so a later edit of
    // the tree file supersedes the upload (issue 13 item 3).
    sql: `
      ALTER TABLE phones ADD COLUMN master TEXT;
      ALTER TABLE upload_versions ADD COLUMN tree_version TEXT;
    `,
  },
  {
    version: 6,
    name: 'managed fleet, accounts.tenant, api tokens, check-sync jobs',
    // The managed fleet (issue 14, Model): tenants, sites, groups, phones with their ordered groups,
    // and settings keyed by scope (a phone scope by its MAC alone: scope_tenant '') with the value
    // sealed when secret; a one-row generation bumped by every apply, polled by every node.
    // Accounts belong to a tenant (NULL: the default tenant). API tokens by hash and check-sync jobs
    // with their targets (issue 15).
    sql: `
      CREATE TABLE fleet_tenants (
        name TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE fleet_sites (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (tenant, name)
      );
      CREATE TABLE fleet_groups (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (tenant, name)
      );
      CREATE TABLE fleet_phones (
        mac TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        model TEXT,
        label TEXT,
        site TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX fleet_phones_by_tenant_site ON fleet_phones (tenant, site);
      CREATE TABLE fleet_phone_groups (
        mac TEXT NOT NULL,
        pos INTEGER NOT NULL,
        grp TEXT NOT NULL,
        PRIMARY KEY (mac, pos)
      );
      CREATE INDEX fleet_phone_groups_by_grp ON fleet_phone_groups (grp);
      CREATE TABLE fleet_settings (
        scope_kind TEXT NOT NULL CHECK (scope_kind IN ('global', 'tenant', 'site', 'group', 'phone')),
        scope_tenant TEXT NOT NULL,
        scope_name TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        sealed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (scope_kind, scope_tenant, scope_name, name)
      );
      CREATE TABLE fleet_generation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        generation INTEGER NOT NULL
      );
      INSERT INTO fleet_generation (id, generation) VALUES (1, 0);

      ALTER TABLE accounts ADD COLUMN tenant TEXT;

      CREATE TABLE api_tokens (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        tenant TEXT,
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE check_sync_jobs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        who TEXT NOT NULL,
        tenant TEXT,
        request TEXT NOT NULL
      );
      CREATE INDEX check_sync_jobs_by_created ON check_sync_jobs (created_at);
      CREATE TABLE check_sync_targets (
        job_id TEXT NOT NULL,
        pos INTEGER NOT NULL,
        mac TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT,
        at INTEGER,
        PRIMARY KEY (job_id, pos)
      );
      CREATE INDEX check_sync_targets_by_job_mac ON check_sync_targets (job_id, mac);
    `,
  },
  // 7 is PostgreSQL's (the changes feed's NOTIFY triggers); SQLite tells its watchers in process.
  {
    version: 8,
    name: 'fleet change log',
    // Issue 14 (Scale): each apply logs the scopes it wrote (a phone as its phone scope) at its
    // generation, so a node behind reads only those (Store.fleet.changesSince). log_from: the log
    // holds every change after that generation (a node further behind loads the whole fleet).
    sql: `
      CREATE TABLE fleet_log (
        generation INTEGER NOT NULL,
        scope_kind TEXT NOT NULL,
        scope_tenant TEXT NOT NULL,
        scope_name TEXT NOT NULL,
        PRIMARY KEY (generation, scope_kind, scope_tenant, scope_name)
      ) WITHOUT ROWID;
      ALTER TABLE fleet_generation ADD COLUMN log_from INTEGER NOT NULL DEFAULT 0;
      UPDATE fleet_generation SET log_from = generation;
    `,
  },
  {
    version: 9,
    name: 'upload_versions keyed by path',
    // Issue 14 (Tenants): an upload is kept per MAC, kind and path, and the path carries the
    // tenant's prefix, so an unmanaged phone's uploads under /acme/ and /beta/ are two keys with
    // their own current version and history (before, the second replaced the first). Existing rows
    // keep the path they were stored under (the request path); their version numbers stay as they are.
    sql: `
      DROP INDEX upload_versions_by_key_version;
      CREATE UNIQUE INDEX upload_versions_by_key_version ON upload_versions (mac, kind, path, version);
    `,
  },
  {
    version: 10,
    name: 'audit batches applied',
    // Issue 16 (Behaviour under faults): the audit journal's batches (src/core/audit-journal.ts) a
    // write applied, recorded in the same transaction as its rows, so a batch replayed after a kill
    // that had in fact committed is skipped: every request counted at most once. Pruned after 7 days.
    sql: `
      CREATE TABLE audit_batches (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX audit_batches_by_at ON audit_batches (at);
    `,
  },
];

export { BOOTS_KEPT_PER_PHONE } from '../fold-sighting.ts';
