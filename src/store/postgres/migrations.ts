// Numbered schema migrations for the PostgreSQL store; the same tables, names and numbering as
// src/store/sqlite/migrations.ts (3, audit.plain_rowid, is SQLite's own), in portable SQL with
// PostgreSQL types (bigint milliseconds, bytea for upload bytes). Append only: a released migration is never edited.
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
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        last_boot BIGINT,
        last_error TEXT,
        sip_user TEXT,
        sip_port INTEGER,
        fetched_count BIGINT NOT NULL DEFAULT 0,
        uploaded_count BIGINT NOT NULL DEFAULT 0,
        override_locked BOOLEAN NOT NULL DEFAULT FALSE
      );
      CREATE INDEX phones_by_last_seen ON phones (last_seen);

      CREATE TABLE phone_boots (
        id BIGSERIAL PRIMARY KEY,
        mac TEXT NOT NULL,
        at BIGINT NOT NULL,
        source TEXT NOT NULL,
        address TEXT NOT NULL,
        stage TEXT,
        version TEXT,
        user_agent TEXT
      );
      CREATE INDEX phone_boots_by_mac_at ON phone_boots (mac, at);

      CREATE TABLE upload_versions (
        id BIGSERIAL PRIMARY KEY,
        mac TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        version INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        stored_at BIGINT NOT NULL,
        address TEXT NOT NULL,
        locked BOOLEAN NOT NULL DEFAULT FALSE,
        content BYTEA NOT NULL
      );
      CREATE UNIQUE INDEX upload_versions_by_key_version ON upload_versions (mac, kind, version);

      CREATE TABLE audit (
        id BIGSERIAL PRIMARY KEY,
        at BIGINT NOT NULL,
        mac TEXT,
        address TEXT NOT NULL,
        transport TEXT NOT NULL,
        op TEXT NOT NULL,
        path TEXT NOT NULL,
        status TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
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
        created_at BIGINT NOT NULL,
        pending BOOLEAN NOT NULL DEFAULT FALSE
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
    version: 4,
    name: 'changes',
    // The change record (issue 12, Administration through the core): who changed what and when,
    // old and new values as JSON with secrets masked by the core. Read newest first, by time.
    sql: `
      CREATE TABLE changes (
        id BIGSERIAL PRIMARY KEY,
        at BIGINT NOT NULL,
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
    // As SQLite's migration 6: the managed fleet (issue 14, Model), a one-row generation bumped by
    // every apply (its row lock also serialises two nodes' applies), accounts.tenant (NULL: the
    // default tenant), API tokens by hash and check-sync jobs with their targets (issue 15).
    sql: `
      CREATE TABLE fleet_tenants (
        name TEXT COLLATE "C" PRIMARY KEY,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE fleet_sites (
        tenant TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, name)
      );
      CREATE TABLE fleet_groups (
        tenant TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, name)
      );
      CREATE TABLE fleet_phones (
        mac TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT COLLATE "C" NOT NULL,
        model TEXT,
        label TEXT,
        site TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX fleet_phones_by_tenant_site ON fleet_phones (tenant, site);
      CREATE TABLE fleet_phone_groups (
        mac TEXT COLLATE "C" NOT NULL,
        pos INTEGER NOT NULL,
        grp TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (mac, pos)
      );
      CREATE INDEX fleet_phone_groups_by_grp ON fleet_phone_groups (grp);
      CREATE TABLE fleet_settings (
        scope_kind TEXT COLLATE "C" NOT NULL CHECK (scope_kind IN ('global', 'tenant', 'site', 'group', 'phone')),
        scope_tenant TEXT COLLATE "C" NOT NULL,
        scope_name TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        sealed BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (scope_kind, scope_tenant, scope_name, name)
      );
      CREATE TABLE fleet_generation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        generation BIGINT NOT NULL
      );
      INSERT INTO fleet_generation (id, generation) VALUES (1, 0);

      ALTER TABLE accounts ADD COLUMN tenant TEXT;

      CREATE TABLE api_tokens (
        name TEXT COLLATE "C" PRIMARY KEY,
        role TEXT NOT NULL,
        tenant TEXT,
        hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE check_sync_jobs (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
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
        at BIGINT,
        PRIMARY KEY (job_id, pos)
      );
      CREATE INDEX check_sync_targets_by_job_mac ON check_sync_targets (job_id, mac);
    `,
  },
  {
    version: 7,
    name: 'changes feed: NOTIFY triggers',
    // Issue 16 (Several nodes, one PostgreSQL): every committed change to what the nodes cache is
    // announced on the channel polyprov_<schema> (postgres/feed.ts listens), as "topic" or
    // "topic:key". NOTIFY is sent at commit and folds identical payloads of one transaction, so a
    // fleet import of 10,000 rows is one "fleet". The triggers fire for any writer (another node,
    // a CLI command, psql, store copy). Logs and call lists are not announced: nobody caches them,
    // and the commits of transactions that NOTIFY are serialised database-wide (a boot storm's
    // log appends would queue behind each other).
    sql: `
      CREATE FUNCTION polyprov_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE k TEXT;
      BEGIN
        IF TG_NARGS > 1 THEN
          IF TG_OP = 'DELETE' THEN k := to_jsonb(OLD) ->> TG_ARGV[1]; ELSE k := to_jsonb(NEW) ->> TG_ARGV[1]; END IF;
        END IF;
        PERFORM pg_notify(left('polyprov_' || TG_TABLE_SCHEMA, 63), TG_ARGV[0] || COALESCE(':' || k, ''));
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION polyprov_notify('accounts', 'user_name');
      CREATE TRIGGER settings_notify AFTER INSERT OR UPDATE OR DELETE ON settings FOR EACH ROW EXECUTE FUNCTION polyprov_notify('settings', 'name');
      CREATE TRIGGER fleet_notify AFTER INSERT OR UPDATE ON fleet_generation FOR EACH ROW EXECUTE FUNCTION polyprov_notify('fleet');
      CREATE TRIGGER tokens_notify AFTER INSERT OR UPDATE OR DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION polyprov_notify('tokens', 'name');
      CREATE TRIGGER uploads_notify AFTER INSERT ON upload_versions FOR EACH ROW WHEN (NEW.kind IN ('override-phone', 'override-web', 'directory')) EXECUTE FUNCTION polyprov_notify('uploads', 'path');
      CREATE TRIGGER uploads_cleared_notify AFTER DELETE ON upload_versions FOR EACH ROW WHEN (OLD.kind IN ('override-phone', 'override-web', 'directory')) EXECUTE FUNCTION polyprov_notify('uploads', 'path');
    `,
  },
  {
    version: 8,
    name: 'fleet change log',
    // As SQLite's migration 8 (issue 14, Scale): each apply logs the scopes it wrote at its
    // generation, so a node behind reads only those (Store.fleet.changesSince); log_from: the log
    // holds every change after that generation.
    sql: `
      CREATE TABLE fleet_log (
        generation BIGINT NOT NULL,
        scope_kind TEXT NOT NULL,
        scope_tenant TEXT NOT NULL,
        scope_name TEXT NOT NULL,
        PRIMARY KEY (generation, scope_kind, scope_tenant, scope_name)
      );
      ALTER TABLE fleet_generation ADD COLUMN log_from BIGINT NOT NULL DEFAULT 0;
      UPDATE fleet_generation SET log_from = generation;
    `,
  },
  {
    version: 9,
    name: 'upload_versions keyed by path',
    // As SQLite's migration 9 (issue 14, Tenants): an upload is kept per MAC, kind and path (the
    // path carries the tenant's prefix); existing rows keep their path and version numbers.
    sql: `
      DROP INDEX upload_versions_by_key_version;
      CREATE UNIQUE INDEX upload_versions_by_key_version ON upload_versions (mac, kind, path, version);
    `,
  },
  {
    version: 10,
    name: 'audit batches applied',
    // As SQLite's migration 10 (issue 16, Behaviour under faults): the audit journal's batch ids a
    // write applied, in the same transaction as its rows, so a replayed batch counts once.
    sql: `
      CREATE TABLE audit_batches (
        id TEXT PRIMARY KEY,
        at BIGINT NOT NULL
      );
      CREATE INDEX audit_batches_by_at ON audit_batches (at);
    `,
  },
];

export { BOOTS_KEPT_PER_PHONE } from '../fold-sighting.ts';
