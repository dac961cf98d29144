// API tokens and check-sync jobs on PostgreSQL (migration 6; issue 15): the same rows and rules as
// src/store/sqlite/api-records.ts. A job and its targets are written in one transaction; a
// progress update of many targets is one statement over unnest() arrays.
import { ProvError } from '../../errors.ts';
import { macKey } from '../fold-sighting.ts';
import { jobLimit, jobsFromRows, jobToValues, targetToValues, tokenFromRow, tokenToValues, type JobRow, type TargetRow, type TokenRow } from '../fleet-rows.ts';
import type { Store } from '../store.ts';
import type { PgConnection } from './connection.ts';

/** A unique violation (SQLSTATE 23505) as the store reports it; anything else unchanged. */
function refused(err: unknown, what: string): unknown {
  if ((err as { code?: unknown } | undefined)?.code !== '23505') return err;
  return new ProvError('PP_INTERNAL', `${what}: ${(err as Error).message}`, { cause: err });
}

const TOKEN_COLS = 'name, role, tenant, hash, created_at';
const JOB_COLS = 'id, created_at, who, tenant, request';
const TARGET_COLS = 'job_id, pos, mac, status, detail, at';

export function pgTokens(db: PgConnection): Store['tokens'] {
  return {
    put: async (t) => {
      try {
        await db.query({
          name: 'token_put',
          text: `INSERT INTO api_tokens (${TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role, tenant = excluded.tenant, hash = excluded.hash, created_at = excluded.created_at`,
          values: tokenToValues(t),
        });
      } catch (err) {
        throw refused(err, `token ${t.name} not stored (another token has the same hash)`);
      }
    },
    get: async (name) => {
      const r = await db.query<TokenRow>({ name: 'token_get', text: `SELECT ${TOKEN_COLS} FROM api_tokens WHERE name = $1`, values: [name] });
      return r.rows[0] && tokenFromRow(r.rows[0]);
    },
    byHash: async (hash) => {
      const r = await db.query<TokenRow>({ name: 'token_by_hash', text: `SELECT ${TOKEN_COLS} FROM api_tokens WHERE hash = $1`, values: [hash] });
      return r.rows[0] && tokenFromRow(r.rows[0]);
    },
    list: async () => (await db.query<TokenRow>({ name: 'token_list', text: `SELECT ${TOKEN_COLS} FROM api_tokens ORDER BY name` })).rows.map(tokenFromRow),
    remove: async (name) => ((await db.query({ name: 'token_remove', text: 'DELETE FROM api_tokens WHERE name = $1', values: [name] })).rowCount ?? 0) > 0,
  };
}

export function pgJobs(db: PgConnection): Store['jobs'] {
  const withTargets = async (jobs: JobRow[]) => {
    if (jobs.length === 0) return [];
    const t = await db.query<TargetRow>({
      name: 'job_targets',
      text: `SELECT ${TARGET_COLS} FROM check_sync_targets WHERE job_id = ANY($1::text[]) ORDER BY job_id, pos`,
      values: [jobs.map((j) => j.id)],
    });
    return jobsFromRows(jobs, t.rows);
  };
  return {
    create: async (job) => {
      try {
        await db.tx(async (c) => {
          await c.query({ name: 'job_insert', text: `INSERT INTO check_sync_jobs (${JOB_COLS}) VALUES ($1, $2, $3, $4, $5)`, values: jobToValues(job) });
          if (job.targets.length === 0) return;
          const rows = job.targets.map(targetToValues);
          await c.query({
            name: 'job_targets_insert',
            text: `INSERT INTO check_sync_targets (${TARGET_COLS})
                   SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[])`,
            values: [job.id, rows.map((_, i) => i), ...[0, 1, 2, 3].map((c) => rows.map((r) => r[c]))],
          });
        });
      } catch (err) {
        throw refused(err, `check-sync job ${job.id} not stored (the id exists)`);
      }
    },
    get: async (id) => {
      const r = await db.query<JobRow>({ name: 'job_get', text: `SELECT ${JOB_COLS} FROM check_sync_jobs WHERE id = $1`, values: [id] });
      return (await withTargets(r.rows))[0];
    },
    list: async (limit) => {
      const r = await db.query<JobRow>({
        name: 'job_list',
        text: `SELECT ${JOB_COLS} FROM check_sync_jobs ORDER BY created_at DESC, seq DESC LIMIT $1`,
        values: [jobLimit(limit)],
      });
      return withTargets(r.rows);
    },
    updateTargets: async (id, targets) => {
      // One row per MAC (the last given wins), so the UPDATE … FROM matches each target once.
      const by = new Map(targets.map((t) => [macKey(t.mac), targetToValues(t)]));
      if (by.size === 0) return;
      const rows = [...by.values()];
      await db.query({
        name: 'job_targets_update',
        text: `UPDATE check_sync_targets t SET status = u.status, detail = u.detail, at = u.at
               FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(mac, status, detail, at)
               WHERE t.job_id = $1 AND t.mac = u.mac`,
        values: [id, ...[0, 1, 2, 3].map((c) => rows.map((r) => r[c]))],
      });
    },
  };
}
