// Audit records and inventory sightings are queued and written in batches off the serving
// path (issue 4: "Recording never slows serving: batch it"). A failed batch is logged, not
// retried forever: the boot server keeps serving even when the store is unhappy.
import type { Logger } from '../log.ts';
import type { AuditEvent, Sighting, Store } from '../store/store.ts';

export class AuditRecorder {
  private events: AuditEvent[] = [];
  private sightings: Sighting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly flushMs = 200,
    private readonly maxBatch = 2000,
  ) {}

  event(e: AuditEvent): void {
    this.events.push(e);
    this.schedule();
  }

  sighting(s: Sighting): void {
    this.sightings.push(s);
    this.schedule();
  }

  private schedule(): void {
    if (this.events.length + this.sightings.length >= this.maxBatch) {
      void this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes what is queued; resolves when it (and any earlier flush) is stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const events = this.events;
    const sightings = this.sightings;
    this.events = [];
    this.sightings = [];
    if (events.length === 0 && sightings.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        if (sightings.length) await this.store.phones.recordSightings(sightings);
        if (events.length) await this.store.audit.append(events);
      } catch (err) {
        this.log.error({ err: (err as Error).message, events: events.length, sightings: sightings.length }, 'audit batch could not be stored');
      }
    });
    return this.flushing;
  }
}
