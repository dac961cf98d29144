// The embedded default store: one SQLite file under the data directory (better-sqlite3).
// WAL lets the server read while a CLI command writes; statements are prepared once at init();
// every multi-row change is one transaction. better-sqlite3 is synchronous, so a transaction runs
// whole on the event loop; across processes BEGIN IMMEDIATE plus busy_timeout serialise writers.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Mac } from '../../domain.ts';
import { ProvError } from '../../errors.ts';
import { bootVersion, foldSightingInto, macKey, newPhone, type PhoneState } from '../fold-sighting.ts';
import type { AuditEvent, AuditQuery, PhoneQuery, Sighting, Store, StoredFile, UploadKind, UploadSink } from '../store.ts';
import { cleanStaleTemps, TempUpload, TempUploadSink, uploadFailed, versionContent } from '../upload-temp.ts';
import { emitOwnWrites, Watchers } from '../change-feed.ts';
import { sqliteChanges } from './changes.ts';
import { guarded, sqliteFault } from './faults.ts';
import { BOOTS_KEPT_PER_PHONE, MIGRATIONS } from './migrations.ts';
import { sqliteJobs, sqliteTokens } from './api-records.ts';
import { SqliteAuditBatches } from './audit-batches.ts';
import { sqliteFleet } from './fleet.ts';
import {
  accountFromRow, accountToRow, auditFromRow, bootFromRow, phoneFromRow, phoneStateFromRow, phoneToRow,
  AUDIT_COLS, VERSION_COLS, type AccountRow, type AuditRow, type BootRow, type PhoneRow, type VersionRow,
} from '../rows.ts';

type Db = Database.Database;
type Stmt = Database.Statement;

export interface SqliteStoreOptions {
  /** The database file (`<data>/polyprov.db`). */
  file: string;
  /** Where uploads are received before commit (`<data>/tmp`). */
  tmpDir: string;
  /** How long a write waits for another process's lock before PP_STORE_UNAVAILABLE (default 10 s). */
  busyTimeoutMs?: number;
}

const AUDIT_ROWS_PER_INSERT = 20;
const AUDIT_ROW_PARAMS = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/** An audit event's values in AUDIT_COLS order. */
function pushAuditValues(out: unknown[], e: AuditEvent): void {
  out.push(e.at.getTime(), e.mac ? macKey(e.mac) : null, e.address, e.transport, e.op, e.path, e.status, e.bytes, e.durationMs, e.user ?? null, e.code ?? null);
}

/** A generous bound on one audit or phone query, so a CLI typo cannot pull a whole table into memory. */
const MAX_QUERY_ROWS = 100_000;

export class SqliteStore implements Store {
  #db: Db | undefined;
  #s: ReturnType<typeof prepare> | undefined;
  #dyn = new Map<string, Stmt>();

  /** Issue 16: watchers hear this process's own writes; another process's are seen by their polling. */
  readonly watch: Store['watch'];

  constructor(readonly opts: SqliteStoreOptions) {
    this.watch = emitOwnWrites(this, new Watchers());
  }

