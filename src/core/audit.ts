// Audit records and inventory sightings are queued and written in batches off the serving
// path (issue 4: "Recording never slows serving: batch it"), each batch one transaction (issue 16,
// Speed: at most one write batch per boot). While the store is unavailable
// (PP_STORE_UNAVAILABLE: the database is down or restarting), batches go to the audit spool in
// the data directory (audit-spool.ts) instead of being dropped, and are written, oldest first,
// as soon as the store answers again (issue 13 item 13). Any other failed batch is logged, not
// retried forever: the boot server keeps serving even when the store is unhappy. A killed process
// loses what it has not written (issue 16, Behaviour under faults: "the killed node's unflushed audit
// batch, at most its last 100 ms"): the wait before a write is sized to that (see wait()), and with
// a data directory every batch is first sealed into the write-ahead journal (audit-journal.ts), so
// a killed process loses only its last JOURNAL_SEAL_MS of records, however slow the store is; the
// next process on the directory writes the rest, each batch once (Store.audit.record's batch ids).
import { isProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AuditEvent, Sighting, Store } from '../store/store.ts';
import { AuditJournal, JOURNAL_SEAL_MAX_RECORDS, JOURNAL_SEAL_MS, type JournalBatch } from './audit-journal.ts';
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
  /**
   * The write-ahead journal in spoolDir (audit-journal.ts): on by default whenever there is a
   * spoolDir; `false` turns it off (the bench's comparison, tests that count store calls).
   */
  journal?: boolean;
  /** How long records wait before they are sealed into the journal (default JOURNAL_SEAL_MS). */
  sealMs?: number;
  /** The journal's size before it is cut back (tests). */
  journalRotateBytes?: number;
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
  private readonly journal: AuditJournal | undefined;
  /** Whether this process seals its own records into the journal (opts.journal, default on). */
  private readonly journaling: boolean = false;
  /** Batches sealed into the journal, not yet handed to a write. */
  private sealed: JournalBatch[] = [];
  private sealedRecords = 0;
  private sealTimer: NodeJS.Timeout | undefined;
  private readonly sealMs: number;
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
    this.sealMs = opts.sealMs ?? JOURNAL_SEAL_MS;
    if (opts.spoolDir) {
      this.spool = new AuditSpool(opts.spoolDir, opts.spoolMaxBytes);
      // Without journaling (serve's auditJournal off) the journal still adopts and replays what a
      // process that died with it on left behind; it only never writes a file of its own.
      this.journaling = opts.journal !== false;
      const failed = (err: Error) => this.log.error({ err: err.message, dir: opts.spoolDir }, 'audit journal cannot be written: a killed process would lose its unwritten audit batches');
      this.journal = new AuditJournal(opts.spoolDir, failed, opts.journalRotateBytes);
      // Left by a process that died (during an outage, or with batches unwritten): written as soon as the store answers.
      if (this.backlog) this.scheduleRetry();
    }
  }

  /** Spooled records or a dead process's journal wait to be written. */
  private get backlog(): boolean {
    return (this.spool?.pending ?? false) || (this.journal?.pending ?? false);
  }

  /** Seals what is queued into a journal batch (one line, one write) before any write takes it. */
  private seal(): void {
    if (this.sealTimer) {
      clearTimeout(this.sealTimer);
      this.sealTimer = undefined;
    }
    if (!this.journaling || !this.journal || (this.events.length === 0 && this.sightings.length === 0)) return;
    this.sealed.push(this.journal.seal(this.events, this.sightings));
    this.sealedRecords += this.events.length + this.sightings.length;
    this.events = [];
    this.sightings = [];
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
    // A check per record; the seal itself once per sealMs or JOURNAL_SEAL_MAX_RECORDS (issue 16: a
    // killed process loses at most its last ~25 ms of records, the ones not sealed yet).
    if (this.journaling) {
      if (this.events.length + this.sightings.length >= JOURNAL_SEAL_MAX_RECORDS) this.seal();
      else if (!this.sealTimer) {
        this.sealTimer = setTimeout(() => this.seal(), this.sealMs);
        this.sealTimer.unref();
      }
    }
    if (this.events.length + this.sightings.length + this.sealedRecords >= this.maxBatch) {
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
        this.seal();
        // The backlog (spool, dead processes' journals) is tried once per flush even with nothing new queued.
        if (this.events.length === 0 && this.sightings.length === 0 && this.sealed.length === 0 && !(first && this.backlog)) return;
        first = false;
        // Everything queued goes in ONE write: with the journal, every batch sealed meanwhile.
        const batches = this.sealed;
        const ids = batches.map((b) => b.id);
        const events = batches.length === 0 ? this.events : batches.length === 1 ? batches[0]!.events : batches.flatMap((b) => b.events);
        const sightings = batches.length === 0 ? this.sightings : batches.length === 1 ? batches[0]!.sightings : batches.flatMap((b) => b.sightings);
        this.sealed = [];
        this.sealedRecords = 0;
        this.events = [];
        this.sightings = [];
        try {
          await this.write(events, sightings, ids);
        } finally {
          // Stored, spooled (durable there) or refused and logged: either way never replayed.
          this.journal?.done(ids);
        }
      }
    } finally {
      this.running = false;
      this.armHold();
    }
  }

  /** One step of the write loop: the backlog first (oldest records first), then the new batch. */
  private async write(events: AuditEvent[], sightings: Sighting[], ids: string[]): Promise<void> {
    if (this.backlog && (Date.now() < this.nextTry || !(await this.replayJournals()) || !(await this.drainSpool()))) {
      await this.toSpool(events, sightings, ids);
      return;
    }
    if (events.length === 0 && sightings.length === 0) return;
    try {
      // ONE write batch per flush, sightings and audit rows in one transaction (issue 16, Speed:
      // "at most one write batch" per boot): both stored or neither, so a failed batch is
      // spooled whole and never folds a sighting twice.
      const t = Date.now();
      await this.store.audit.record(events, sightings, ids.length ? ids : undefined);
      const ms = Date.now() - t;
      this.writeMs = ms >= this.writeMs ? ms : this.writeMs + (ms - this.writeMs) / 3;
      this.back();
    } catch (err) {
      if (unavailable(err) && this.spool) {
        this.wentAway(err);
        this.nextTry = Date.now() + this.retryMs;
        // With the batch ids: a write reported failed that had committed is skipped when drained.
        await this.toSpool(events, sightings, ids);
      } else {
        this.log.error({ err: (err as Error).message, code: isProvError(err) ? err.code : undefined, events: events.length, sightings: sightings.length }, 'audit batch could not be stored');
      }
    }
  }

  private async toSpool(events: AuditEvent[], sightings: Sighting[], ids: readonly string[] = []): Promise<void> {
    const spool = this.spool!;
    const wasDropping = spool.dropping;
    await spool.append(events, sightings, ids);
    if (spool.dropping && !wasDropping) {
      this.log.error({ code: 'PP_STORE_SPOOL_FULL', dir: spool.dir, maxBytes: spool.maxBytes }, 'audit spool full: newer audit records are dropped (counted) until the store is back');
    }
    this.scheduleRetry();
  }

  /**
   * Writes the open batches of dead processes' journals, each with its id (the store skips one it
   * applied before: counted once); false (kept, retried later) when the store is away.
   */
  private async replayJournals(): Promise<boolean> {
    const journal = this.journal;
    if (!journal?.pending) return true;
    let written = 0;
    let skipped = 0;
    try {
      const n = await journal.replay(async (b) => {
        try {
          if (await this.store.audit.record(b.events, b.sightings, [b.id])) written++;
          else skipped++;
        } catch (err) {
          if (unavailable(err)) throw err;
          this.log.error({ err: (err as Error).message, batch: b.id, events: b.events.length, sightings: b.sightings.length }, 'journaled audit batch could not be stored; skipped');
        }
      });
      if (written + skipped > 0) this.log.warn({ records: n, batches: written, alreadyStored: skipped }, 'audit journal of a process that died replayed');
      return true;
    } catch (err) {
      this.wentAway(err);
      this.nextTry = Date.now() + this.retryMs;
      this.scheduleRetry();
      return false;
    }
  }

  /** Writes the spool to the store; false (spool kept, retried later) when the store is still away. */
  private async drainSpool(): Promise<boolean> {
    const spool = this.spool!;
    if (!spool.pending) return true;
    // Records the store refuses for another reason would block the spool forever: log them, move on.
    const skipping = (what: string, n: number) => (err: unknown) => {
      if (unavailable(err)) throw err;
      this.log.error({ err: (err as Error).message, [what]: n }, `spooled ${what} could not be stored; skipped`);
    };
    const write: SpoolWriter = {
      sightings: (list) => this.store.phones.recordSightings(list).catch(skipping('sightings', list.length)),
      events: (list) => this.store.audit.append(list).catch(skipping('events', list.length)),
      batch: (events, sightings, ids) =>
        this.store.audit.record(events, sightings, ids).then(
          () => undefined,
          skipping('records', events.length + sightings.length),
        ),
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
    // Every batch is stored or spooled now: the journal has nothing left to protect.
    this.journal?.close();
  }
}
