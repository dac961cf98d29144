// Audit records and inventory sightings are queued and written in batches off the serving
// path (issue 4: "Recording never slows serving: batch it"), each batch one transaction (issue 16,
// Speed: at most one write batch per boot). While the store is unavailable
// (PP_STORE_UNAVAILABLE: the database is down or restarting), batches go to the audit spool in
// the data directory (audit-spool.ts) instead of being dropped, and are written, oldest first,
// as soon as the store answers again (issue 13 item 13). Any other failed batch is logged, not
// retried forever: the boot server keeps serving even when the store is unhappy. A killed process
// loses what it has not written (issue 16, Behaviour under faults: "the killed node's unflushed audit
// batch, at most its last 100 ms"): the wait before a write is sized to that (see wait()).
import { isProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AuditEvent, Sighting, Store } from '../store/store.ts';
import { AuditSpool, type SpoolWriter } from './audit-spool.ts';
import { SightingHold, type SightingHoldOptions } from './sighting-hold.ts';

/** The spool's directory under the data directory. */
export const AUDIT_SPOOL_DIR = 'audit-spool';

export interface AuditRecorderOptions {
  /** A fixed wait between the first record and its write (tests); without it the wait follows lossMs. */
  flushMs?: number;
  /**
   * How far back the records a killed process had not yet written may reach (default 100 ms, issue
   * 16, Behaviour under faults: "the killed node's unflushed audit batch, at most its last 100 ms").
   */
  lossMs?: number;
  maxBatch?: number;
  /** Where batches wait while the store is unavailable (`<data>/audit-spool`); without it they are dropped and logged. */
  spoolDir?: string;
  spoolMaxBytes?: number;
  /** How often a waiting spool is retried when no new batch comes to retry it. */
  retryMs?: number;
  /** How long a busy phone's inventory sightings may wait (sighting-hold.ts). */
  hold?: SightingHoldOptions;
}

/** The store is away for now (the database is down or restarting): retrying later can succeed. */
function unavailable(err: unknown): boolean {
  return isProvError(err) && err.code === 'PP_STORE_UNAVAILABLE';
}

