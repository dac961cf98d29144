// `polyprov store copy --to postgres://…` (issue 16, Several nodes: "moves a site from the
// embedded store to PostgreSQL with its history"): every table of the source store — inventory and
// boot timeline, uploads with every kept version, audit, the change record, accounts, settings
// (the digest secret and the fleet key's check value included), the managed fleet, API tokens and
// check-sync jobs — copied row by row into an empty PostgreSQL store, in one transaction (all or
// nothing), ids and times kept. The two backends have the same tables and column names
// (migrations.ts of each); values are converted by the target column's type (SQLite's 0/1 to
// booleans), columns only one side has are reported, and the target's id sequences are moved past
// the copied ids. The source is read in one read transaction (a consistent snapshot).
import type pg from 'pg';
import { ProvError } from '../errors.ts';
import { PgStore } from './postgres/pg-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface CopyReport {
  /** Rows copied per table, in copy order. */
  tables: Array<{ table: string; rows: number }>;
  /** `table.column` present in the source but not in the target (not copied). */
  dropped: string[];
}

/** Bookkeeping tables never copied: each store has its own migration record. */
const SKIP = new Set(['schema_version', 'sqlite_sequence']);
/** Rows and bytes sent per INSERT. */
const BATCH_ROWS = 500;
const BATCH_BYTES = 8 << 20;

type Row = Record<string, unknown>;

interface Source {
  tables(): Promise<string[]>;
  rows(table: string): AsyncIterable<Row>;
  done(): Promise<void>;
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

function sqliteSource(s: SqliteStore): Source {
  const db = s.db;
  db.prepare('BEGIN').run();
  return {
    async tables() {
      return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    },
    async *rows(table) {
      // One statement at a time, read to its end before the next (nothing else uses this
      // connection during the copy); WITHOUT ROWID tables included.
      yield* db.prepare(`SELECT * FROM ${ident(table)}`).iterate() as Iterable<Row>;
    },
    async done() {
      db.prepare('COMMIT').run();
    },
  };
}

async function pgSource(s: PgStore): Promise<Source> {
  const c = await s.db.pool.connect();
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  return {
    async tables() {
      return (await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)).rows.map((r) => r.t);
    },
    async *rows(table) {
      // A whole table at once: PostgreSQL → PostgreSQL copies are for moderate sites (use pg_dump for more).
      for (const r of (await c.query<Row>(`SELECT * FROM ${ident(table)}`)).rows) yield r;
    },
    async done() {
      await c.query('COMMIT').catch(() => undefined);
      c.release();
    },
  };
}

interface Column {
  name: string;
  type: string;
  serial: boolean;
}

async function targetColumns(c: pg.PoolClient, table: string): Promise<Column[]> {
  const r = await c.query<{ column_name: string; data_type: string; column_default: string | null }>(
    `SELECT column_name, data_type, column_default FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return r.rows.map((x) => ({ name: x.column_name, type: x.data_type, serial: (x.column_default ?? '').startsWith('nextval(') }));
}

function convert(v: unknown, col: Column): unknown {
  if (v === null || v === undefined) return null;
  if (col.type === 'boolean') return v === true || v === 1 || v === '1' || v === 't' || v === 'true';
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** Copies `source` into `target` (a PostgreSQL store, initialised and empty). */
export async function copyStore(source: Store, target: Store): Promise<CopyReport> {
  if (!(target instanceof PgStore)) throw new ProvError('PP_USAGE', 'store copy writes to a PostgreSQL store only', { hint: 'Give --to a postgres:// URL.' });
  const src = source instanceof SqliteStore ? sqliteSource(source) : source instanceof PgStore ? await pgSource(source) : undefined;
  if (!src) throw new ProvError('PP_USAGE', 'store copy reads the SQLite or PostgreSQL store only');
  const report: CopyReport = { tables: [], dropped: [] };
  try {
    const tables = (await src.tables()).filter((t) => !SKIP.has(t));
    await target.db.tx(async (c) => {
      const have = new Set((await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)).rows.map((r) => r.t));
      // Refuse to merge: only the row migration 6 puts in fleet_generation (generation 0) may be there.
      for (const t of have) {
        if (SKIP.has(t)) continue;
        const where = t === 'fleet_generation' ? ' WHERE generation <> 0' : '';
        if ((await c.query(`SELECT 1 FROM ${ident(t)}${where} LIMIT 1`)).rowCount) {
          throw new ProvError('PP_USAGE', `the target store is not empty (table ${t} has rows); store copy does not merge two sites`, { hint: 'Copy into a new database or schema (?schema=NAME), or drop the target schema first.' });
        }
      }
      for (const table of tables) {
        if (!have.has(table)) {
          report.dropped.push(`${table}.*`);
          continue;
        }
        const cols = await targetColumns(c, table);
        const byName = new Map(cols.map((x) => [x.name, x]));
        if (table === 'fleet_generation') await c.query('DELETE FROM fleet_generation');
        let names: string[] | undefined;
        let batch: Row[] = [];
        let bytes = 0;
        let rows = 0;
        const flush = async () => {
          if (batch.length === 0 || !names) return;
          const values: unknown[] = [];
          const tuples = batch.map((r) => `(${names!.map((n) => {
            values.push(convert(r[n], byName.get(n)!));
            return `$${values.length}`;
          }).join(', ')})`);
          await c.query(`INSERT INTO ${ident(table)} (${names.map(ident).join(', ')}) VALUES ${tuples.join(', ')}`, values);
          batch = [];
          bytes = 0;
        };
        for await (const r of src.rows(table)) {
          if (!names) {
            names = Object.keys(r).filter((n) => byName.has(n));
            for (const n of Object.keys(r)) if (!byName.has(n)) report.dropped.push(`${table}.${n}`);
          }
          batch.push(r);
          rows++;
          for (const n of names) if (Buffer.isBuffer(r[n])) bytes += (r[n] as Buffer).length;
          if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
        }
        await flush();
        for (const col of cols.filter((x) => x.serial)) {
          await c.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${ident(col.name)}) FROM ${ident(table)}), 0) + 1, false)`, [table, col.name]);
        }
        report.tables.push({ table, rows });
      }
    });
  } finally {
    await src.done();
  }
  return report;
}
