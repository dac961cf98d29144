// The audit journal's batch ids on SQLite (migration 10; issue 16, Behaviour under faults): a
// replayed batch that had in fact committed is skipped, so every request counts at most once.
import type Database from 'better-sqlite3';
import { BatchPrune } from '../audit-batches.ts';

export class SqliteAuditBatches {
  readonly #has: Database.Statement;
  readonly #put: Database.Statement;
  readonly #prune: Database.Statement;
  readonly #when = new BatchPrune();

  constructor(db: Database.Database) {
    this.#has = db.prepare('SELECT 1 FROM audit_batches WHERE id = ?').pluck();
    this.#put = db.prepare('INSERT INTO audit_batches (id, at) VALUES (?, ?)');
    this.#prune = db.prepare('DELETE FROM audit_batches WHERE at < ?');
  }

  /** Inside the caller's transaction: false when any id was applied before; else notes them all. */
  claim(ids: readonly string[]): boolean {
    for (const id of ids) if (this.#has.get(id) !== undefined) return false;
    const now = Date.now();
    for (const id of ids) this.#put.run(id, now);
    const cutoff = this.#when.due(now);
    if (cutoff !== undefined) this.#prune.run(cutoff);
    return true;
  }
}
