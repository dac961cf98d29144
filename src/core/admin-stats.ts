// What a dashboard draws (issue 15 "Resources": counts by model, version and health, and a time
// series of requests and refusals), through the admin service. Counts come from the inventory.
// The time series comes from the transfer audit, not the boot service's Prometheus counters:
// those are per process, hold no time and start at zero on every restart, while the audit is in
// the store every node writes to. A refusal is an audit event with an error code.
import type { AuditEvent, Phone } from '../domain.ts';
import type { Store } from '../store/store.ts';

/** A phone is stale when the boot server has not seen it for this long (phones poll at least daily). */
export const STALE_AFTER_MS = 7 * 24 * 3600_000;
/** Audit events read for one time series at most (the store's own row bound). */
export const MAX_SERIES_EVENTS = 100_000;
/** Buckets in one series at most. */
export const MAX_BUCKETS = 1_000;

export type Health = 'ok' | 'error' | 'stale';

export interface Counts {
  phones: number;
  byModel: Record<string, number>;
  byVersion: Record<string, number>;
  byHealth: Record<Health, number>;
}

export interface SeriesBucket {
  start: Date;
  requests: number;
  refusals: number;
  /** Refusals by error code. */
  byCode: Record<string, number>;
}

export interface Series {
  source: 'audit';
  since: Date;
  until: Date;
  bucketSeconds: number;
  buckets: SeriesBucket[];
  /** True when the window held more events than one series reads: the counts are a lower bound. */
  truncated: boolean;
}

/** A phone's health: an error it reported last, silence for a week, or fine. */
export function healthOf(p: Phone, now: Date): Health {
  if (p.lastError) return 'error';
  if (now.getTime() - p.lastSeen.getTime() > STALE_AFTER_MS) return 'stale';
  return 'ok';
}

export class AdminStats {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Counts over the inventory, or over the phones `include` keeps (a tenant's). */
  async counts(include?: (p: Phone) => boolean): Promise<Counts> {
    const now = this.clock();
    const out: Counts = { phones: 0, byModel: {}, byVersion: {}, byHealth: { ok: 0, error: 0, stale: 0 } };
    for (const p of await this.store.phones.list()) {
      if (include && !include(p)) continue;
      out.phones++;
      const model = p.model ?? 'unknown';
      const version = p.appVersion ?? 'unknown';
      out.byModel[model] = (out.byModel[model] ?? 0) + 1;
      out.byVersion[version] = (out.byVersion[version] ?? 0) + 1;
      out.byHealth[healthOf(p, now)]++;
    }
    return out;
  }

  /**
   * Requests and refusals per bucket over [since, until). `include` keeps the events of some
   * phones only (a tenant's; events without a MAC are then left out).
   */
  async requests(q: { since?: Date; until?: Date; bucketSeconds?: number }, include?: (e: AuditEvent) => boolean): Promise<Series> {
    const until = q.until ?? this.clock();
    const since = q.since ?? new Date(until.getTime() - 24 * 3600_000);
    const span = Math.max(1, until.getTime() - since.getTime());
    const bucketSeconds = Math.max(q.bucketSeconds ?? 3600, Math.ceil(span / 1000 / MAX_BUCKETS));
    const width = bucketSeconds * 1000;
    const n = Math.max(1, Math.ceil(span / width));
    const buckets: SeriesBucket[] = Array.from({ length: n }, (_, i) => ({ start: new Date(since.getTime() + i * width), requests: 0, refusals: 0, byCode: {} }));
    const events = await this.store.audit.query({ since, until, limit: MAX_SERIES_EVENTS });
    for (const e of events) {
      const t = e.at.getTime();
      if (t < since.getTime() || t >= until.getTime()) continue;
      if (include && !include(e)) continue;
      const b = buckets[Math.floor((t - since.getTime()) / width)]!;
      b.requests++;
      if (e.code !== undefined) {
        b.refusals++;
        b.byCode[e.code] = (b.byCode[e.code] ?? 0) + 1;
      }
    }
    return { source: 'audit', since, until, bucketSeconds, buckets, truncated: events.length >= MAX_SERIES_EVENTS };
  }
}