  get db(): Db {
    if (!this.#db) throw new ProvError('PP_INTERNAL', 'store used before init() or after close()');
    return this.#db;
  }

  get #st(): ReturnType<typeof prepare> {
    if (!this.#s) throw new ProvError('PP_INTERNAL', 'store used before init() or after close()');
    return this.#s;
  }

  async init(): Promise<void> {
    if (this.#db) return;
    mkdirSync(this.opts.tmpDir, { recursive: true, mode: 0o700 });
    const db = new Database(this.opts.file);
    try {
      // First, so that switching to WAL and migrating wait for another process opening the same file.
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.opts.busyTimeoutMs ?? 10_000))}`);
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: every commit is atomic and survives a crash or kill -9 of the process;
      // only a power cut may roll back the last commits (never to a mix). FULL would fsync on every
      // commit, which with a synchronous driver stalls the whole event loop (~2 ms per upload on
      // the CI machine, measured with an upload loop like the PUT benchmark's); nginx's WebDAV PUT,
      // the benchmark's reference, does not fsync either.
      db.pragma('synchronous = NORMAL');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.#db = db;
    this.#s = prepare(db);
    // A crash or kill -9 mid-upload leaves a temp file and nothing else; the version stayed as it was.
    cleanStaleTemps(this.opts.tmpDir);
  }

  async close(): Promise<void> {
    this.#dyn.clear();
    this.#s = undefined;
    this.#db?.close();
    this.#db = undefined;
  }

  #dynamic(sql: string): Stmt {
    let st = this.#dyn.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.#dyn.set(sql, st);
    }
    return st;
  }

  // ---- phones -------------------------------------------------------------------------------

  readonly phones: Store['phones'] = guarded({
    recordSighting: async (s) => void this.#write([], [s]),
    recordSightings: async (list) => void this.#write([], list),
    get: async (mac) => {
      const row = this.#st.phoneGet.get(macKey(mac)) as PhoneRow | undefined;
      return row && phoneFromRow(row);
    },
    list: async (q: PhoneQuery = {}) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.macPrefix) {
        // Prefix match by range so phones_pkey serves it (LIKE would need escaping and a collation).
        const p = macKey(q.macPrefix);
        where.push('mac >= ? AND mac < ?');
        args.push(p, `${p}\u{10FFFF}`);
      }
      if (q.seenSince) {
        where.push('last_seen >= ?');
        args.push(q.seenSince.getTime());
      }
      const sql = `SELECT * FROM phones${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY mac LIMIT ?`;
      args.push(limitOf(q.limit, MAX_QUERY_ROWS));
      return (this.#dynamic(sql).all(...args) as PhoneRow[]).map(phoneFromRow);
    },
    setOverrideLocked: async (mac, locked) => {
      this.#st.phoneSetLocked.run(locked ? 1 : 0, macKey(mac), locked ? 1 : 0);
    },
    boots: async (mac, limit) =>
      (this.#st.bootsGet.all(macKey(mac), limitOf(limit, BOOTS_KEPT_PER_PHONE)) as BootRow[]).map(bootFromRow),
  });

  /** One transaction (issue 16, Speed: a recorder flush is one write batch): batch ids, sightings, then audit rows. */
  #write(events: AuditEvent[], sightings: Sighting[], ids?: readonly string[]): boolean {
    if (events.length === 0 && sightings.length === 0 && !ids?.length) return true;
    return this.db.transaction(() => {
      if (ids?.length && !this.#st.batches.claim(ids)) return false;
      if (sightings.length) this.#fold(sightings);
      if (events.length) this.#insertAudit(events);
      return true;
    }).immediate();
  }

  /** Folds a batch into the inventory; the caller holds the transaction. */
  #fold(list: Sighting[]): void {
    const st = this.#st;
    // Fold each phone's sightings in memory and write its row once: a batch from a busy server
    // holds many requests of few phones, and the fold is order-independent (fold-sighting.ts).
    // Each phone's row is read (or started) once and folded in place (no copy per sighting).
    const byMac = new Map<string, PhoneState>();
    const touched = new Set<string>();
    for (const s of list) {
      const mac = macKey(s.mac);
      const state = byMac.get(mac);
      if (state) foldSightingInto(state, s);
      else {
        const row = st.phoneGet.get(mac) as PhoneRow | undefined;
        const fresh = row ? phoneStateFromRow(row) : { phone: newPhone({ ...s, mac: mac as Mac }), times: {} };
        foldSightingInto(fresh, s, row !== undefined);
        byMac.set(mac, fresh);
      }
      if (s.bootStart) {
        st.bootInsert.run(mac, s.at.getTime(), s.source, s.address, s.stage ?? null, bootVersion(s) ?? null, s.userAgent ?? null);
        touched.add(mac);
      }
    }
    for (const next of byMac.values()) st.phoneUpsert.run(phoneToRow(next));
    for (const mac of touched) st.bootPrune.run(mac, mac, BOOTS_KEPT_PER_PHONE);
  }

  /**
   * Positional values, AUDIT_ROWS_PER_INSERT rows a statement: a third cheaper per row than one
   * named-parameter insert each (bench http, server CPU per request). The caller holds the transaction.
   */
  #insertAudit(events: AuditEvent[]): void {
    const st = this.#st;
    let i = 0;
    const args: unknown[] = [];
    for (; i + AUDIT_ROWS_PER_INSERT <= events.length; i += AUDIT_ROWS_PER_INSERT) {
      args.length = 0;
      for (let j = i; j < i + AUDIT_ROWS_PER_INSERT; j++) pushAuditValues(args, events[j]!);
      st.auditInsertMany.run(args);
    }
    for (; i < events.length; i++) {
      args.length = 0;
      pushAuditValues(args, events[i]!);
      st.auditInsert.run(args);
    }
  }

  // ---- uploads ------------------------------------------------------------------------------

  readonly uploads: Store['uploads'] = guarded({
    begin: async (key, opts) => {
      const temp = await TempUpload.create(this.opts.tmpDir, key, opts);
      return new TempUploadSink(temp, (t, r, l) => this.commitUpload(t, r, l));
    },
    current: async (key) => {
      const row = this.#st.versionCurrentWithContent.get(macKey(key.mac), key.kind, key.path) as VersionRow | undefined;
      return row && this.#stored(row);
    },
    history: async (key, n) =>
      (this.#st.versionHistory.all(macKey(key.mac), key.kind, key.path, limitOf(n, 1000)) as VersionRow[]).map((r) => this.#stored(r)),
    listForPhone: async (mac) => (this.#st.versionCurrentForPhone.all(macKey(mac)) as VersionRow[]).map((r) => this.#stored(r)),
    clear: async (key) => {
      this.#st.versionClear.run(macKey(key.mac), key.kind, key.path);
    },
  });

  /** Called by the sink: makes the received bytes the new current version, in one transaction. */
  commitUpload(temp: TempUpload, received: Buffer, locked: boolean): StoredFile {
    const st = this.#st;
    const { key, opts } = temp;
    const mac = macKey(key.mac);
    const tx = this.db.transaction((): VersionRow => {
      const cur = opts.mode === 'append' ? (st.versionCurrentWithContent.get(mac, key.kind, key.path) as VersionRow | undefined) : undefined;
      const content = versionContent(opts, received, cur?.content);
      const top = st.versionMax.get(mac, key.kind, key.path) as { v: number | null };
      const version = (top.v ?? 0) + 1;
      const row: VersionRow = {
        id: 0, mac, kind: key.kind, path: key.path, version, size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'), stored_at: Date.now(), address: opts.address,
        locked: locked ? 1 : 0, tree_version: opts.treeVersion ?? null, content,
      };
      row.id = Number(st.versionInsert.run(row).lastInsertRowid);
      st.versionPrune.run(mac, key.kind, key.path, version - Math.max(1, opts.keepVersions));
      return row;
    });
    try {
      return this.#stored(tx.immediate());
    } catch (err) {
      throw uploadFailed(key, sqliteFault(err));
    }
  }

  #stored(row: VersionRow): StoredFile {
    const content = row.content;
    const f: StoredFile = {
      key: { mac: row.mac as Mac, kind: row.kind as UploadKind, path: row.path },
      version: row.version,
      size: row.size,
      sha256: row.sha256,
      storedAt: new Date(row.stored_at),
      address: row.address,
      locked: row.locked === 1,
      ...(row.tree_version !== null && row.tree_version !== undefined ? { treeVersion: row.tree_version } : {}),
      read: async () => {
        if (content) return content;
        const r = this.#st.versionContent.get(row.id) as { content: Buffer } | undefined;
        if (!r) throw new ProvError('PP_NOT_FOUND', `version ${row.version} of ${row.path} was pruned or cleared`);
        return r.content;
      },
    };
    return f;
  }

  // ---- audit --------------------------------------------------------------------------------

  readonly audit: Store['audit'] = guarded({
    append: async (events) => void this.#write(events, []),
    record: async (events, sightings, ids) => this.#write(events, sightings, ids),
    query: async (q: AuditQuery) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.mac) {
        where.push('mac = ?');
        args.push(macKey(q.mac));
      }
      if (q.since) {
        where.push('at >= ?');
        args.push(q.since.getTime());
      }
      if (q.until) {
        where.push('at < ?');
        args.push(q.until.getTime());
      }
      const sql = `SELECT ${AUDIT_COLS} FROM audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
      args.push(limitOf(q.limit ?? 100, MAX_QUERY_ROWS));
      return (this.#dynamic(sql).all(...args) as AuditRow[]).map(auditFromRow);
    },
  });

