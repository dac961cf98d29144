// The transfer audit on PostgreSQL: one statement per batch the core's AuditRecorder hands over, in
// the same transaction as the batch's inventory sightings (record), and the queries behind `polyprov audit`.
import type pg from 'pg';
import type { AuditEvent } from '../../domain.ts';
import { BatchPrune } from '../audit-batches.ts';
import { macKey } from '../fold-sighting.ts';
import { AUDIT_COLS, auditFromRow, auditToRow, type AuditRow, type Read } from '../rows.ts';
import type { AuditQuery, Store } from '../store.ts';
import { limitOf, type PgConnection } from './connection.ts';
import { foldSightings, MAX_QUERY_ROWS } from './inventory.ts';

/** The one statement that inserts a batch of audit rows. */
function auditInsert(events: AuditEvent[]): pg.QueryConfig {
  const rows = events.map(auditToRow);
  const col = <K extends keyof AuditRow>(k: K) => rows.map((r) => r[k]);
  return {
    name: 'audit_insert',
    text: `INSERT INTO audit (${AUDIT_COLS}) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
           $6::text[], $7::text[], $8::bigint[], $9::float8[], $10::text[], $11::text[])`,
    values: [col('at'), col('mac'), col('address'), col('transport'), col('op'), col('path'), col('status'), col('bytes'),
      col('duration_ms'), col('user_name'), col('code')],
  };
}

/** Thrown inside the transaction to roll it back: a batch id was applied before. */
const APPLIED = new Error('audit batch applied before');

export function pgAudit(db: PgConnection): Store['audit'] {
  const prune = new BatchPrune();
  return {
    append: async (events) => {
      if (events.length === 0) return;
      await db.query(auditInsert(events));
    },
    // A recorder flush (issue 16, Speed: at most one write batch): the journal's batch ids noted,
    // the sightings folded and the audit rows inserted in ONE transaction; audit rows alone are one
    // statement, no BEGIN/COMMIT. A batch id applied before (a replay after a kill whose batch had
    // in fact committed) rolls the whole call back: counted once (issue 16, Behaviour under faults).
    record: async (events, sightings, ids) => {
      if (sightings.length === 0 && !ids?.length) {
        if (events.length) await db.query(auditInsert(events));
        return true;
      }
      try {
        await db.tx(async (c) => {
          if (ids?.length) {
            const now = Date.now();
            const r = await c.query({ name: 'audit_batches_insert', text: 'INSERT INTO audit_batches (id, at) SELECT unnest($1::text[]), $2 ON CONFLICT (id) DO NOTHING', values: [ids, now] });
            if (r.rowCount !== ids.length) throw APPLIED;
            const cutoff = prune.due(now);
            if (cutoff !== undefined) await c.query('DELETE FROM audit_batches WHERE at < $1', [cutoff]);
          }
          if (sightings.length) await foldSightings(c, sightings);
          if (events.length) await c.query(auditInsert(events));
        });
        return true;
      } catch (err) {
        if (err === APPLIED) return false;
        throw err;
      }
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
      return (await db.query<Read<AuditRow>>(sql, args)).rows.map(auditFromRow);
    },
  };
}
