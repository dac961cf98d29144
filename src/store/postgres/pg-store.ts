// The PostgreSQL store, for several boot-server nodes sharing one state (issue 4: "a PostgreSQL
// backend for several nodes"). Same interface, tables and rules as src/store/sqlite/; hot queries
// are named so node-postgres prepares them once per connection. Every multi-row change is one
// transaction. Writers of one upload key (possibly on different nodes) are serialised by a
// transaction-scoped advisory lock, so concurrent commits end with whole versions, last one wins.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import type { Mac } from '../../domain.ts';
import { ProvError } from '../../errors.ts';
import { bootVersion, foldSighting, macKey, newPhone, type PhoneState } from '../fold-sighting.ts';
import {
  AUDIT_COLS, VERSION_COLS, accountFromRow, accountToRow, auditFromRow, auditToRow, bootFromRow, num, phoneFromRow, phoneStateFromRow, phoneToRow,
  type AccountRow, type AuditRow, type BootRow, type PhoneRow, type Read, type VersionRow,
} from '../rows.ts';
import type { AuditQuery, PhoneQuery, Sighting, Store, StoredFile, UploadKind, UploadSink } from '../store.ts';
import { cleanStaleTemps, TempUpload, TempUploadSink, uploadFailed, versionContent } from '../upload-temp.ts';
import { pgChanges } from './changes.ts';
import { BOOTS_KEPT_PER_PHONE, MIGRATIONS } from './migrations.ts';

export interface PgStoreOptions {
  connectionString: string;
  /** A schema of its own (created if missing); default: the server's search_path. */
  schema?: string;
  /** Where uploads are received before commit (`<data>/tmp`). */
  tmpDir: string;
  poolSize?: number;
}

type Q = pg.Pool | pg.PoolClient;
const MAX_QUERY_ROWS = 100_000;
/** First key of polyprov's advisory locks ("ppv"); the second is a hash of what is locked. */
const LOCK_NS = 0x707076;
const MIGRATION_LOCK = 1;

export class PgStore implements Store {
  #pool: pg.Pool | undefined;

