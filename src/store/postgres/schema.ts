// Brings a PostgreSQL schema up to the newest migration (src/store/postgres/migrations.ts), one
// node at a time, and owns polyprov's advisory-lock namespace.
import type pg from 'pg';
import { MIGRATIONS } from './migrations.ts';

/** First key of polyprov's advisory locks ("ppv"); the second is a hash of what is locked. */
export const LOCK_NS = 0x707076;
const MIGRATION_LOCK = 1;

/** Applies the missing migrations; refuses a schema newer than this polyprov knows. */
export async function migrate(c: pg.PoolClient, schema: string | undefined): Promise<void> {
  await c.query('BEGIN');
  try {
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
  }
}