  // ---- accounts and settings ----------------------------------------------------------------

  readonly accounts: Store['accounts'] = guarded({
    get: async (user) => {
      const r = this.#st.accountGet.get(user) as AccountRow | undefined;
      return r && accountFromRow(r);
    },
    put: async (a) => {
      this.#st.accountPut.run(accountToRow(a));
    },
    remove: async (user) => this.#st.accountRemove.run(user).changes > 0,
    list: async () => (this.#st.accountList.all() as AccountRow[]).map(accountFromRow),
    forPhone: async (mac) => {
      const r = this.#st.accountForPhone.get(macKey(mac)) as AccountRow | undefined;
      return r && accountFromRow(r);
    },
  });

  readonly changes: Store['changes'] = guarded(sqliteChanges(() => this.db));

  readonly fleet: Store['fleet'] = guarded(sqliteFleet(() => this.db));
  readonly tokens: Store['tokens'] = guarded(sqliteTokens(() => this.db));
  readonly jobs: Store['jobs'] = guarded(sqliteJobs(() => this.db));
  readonly settings: Store['settings'] = guarded({
    get: async (name) => (this.#st.settingGet.get(name) as { value: string } | undefined)?.value,
    set: async (name, value) => {
      if (value === undefined) this.#st.settingDelete.run(name);
      else this.#st.settingPut.run(name, value);
    },
  });
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  db.transaction(() => {
    const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
    const have = row.v ?? 0;
    const newest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    if (have > newest) {
      throw new ProvError('PP_INTERNAL', `the store's schema is version ${have}, newer than this polyprov knows (${newest})`, {
        hint: 'Upgrade polyprov, or point --data at another directory.',
      });
    }
    for (const m of MIGRATIONS) {
      if (m.version <= have) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
    }
  }).immediate();
}

function prepare(db: Db) {
  return {
    phoneGet: db.prepare('SELECT * FROM phones WHERE mac = ?'),
    phoneUpsert: db.prepare(`
      INSERT INTO phones (mac, model, part_number, app_version, bootrom_version, address, last_source, first_seen, last_seen,
        last_boot, last_error, sip_user, sip_port, fetched_count, uploaded_count, override_locked, field_times, master)
      VALUES (@mac, @model, @part_number, @app_version, @bootrom_version, @address, @last_source, @first_seen, @last_seen,
        @last_boot, @last_error, @sip_user, @sip_port, @fetched_count, @uploaded_count, @override_locked, @field_times, @master)
      ON CONFLICT (mac) DO UPDATE SET model = excluded.model, part_number = excluded.part_number,
        app_version = excluded.app_version, bootrom_version = excluded.bootrom_version, address = excluded.address,
        last_source = excluded.last_source, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
        last_boot = excluded.last_boot, last_error = excluded.last_error, sip_user = excluded.sip_user,
        sip_port = excluded.sip_port, fetched_count = excluded.fetched_count, uploaded_count = excluded.uploaded_count,
        override_locked = excluded.override_locked, field_times = excluded.field_times, master = excluded.master`),
    // Only a change writes: most uploads leave the flag as it was, and a write is a WAL commit.
    phoneSetLocked: db.prepare('UPDATE phones SET override_locked = ? WHERE mac = ? AND override_locked IS NOT ?'),
    bootInsert: db.prepare('INSERT INTO phone_boots (mac, at, source, address, stage, version, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    bootPrune: db.prepare(`DELETE FROM phone_boots WHERE mac = ? AND id NOT IN
      (SELECT id FROM phone_boots WHERE mac = ? ORDER BY at DESC, id DESC LIMIT ?)`),
    bootsGet: db.prepare('SELECT at, source, address, stage, version, user_agent FROM phone_boots WHERE mac = ? ORDER BY at DESC, id DESC LIMIT ?'),

    versionCurrentWithContent: db.prepare(`SELECT ${VERSION_COLS}, content FROM upload_versions WHERE mac = ? AND kind = ? AND path = ? ORDER BY version DESC LIMIT 1`),
    versionHistory: db.prepare(`SELECT ${VERSION_COLS} FROM upload_versions WHERE mac = ? AND kind = ? AND path = ? ORDER BY version DESC LIMIT ?`),
    versionCurrentForPhone: db.prepare(`SELECT ${VERSION_COLS} FROM upload_versions v WHERE mac = ?
      AND version = (SELECT max(version) FROM upload_versions w WHERE w.mac = v.mac AND w.kind = v.kind AND w.path = v.path) ORDER BY kind, path`),
    versionMax: db.prepare('SELECT max(version) AS v FROM upload_versions WHERE mac = ? AND kind = ? AND path = ?'),
    versionInsert: db.prepare(`INSERT INTO upload_versions (mac, kind, path, version, size, sha256, stored_at, address, locked, tree_version, content)
      VALUES (@mac, @kind, @path, @version, @size, @sha256, @stored_at, @address, @locked, @tree_version, @content)`),
    versionPrune: db.prepare('DELETE FROM upload_versions WHERE mac = ? AND kind = ? AND path = ? AND version <= ?'),
    versionClear: db.prepare('DELETE FROM upload_versions WHERE mac = ? AND kind = ? AND path = ?'),
    versionContent: db.prepare('SELECT content FROM upload_versions WHERE id = ?'),

    auditInsert: db.prepare(`INSERT INTO audit (${AUDIT_COLS}) VALUES ${AUDIT_ROW_PARAMS}`),
    auditInsertMany: db.prepare(`INSERT INTO audit (${AUDIT_COLS}) VALUES ${Array(AUDIT_ROWS_PER_INSERT).fill(AUDIT_ROW_PARAMS).join(', ')}`),
    batches: new SqliteAuditBatches(db),

    accountGet: db.prepare('SELECT * FROM accounts WHERE user_name = ?'),
    accountPut: db.prepare(`INSERT INTO accounts (user_name, kind, realm, ha1_md5, ha1_sha256, mac, created_at, pending, tenant)
      VALUES (@user_name, @kind, @realm, @ha1_md5, @ha1_sha256, @mac, @created_at, @pending, @tenant)
      ON CONFLICT (user_name) DO UPDATE SET kind = excluded.kind, realm = excluded.realm, ha1_md5 = excluded.ha1_md5,
        ha1_sha256 = excluded.ha1_sha256, mac = excluded.mac, created_at = excluded.created_at, pending = excluded.pending,
        tenant = excluded.tenant`),
    accountRemove: db.prepare('DELETE FROM accounts WHERE user_name = ?'),
    accountList: db.prepare('SELECT * FROM accounts ORDER BY user_name'),
    accountForPhone: db.prepare('SELECT * FROM accounts WHERE mac = ? ORDER BY pending ASC, created_at DESC LIMIT 1'),

    settingGet: db.prepare('SELECT value FROM settings WHERE name = ?'),
    settingPut: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    settingDelete: db.prepare('DELETE FROM settings WHERE name = ?'),
  };
}

function limitOf(n: number | undefined, max: number): number {
  if (n === undefined || !Number.isFinite(n)) return max;
  return Math.max(0, Math.min(Math.floor(n), max));
}
