// API tokens and check-sync jobs in SQLite (migration 6; issue 15): a token is stored by its
// SHA-256 only (unique name, unique hash); a job is created whole with its targets in one
// transaction, and its targets' progress is updated by MAC in one transaction.
import type Database from 'better-sqlite3';
import { ProvError } from '../../errors.ts';
import { macKey } from '../fold-sighting.ts';
import { jobLimit, jobsFromRows, jobToValues, targetToValues, tokenFromRow, tokenToValues, type JobRow, type TargetRow, type TokenRow } from '../fleet-rows.ts';
import type { Store } from '../store.ts';

type Db = Database.Database;

/** A unique-constraint failure as the store reports it (the caller checks names first; a hash clash is a bug). */
function refused(err: unknown, what: string): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) return new ProvError('PP_INTERNAL', `${what}: ${(err as Error).message}`, { cause: err });
  return err;
}

function cached<T>(db: () => Db, make: (d: Db) => T): () => T {
  let v: T | undefined;
  let of: Db | undefined;
  return () => {
    const d = db();
    if (of !== d) {
      v = make(d);
      of = d;
    }
    return v!;
  };
}

export function sqliteTokens(db: () => Db): Store['tokens'] {
  const st = cached(db, (d) => ({
    put: d.prepare(`INSERT INTO api_tokens (name, role, tenant, hash, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET role = excluded.role, tenant = excluded.tenant, hash = excluded.hash, created_at = excluded.created_at`),
    get: d.prepare('SELECT name, role, tenant, hash, created_at FROM api_tokens WHERE name = ?'),
    byHash: d.prepare('SELECT name, role, tenant, hash, created_at FROM api_tokens WHERE hash = ?'),
    list: d.prepare('SELECT name, role, tenant, hash, created_at FROM api_tokens ORDER BY name'),
    remove: d.prepare('DELETE FROM api_tokens WHERE name = ?'),
  }));
  return {
    put: async (t) => {
      try {
        st().put.run(tokenToValues(t));
      } catch (err) {
        throw refused(err, `token ${t.name} not stored (another token has the same hash)`);
      }
    },
    get: async (name) => {
      const r = st().get.get(name) as TokenRow | undefined;
      return r && tokenFromRow(r);
    },
    byHash: async (hash) => {
      const r = st().byHash.get(hash) as TokenRow | undefined;
      return r && tokenFromRow(r);
    },
    list: async () => (st().list.all() as TokenRow[]).map(tokenFromRow),
    remove: async (name) => st().remove.run(name).changes > 0,
  };
}

export function sqliteJobs(db: () => Db): Store['jobs'] {
  const st = cached(db, (d) => ({
    insert: d.prepare('INSERT INTO check_sync_jobs (id, created_at, who, tenant, request) VALUES (?, ?, ?, ?, ?)'),
    insertTarget: d.prepare('INSERT INTO check_sync_targets (job_id, pos, mac, status, detail, at) VALUES (?, ?, ?, ?, ?, ?)'),
    get: d.prepare('SELECT id, created_at, who, tenant, request FROM check_sync_jobs WHERE id = ?'),
    list: d.prepare('SELECT id, created_at, who, tenant, request FROM check_sync_jobs ORDER BY created_at DESC, seq DESC LIMIT ?'),
    targets: d.prepare('SELECT job_id, pos, mac, status, detail, at FROM check_sync_targets WHERE job_id = ? ORDER BY pos'),
    update: d.prepare('UPDATE check_sync_targets SET status = ?, detail = ?, at = ? WHERE job_id = ? AND mac = ?'),
  }));
  const withTargets = (rows: JobRow[]) => jobsFromRows(rows, rows.flatMap((r) => st().targets.all(r.id) as TargetRow[]));
  return {
    create: async (job) => {
      const s = st();
      try {
        db().transaction(() => {
          s.insert.run(jobToValues(job));
          job.targets.forEach((t, i) => s.insertTarget.run(job.id, i, ...targetToValues(t)));
        }).immediate();
      } catch (err) {
        throw refused(err, `check-sync job ${job.id} not stored (the id exists)`);
      }
    },
    get: async (id) => {
      const r = st().get.get(id) as JobRow | undefined;
      return r && withTargets([r])[0];
    },
    list: async (limit) => withTargets(st().list.all(jobLimit(limit)) as JobRow[]),
    updateTargets: async (id, targets) => {
      const s = st();
      db().transaction(() => {
        for (const t of targets) {
          const [, status, detail, at] = targetToValues(t);
          s.update.run(status, detail, at, id, macKey(t.mac));
        }
      }).immediate();
    },
  };
}
