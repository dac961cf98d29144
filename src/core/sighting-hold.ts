// Inventory sightings of a phone the store already holds, kept back while the phone is busy
// (issue 16, Speed: "Per boot on a warm cache: zero database reads and at most one write batch").
// A boot is a burst of requests — 14 in the three-node bench's application stage — that spans
// several of the recorder's flushes (one every ~100 ms); written as they come, each flush rewrote
// the phone's row (the phones table was written 2.5-3.9 times per warm boot on PostgreSQL, a row
// version and an index entry each). Held here until the phone is quiet for `quietMs` (or has been held
// `maxHoldMs`), the burst is written as one batch of sightings, so one row write per boot.
//
// The fold is order-independent (src/store/fold-sighting.ts), so writing a sighting later changes
// nothing in what the inventory ends up showing. Only what may wait is held: a phone this process
// has not yet written (its row is created at once, so an inventory that lists it never lags
// behind the audit), a boot start, an error, an override's lock flag, a SIP user or port, and a
// master other than the one last written (uploads follow it, issue 13 item 4) all go with the next
// flush, taking the phone's held sightings along. Audit rows are never held. An explicit flush
// (AuditRecorder.flush, close) writes everything held. A killed process loses what it held: the
// last seconds of last-seen and fetch counts of phones already in the inventory, never a phone.
// That is more than issue 16 allows a killed node to lose (its unflushed audit batch, at most its
// last 100 ms), and the goal of one write batch per boot is met without the hold (one transaction
// per flush), so serve holds nothing unless asked: `inventoryHoldMs` (0 by default) trades those
// seconds for one phones-row write per warm boot instead of ~3.9 on PostgreSQL.
import type { Sighting } from '../domain.ts';
import { macKey } from '../store/fold-sighting.ts';

export interface SightingHoldOptions {
  /** A phone with no sighting for this long is written (default 1 s: a boot's requests come closer). */
  quietMs?: number;
  /** A phone held this long is written even while busy (default 4 s). */
  maxHoldMs?: number;
  /** Phones remembered as written, least recently written forgotten first (default 200,000). */
  maxKnown?: number;
  /** Sightings held in all; past it the phone held longest is written (default 20,000). */
  maxHeld?: number;
}

interface Held {
  list: Sighting[];
  first: number;
  last: number;
}

export class SightingHold {
  readonly quietMs: number;
  readonly maxHoldMs: number;
  readonly #maxKnown: number;
  readonly #maxHeld: number;
  /** Phones whose sightings this process handed to the store, with the master last handed (null: none). */
  readonly #known = new Map<string, string | null>();
  /** Held sightings by MAC, in the order phones were first held. */
  readonly #held = new Map<string, Held>();
  #count = 0;

  constructor(o: SightingHoldOptions = {}) {
    this.quietMs = o.quietMs ?? 2_000;
    this.maxHoldMs = o.maxHoldMs ?? 5_000;
    this.#maxKnown = o.maxKnown ?? 200_000;
    this.#maxHeld = o.maxHeld ?? 20_000;
  }

  /** Sightings held now. */
  get size(): number {
    return this.#count;
  }

  /** Takes a sighting; returns what is to be written now (it and the phone's held ones), or [] when held. */
  take(s: Sighting, now: number): Sighting[] {
    if (this.maxHoldMs <= 0) return [s]; // holding off (the default of serve: inventoryHoldMs 0)
    const mac = macKey(s.mac);
    if (this.#urgent(mac, s)) return this.#written([...this.#release(mac), s]);
    const h = this.#held.get(mac);
    if (h) {
      h.list.push(s);
      h.last = now;
    } else this.#held.set(mac, { list: [s], first: now, last: now });
    this.#count++;
    if (this.#count <= this.#maxHeld) return [];
    // Over the bound: the phone held longest goes now.
    return this.#written(this.#release(this.#held.keys().next().value as string));
  }

  /** Removes and returns the held sightings that are due (quiet or held too long), or all of them. */
  due(now: number, all = false): Sighting[] {
    const out: Sighting[] = [];
    for (const [mac, h] of this.#held) {
      if (all || now - h.last >= this.quietMs || now - h.first >= this.maxHoldMs) out.push(...this.#release(mac));
    }
    return this.#written(out);
  }

  /** When the next held phone falls due (ms since the epoch), if any is held. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const h of this.#held.values()) {
      const at = Math.min(h.last + this.quietMs, h.first + this.maxHoldMs);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  #urgent(mac: string, s: Sighting): boolean {
    const master = this.#known.get(mac);
    if (master === undefined) return true; // not yet written by this process: its row first
    return s.bootStart === true || s.error !== undefined || s.overrideLocked !== undefined || s.sipUser !== undefined || s.sipPort !== undefined || (s.master !== undefined && s.master !== master);
  }

  #release(mac: string): Sighting[] {
    const h = this.#held.get(mac);
    if (!h) return [];
    this.#held.delete(mac);
    this.#count -= h.list.length;
    return h.list;
  }

  /** Remembers the phones of sightings handed to the store (and the master each last named). */
  #written(list: Sighting[]): Sighting[] {
    for (const s of list) {
      const mac = macKey(s.mac);
      const master = s.master ?? this.#known.get(mac) ?? null;
      this.#known.delete(mac); // re-inserted: most recently written last
      this.#known.set(mac, master);
    }
    while (this.#known.size > this.#maxKnown) this.#known.delete(this.#known.keys().next().value as string);
    return list;
  }
}
