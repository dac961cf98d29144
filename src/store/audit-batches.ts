// The audit journal's batch ids a store has applied (Store.audit.record's batchIds; issue 16,
// Behaviour under faults): how long each backend keeps them and when it prunes, in one place.

/** A batch id is kept this long: a journal is replayed when its node restarts, minutes later, not weeks. */
export const AUDIT_BATCH_KEEP_MS = 7 * 24 * 3600_000;
/** Old ids are pruned at most this often, from the write path (one DELETE an hour, not one per flush). */
const PRUNE_EVERY_MS = 3600_000;

/** When the write path should prune; `due()` answers the cutoff once per PRUNE_EVERY_MS (the first call included). */
export class BatchPrune {
  #next = 0;

  /** The `at` below which ids go now, or undefined when not yet time. */
  due(now = Date.now()): number | undefined {
    if (now < this.#next) return undefined;
    this.#next = now + PRUNE_EVERY_MS;
    return now - AUDIT_BATCH_KEEP_MS;
  }
}