export class AuditRecorder {
  private events: AuditEvent[] = [];
  private sightings: Sighting[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms since the epoch). */
  private timerAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The running write loop, while one runs (see flush). */
  private loop: Promise<void> = Promise.resolve();
  private running = false;
  private readonly spool: AuditSpool | undefined;
  private readonly flushMs: number | undefined;
  private readonly lossMs: number;
  /** How long a write takes lately: up at once to a slower write, down a third of the way per faster one. */
  private writeMs = 10;
  private readonly maxBatch: number;
  private readonly retryMs: number;
  /** Sightings of phones already in the inventory, held while the phone is busy (one row write per boot). */
  private readonly hold: SightingHold;
  /** Set while the store is known to be away (one log line when it goes, one when it is back). */
  private away = false;
  /**
   * While the store is away it is tried again at most once per retryMs; batches in between go
   * straight to the spool. Without this, a database host that drops packets (each attempt waiting
   * out the connect timeout) would queue a store attempt for every batch, without bound.
   */
  private nextTry = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    opts: AuditRecorderOptions = {},
  ) {
    this.flushMs = opts.flushMs;
    this.lossMs = opts.lossMs ?? 100;
    this.maxBatch = opts.maxBatch ?? 2000;
    this.retryMs = opts.retryMs ?? 500;
    // No hold unless asked (serve's inventoryHoldMs): see sighting-hold.ts.
    this.hold = new SightingHold(opts.hold ?? { quietMs: 0, maxHoldMs: 0 });
    if (opts.spoolDir) {
      this.spool = new AuditSpool(opts.spoolDir, opts.spoolMaxBytes);
      // Left by a process that died during an outage: written as soon as the store answers.
      if (this.spool.pending) this.scheduleRetry();
    }
  }

  event(e: AuditEvent): void {
    this.events.push(e);
    this.schedule();
  }

  sighting(s: Sighting): void {
    const now = this.hold.take(s, Date.now());
    if (now.length === 0) return this.armHold();
    for (const x of now) this.sightings.push(x);
    this.schedule();
  }

  /** True while records wait in the spool for the store to come back. */
  get spooled(): boolean {
    return this.spool?.pending ?? false;
  }

  private schedule(): void {
    if (this.events.length + this.sightings.length >= this.maxBatch) {
      void this.tick();
      return;
    }
    this.arm(Date.now() + this.wait());
  }

  /**
   * Wakes the write loop at `at`, or sooner if it is already due to wake sooner. A later timer is
   * replaced: a record must not wait for the wake-up of a held phone (seconds off), which is how
   * records queued behind it reached back ~2 s when a node was killed.
   */
  private arm(at: number): void {
    if (this.timer) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  /**
   * How long a first record waits for others to share its write. A record is stored when the write
   * it goes in commits: within wait + one write when the loop is idle, within two writes when it is
   * busy (it waits for the write under way). So the wait is lossMs less twice the recent write time
   * — the largest batches that still keep a killed process's loss within lossMs — and none at all
   * once writes take half of lossMs (then the loop writes back to back, each batch what arrived
   * during the previous write).
   */
  private wait(): number {
    return this.flushMs ?? Math.max(0, Math.round(this.lossMs - 2 * this.writeMs));
  }

  /** With nothing else scheduled, wakes the write loop when the next held phone falls due. */
  private armHold(): void {
    if (this.hold.size === 0) return;
    this.arm(Math.max(Date.now() + this.wait(), this.hold.nextDue() ?? 0));
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.tick();
    }, Math.max(this.retryMs, this.nextTry - Date.now()));
    this.retryTimer.unref();
  }

  /**
   * Writes what is queued (and what the spool holds); resolves when it and everything queued before
   * it are stored. One write loop at a time: while a batch is being stored, new records wait and go
   * in the next batch as ONE write, so a slow store makes batches bigger, never a queue of small
   * writes that falls seconds behind (issue 16: a killed node loses at most its last batch).
   * Sightings held while their phone is busy are written too (close, tests, the CLI).
   */
  flush(): Promise<void> {
    for (const x of this.hold.due(Date.now(), true)) this.sightings.push(x);
    return this.tick();
  }

  /** Starts the write loop for what is queued and the held sightings that are due. */
  private tick(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) return this.loop;
    this.running = true;
    this.loop = this.drain();
    return this.loop;
  }

  private async drain(): Promise<void> {
    let first = true;
    try {
      for (;;) {
        for (const x of this.hold.due(Date.now())) this.sightings.push(x);
        const events = this.events;
        const sightings = this.sightings;
        // The spool is tried once per flush even with nothing new queued.
        if (events.length === 0 && sightings.length === 0 && !(first && this.spool?.pending)) return;
        first = false;
        this.events = [];
        this.sightings = [];
        await this.write(events, sightings);
      }
    } finally {
      this.running = false;
      this.armHold();
    }
  }

  /** One step of the write loop: the spool first (oldest records first), then the new batch. */
  private async write(events: AuditEvent[], sightings: Sighting[]): Promise<void> {
    if (this.spool?.pending && (Date.now() < this.nextTry || !(await this.drainSpool()))) {
      await this.toSpool(events, sightings);
      return;
    }
    if (events.length === 0 && sightings.length === 0) return;
    try {
      // ONE write batch per flush, sightings and audit rows in one transaction (issue 16, Speed:
      // "at most one write batch" per boot): both stored or neither, so a failed batch is
      // spooled whole and never folds a sighting twice.
      const t = Date.now();
      await this.store.audit.record(events, sightings);
      const ms = Date.now() - t;
      this.writeMs = ms >= this.writeMs ? ms : this.writeMs + (ms - this.writeMs) / 3;
      this.back();
    } catch (err) {
      if (unavailable(err) && this.spool) {
        this.wentAway(err);
        this.nextTry = Date.now() + this.retryMs;
        await this.toSpool(events, sightings);
      } else {
        this.log.error({ err: (err as Error).message, code: isProvError(err) ? err.code : undefined, events: events.length, sightings: sightings.length }, 'audit batch could not be stored');
      }
    }
  }

  private async toSpool(events: AuditEvent[], sightings: Sighting[]): Promise<void> {
    const spool = this.spool!;
    const wasDropping = spool.dropping;
    await spool.append(events, sightings);
    if (spool.dropping && !wasDropping) {
      this.log.error({ code: 'PP_STORE_SPOOL_FULL', dir: spool.dir, maxBytes: spool.maxBytes }, 'audit spool full: newer audit records are dropped (counted) until the store is back');
    }
    this.scheduleRetry();
  }

  /** Writes the spool to the store; false (spool kept, retried later) when the store is still away. */
  private async drainSpool(): Promise<boolean> {
    const spool = this.spool!;
    // Records the store refuses for another reason would block the spool forever: log them, move on.
    const skipping = (what: string, n: number) => (err: unknown) => {
      if (unavailable(err)) throw err;
      this.log.error({ err: (err as Error).message, [what]: n }, `spooled ${what} could not be stored; skipped`);
    };
    const write: SpoolWriter = {
      sightings: (list) => this.store.phones.recordSightings(list).catch(skipping('sightings', list.length)),
      events: (list) => this.store.audit.append(list).catch(skipping('events', list.length)),
    };
    try {
      const n = await spool.drain(write);
      this.back(n);
      return true;
    } catch (err) {
      if (!unavailable(err)) this.log.error({ err: (err as Error).message }, 'audit spool could not be read');
      this.nextTry = Date.now() + this.retryMs;
      this.scheduleRetry();
      return false;
    }
  }

  private wentAway(err: unknown): void {
    if (this.away) return;
    this.away = true;
    this.log.warn({ code: 'PP_STORE_UNAVAILABLE', err: (err as Error).message, spool: this.spool?.dir }, 'store unavailable: audit records are spooled to the data directory until it is back');
  }

  private back(drained = 0): void {
    const drop = this.spool?.takeDropped();
    if (drop) {
      this.log.error({ code: 'PP_STORE_SPOOL_FULL', dropped: drop.dropped, from: drop.first.toISOString(), to: drop.last.toISOString() }, 'audit records dropped while the store was unavailable (spool full)');
    }
    if (!this.away && drained === 0) return;
    this.away = false;
    this.log.warn({ spooled: drained }, 'store available again: spooled audit records written');
  }

  /** Stops retrying; what is still spooled stays on disk for the next process on this data directory. */
  async close(): Promise<void> {
    await this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