  constructor(readonly opts: PgStoreOptions) {
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) {
      throw new ProvError('PP_OPT_INVALID', `schema name ${JSON.stringify(opts.schema)} is not a plain lower-case SQL identifier`);
    }
  }

  get #p(): pg.Pool {
    if (!this.#pool) throw new ProvError('PP_INTERNAL', 'store used before init() or after close()');
    return this.#pool;
  }

  async init(): Promise<void> {
    if (this.#pool) return;
    mkdirSync(this.opts.tmpDir, { recursive: true, mode: 0o700 });
    const cfg: pg.PoolConfig = { connectionString: this.opts.connectionString, max: this.opts.poolSize ?? 10, connectionTimeoutMillis: 10_000 };
    if (this.opts.schema) cfg.options = `-c search_path=${this.opts.schema}`;
    const pool = new pg.Pool(cfg);
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      await migrate(pool, this.opts.schema);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new ProvError('PP_INTERNAL', `cannot open the PostgreSQL store: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check that the server in storeUrl is reachable and that its user may create tables.',
      });
    }
    this.#pool = pool;
    cleanStaleTemps(this.opts.tmpDir);
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#p.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  // ---- phones -------------------------------------------------------------------------------

  readonly phones: Store['phones'] = {
    recordSighting: (s) => this.#record([s]),
    recordSightings: (list) => this.#record(list),
    get: async (mac) => {
      const r = await this.#p.query<Read<PhoneRow>>({ name: 'phone_get', text: 'SELECT * FROM phones WHERE mac = $1', values: [macKey(mac)] });
      return r.rows[0] && phoneFromRow(r.rows[0]);
    },
    list: async (q: PhoneQuery = {}) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.macPrefix) {
        args.push(`${macKey(q.macPrefix)}%`); // hex digits only: no LIKE wildcard can sneak in
        where.push(`mac LIKE $${args.length}`);
      }
      if (q.seenSince) {
        args.push(q.seenSince.getTime());
        where.push(`last_seen >= $${args.length}`);
      }
      args.push(limitOf(q.limit, MAX_QUERY_ROWS));
      const sql = `SELECT * FROM phones${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY mac COLLATE "C" LIMIT $${args.length}`;
      return (await this.#p.query<Read<PhoneRow>>(sql, args)).rows.map(phoneFromRow);
    },
    setOverrideLocked: async (mac, locked) => {
      await this.#p.query({ name: 'phone_set_locked', text: 'UPDATE phones SET override_locked = $1 WHERE mac = $2 AND override_locked IS DISTINCT FROM $1', values: [locked, macKey(mac)] });
    },
    boots: async (mac, limit) => {
      const r = await this.#p.query<Read<BootRow>>({
        name: 'boots_get',
        text: 'SELECT at, source, address, stage, version, user_agent FROM phone_boots WHERE mac = $1 ORDER BY at DESC, id DESC LIMIT $2',
        values: [macKey(mac), limitOf(limit, BOOTS_KEPT_PER_PHONE)],
      });
      return r.rows.map(bootFromRow);
    },
  };

  async #record(list: Sighting[]): Promise<void> {
    if (list.length === 0) return;
    const byMac = new Map<string, Sighting[]>();
    for (const s of list) {
      const mac = macKey(s.mac);
      const l = byMac.get(mac) ?? [];
      l.push({ ...s, mac: mac as Mac });
      byMac.set(mac, l);
    }
    // Sorted, so two nodes recording overlapping batches lock rows in the same order (no deadlock).
    const macs = [...byMac.keys()].sort();
    await this.#tx(async (c) => {
      // Make sure every row exists, then lock them all. A new row starts as newPhone(earliest
      // sighting), which folds exactly like "never seen" (see foldSighting).
      const seeds = macs.map((m) => newPhone(byMac.get(m)!.reduce((a, b) => (b.at < a.at ? b : a))));
      await c.query({
        name: 'phones_seed',
        text: `INSERT INTO phones (mac, first_seen, last_seen) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
               ON CONFLICT (mac) DO NOTHING`,
        values: [seeds.map((p) => p.mac), seeds.map((p) => p.firstSeen.getTime()), seeds.map((p) => p.lastSeen.getTime())],
      });
      const rows = await c.query<Read<PhoneRow>>({ name: 'phones_lock', text: 'SELECT * FROM phones WHERE mac = ANY($1) ORDER BY mac FOR UPDATE', values: [macs] });
      const boots: Array<[string, number, string, string, string | null, string | null, string | null]> = [];
      for (const row of rows.rows) {
        let st: PhoneState = phoneStateFromRow(row);
        for (const s of byMac.get(row.mac)!) {
          st = foldSighting(st, s);
          if (s.bootStart) boots.push([row.mac, s.at.getTime(), s.source, s.address, s.stage ?? null, bootVersion(s) ?? null, s.userAgent ?? null]);
        }
        const r = phoneToRow(st);
        await c.query({
          name: 'phone_update',
          text: `UPDATE phones SET model = $2, part_number = $3, app_version = $4, bootrom_version = $5, address = $6, last_source = $7,
                   first_seen = $8, last_seen = $9, last_boot = $10, last_error = $11, sip_user = $12, sip_port = $13,
                   fetched_count = $14, uploaded_count = $15, field_times = $16 WHERE mac = $1`,
          values: [r.mac, r.model, r.part_number, r.app_version, r.bootrom_version, r.address, r.last_source, r.first_seen, r.last_seen,
            r.last_boot, r.last_error, r.sip_user, r.sip_port, r.fetched_count, r.uploaded_count, r.field_times],
        });
      }
      if (boots.length) {
        const col = (i: number) => boots.map((b) => b[i]);
        await c.query({
          name: 'boots_insert',
          text: `INSERT INTO phone_boots (mac, at, source, address, stage, version, user_agent)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
          values: [col(0), col(1), col(2), col(3), col(4), col(5), col(6)],
        });
        for (const mac of new Set(boots.map((b) => b[0]))) {
          await c.query({
            name: 'boots_prune',
            text: `DELETE FROM phone_boots WHERE mac = $1 AND id NOT IN
                   (SELECT id FROM phone_boots WHERE mac = $1 ORDER BY at DESC, id DESC LIMIT $2)`,
            values: [mac, BOOTS_KEPT_PER_PHONE],
          });
        }
      }
    });
  }

  // ---- uploads ------------------------------------------------------------------------------

  readonly uploads: Store['uploads'] = {
    begin: async (key, opts) => new TempUploadSink(await TempUpload.create(this.opts.tmpDir, key, opts), (t, r, l) => this.commitUpload(t, r, l)),
    current: async (key) => {
      const row = await currentWithContent(this.#p, macKey(key.mac), key.kind);
      return row && this.#stored(row);
    },
    history: async (key, n) => {
      const r = await this.#p.query<Read<VersionRow>>({
        name: 'version_history',
        text: `SELECT ${VERSION_COLS} FROM upload_versions WHERE mac = $1 AND kind = $2 ORDER BY version DESC LIMIT $3`,
        values: [macKey(key.mac), key.kind, limitOf(n, 1000)],
      });
      return r.rows.map((row) => this.#stored(row));
    },
    listForPhone: async (mac) => {
      const r = await this.#p.query<Read<VersionRow>>({
        name: 'version_current_for_phone',
        text: `SELECT ${VERSION_COLS} FROM upload_versions v WHERE mac = $1
               AND version = (SELECT max(version) FROM upload_versions w WHERE w.mac = v.mac AND w.kind = v.kind) ORDER BY kind COLLATE "C"`,
        values: [macKey(mac)],
      });
      return r.rows.map((row) => this.#stored(row));
    },
    clear: async (key) => {
      await this.#tx(async (c) => {
        await lockKey(c, macKey(key.mac), key.kind);
        await c.query({ name: 'version_clear', text: 'DELETE FROM upload_versions WHERE mac = $1 AND kind = $2', values: [macKey(key.mac), key.kind] });
      });
    },
  };

  /** Called by the sink: makes the received bytes the new current version, in one transaction. */
  async commitUpload(temp: TempUpload, received: Buffer, locked: boolean): Promise<StoredFile> {
    const { key, opts } = temp;
    const mac = macKey(key.mac);
    try {
      const row = await this.#tx(async (c) => {
        await lockKey(c, mac, key.kind);
        const cur = opts.mode === 'append' ? await currentWithContent(c, mac, key.kind) : undefined;
        const content = versionContent(opts, received, cur?.content);
        const top = await c.query<{ v: number | null }>({
          name: 'version_max',
          text: 'SELECT max(version) AS v FROM upload_versions WHERE mac = $1 AND kind = $2',
          values: [mac, key.kind],
        });
        const version = (top.rows[0]?.v ?? 0) + 1;
        const row: VersionRow = {
          id: 0, mac, kind: key.kind, path: key.path, version, size: content.length,
          sha256: createHash('sha256').update(content).digest('hex'), stored_at: Date.now(), address: opts.address,
          locked: locked ? 1 : 0, content,
        };
        const ins = await c.query<{ id: string }>({
          name: 'version_insert',
          text: `INSERT INTO upload_versions (mac, kind, path, version, size, sha256, stored_at, address, locked, content)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
          values: [row.mac, row.kind, row.path, row.version, row.size, row.sha256, row.stored_at, row.address, locked, content],
        });
        row.id = num(ins.rows[0]!.id);
        await c.query({
          name: 'version_prune',
          text: 'DELETE FROM upload_versions WHERE mac = $1 AND kind = $2 AND version <= $3',
          values: [mac, key.kind, version - Math.max(1, opts.keepVersions)],
        });
        return row;
      });
      return this.#stored(row);
    } catch (err) {
      throw uploadFailed(key, err);
    }
  }

  #stored(row: Read<VersionRow>): StoredFile {
    const content = row.content;
    const id = num(row.id);
    return {
      key: { mac: row.mac as Mac, kind: row.kind as UploadKind, path: row.path },
      version: num(row.version),
      size: num(row.size),
      sha256: row.sha256,
      storedAt: new Date(num(row.stored_at)),
      address: row.address,
      locked: row.locked === true || row.locked === 1,
      read: async () => {
        if (content) return content;
        const r = await this.#p.query<{ content: Buffer }>({ name: 'version_content', text: 'SELECT content FROM upload_versions WHERE id = $1', values: [id] });
        if (!r.rows[0]) throw new ProvError('PP_NOT_FOUND', `version ${row.version} of ${row.path} was pruned or cleared`);
        return r.rows[0].content;
      },
    };
  }

  // ---- audit --------------------------------------------------------------------------------

  readonly audit: Store['audit'] = {
    append: async (events) => {
      if (events.length === 0) return;
      const rows = events.map(auditToRow);
      const col = <K extends keyof AuditRow>(k: K) => rows.map((r) => r[k]);
      // One statement, so one transaction, per batch.
      await this.#p.query({
        name: 'audit_insert',
        text: `INSERT INTO audit (${AUDIT_COLS}) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
               $6::text[], $7::text[], $8::bigint[], $9::float8[], $10::text[], $11::text[])`,
        values: [col('at'), col('mac'), col('address'), col('transport'), col('op'), col('path'), col('status'), col('bytes'),
          col('duration_ms'), col('user_name'), col('code')],
      });
    },
    query: async (q: AuditQuery) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.mac) {
        args.push(macKey(q.mac));
        where.push(`mac = $${args.length}`);
      }
      if (q.since) {
        args.push(q.since.getTime());
        where.push(`at >= $${args.length}`);
      }
      if (q.until) {
        args.push(q.until.getTime());
        where.push(`at < $${args.length}`);
      }
      args.push(limitOf(q.limit ?? 100, MAX_QUERY_ROWS));
      const sql = `SELECT ${AUDIT_COLS} FROM audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${args.length}`;
      return (await this.#p.query<Read<AuditRow>>(sql, args)).rows.map(auditFromRow);
    },
  };

  // ---- accounts and settings ----------------------------------------------------------------

  readonly accounts: Store['accounts'] = {
    get: async (user) => {
      const r = await this.#p.query<Read<AccountRow>>({ name: 'account_get', text: 'SELECT * FROM accounts WHERE user_name = $1', values: [user] });
      return r.rows[0] && accountFromRow(r.rows[0]);
    },
    put: async (a) => {
      const r = accountToRow(a);
      await this.#p.query({
        name: 'account_put',
        text: `INSERT INTO accounts (user_name, kind, realm, ha1_md5, ha1_sha256, mac, created_at, pending)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (user_name) DO UPDATE SET kind = excluded.kind, realm = excluded.realm, ha1_md5 = excluded.ha1_md5,
                 ha1_sha256 = excluded.ha1_sha256, mac = excluded.mac, created_at = excluded.created_at, pending = excluded.pending`,
        values: [r.user_name, r.kind, r.realm, r.ha1_md5, r.ha1_sha256, r.mac, r.created_at, r.pending === 1],
      });
    },
    remove: async (user) => {
      const r = await this.#p.query({ name: 'account_remove', text: 'DELETE FROM accounts WHERE user_name = $1', values: [user] });
      return (r.rowCount ?? 0) > 0;
    },
    list: async () => {
      const r = await this.#p.query<Read<AccountRow>>({ name: 'account_list', text: 'SELECT * FROM accounts ORDER BY user_name COLLATE "C"' });
      return r.rows.map(accountFromRow);
    },
    forPhone: async (mac) => {
      const r = await this.#p.query<Read<AccountRow>>({
        name: 'account_for_phone',
        text: 'SELECT * FROM accounts WHERE mac = $1 ORDER BY pending ASC, created_at DESC LIMIT 1',
        values: [macKey(mac)],
      });
      return r.rows[0] && accountFromRow(r.rows[0]);
    },
  };

  readonly changes: Store['changes'] = pgChanges(() => this.#p);

  readonly settings: Store['settings'] = {
    get: async (name) => {
      const r = await this.#p.query<{ value: string }>({ name: 'setting_get', text: 'SELECT value FROM settings WHERE name = $1', values: [name] });
      return r.rows[0]?.value;
    },
    set: async (name, value) => {
      if (value === undefined) {
        await this.#p.query({ name: 'setting_delete', text: 'DELETE FROM settings WHERE name = $1', values: [name] });
      } else {
        await this.#p.query({
          name: 'setting_put',
          text: 'INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
          values: [name, value],
        });
      }
    },
  };
}

async function currentWithContent(q: Q, mac: string, kind: string): Promise<Read<VersionRow> | undefined> {
  const r = await q.query<Read<VersionRow>>({
    name: 'version_current',
    text: `SELECT ${VERSION_COLS}, content FROM upload_versions WHERE mac = $1 AND kind = $2 ORDER BY version DESC LIMIT 1`,
    values: [mac, kind],
  });
  return r.rows[0];
}

/** Serialises writers of one upload key until the transaction ends (on every node). */
async function lockKey(c: pg.PoolClient, mac: string, kind: string): Promise<void> {
  const h = createHash('sha256').update(`${mac}/${kind}`).digest().readInt32BE(0);
  await c.query({ name: 'lock_key', text: 'SELECT pg_advisory_xact_lock($1::int, $2::int)', values: [LOCK_NS, h] });
}

async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    // Nodes starting together migrate one at a time; DDL is transactional in PostgreSQL.
    await c.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [LOCK_NS, MIGRATION_LOCK]);
    if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const have = (await c.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')).rows[0]?.v ?? 0;
    const newest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    if (have > newest) throw new Error(`the store's schema is version ${have}, newer than this polyprov knows (${newest}); upgrade polyprov`);
    for (const m of MIGRATIONS) {
      if (m.version <= have) continue;
      await c.query(m.sql);
      await c.query('INSERT INTO schema_version (version) VALUES ($1)', [m.version]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

function limitOf(n: number | undefined, max: number): number {
  if (n === undefined || !Number.isFinite(n)) return max;
  return Math.max(0, Math.min(Math.floor(n), max));
}
