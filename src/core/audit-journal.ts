// The audit write-ahead journal (issue 16, Behaviour under faults: SIGKILL a node mid-storm; "the
// killed node's unflushed audit batch, at most its last 100 ms, is the only loss allowed"). The
// recorder (audit.ts) writes its batches to the store off the serving path; on a loaded machine a
// PostgreSQL write can take 0.5 s, and a killed process lost that write and everything queued
// behind it (249 / 562 ms back). Nothing in-process makes a remote write faster; this journal
// makes the records outlive the process instead.
//
// Each recorder appends to its own file, `<data>/audit-spool/journal-<pid>-<token>.jsonl` (next to
// the spool, audit-spool.ts, whose JSON encoding of records it shares). Records are "sealed" into
// a batch at least every JOURNAL_SEAL_MS while any are queued: the batch gets an id
// (`<token>-<seq>`) and goes to the file as ONE line with ONE synchronous write, before it goes to
// the store. After the store commits a write (or the spool took it while the store is away) a
// "done" line names its batch ids. So a killed process loses only what it had not sealed yet.
//
// No fsync: the journal is for a killed process (SIGKILL, OOM, a crash of node), whose written
// bytes the kernel keeps. A machine crash or power cut may lose the last seconds of it (as it does
// SQLite's last commits with synchronous = NORMAL); an fsync per batch would stall the event loop.
//
// Replay: a recorder starting on the directory adopts the journals of processes that are gone
// (pid not alive, or its own pid with another token: a container's pid 1 again), claimed by
// atomic rename as the spool's files are (one adopter wins; `serve --workers N` workers share the
// data directory, and a restarted worker adopts its predecessor's journal). Every batch without a
// done line is written with its id, one call each: the store skips an id it applied before (the
// write in flight at the kill may have committed), so a request is counted at most once. A torn
// last line (killed mid-write) is skipped. Store away during replay: the file stays, retried later.
//
// Bounded: past JOURNAL_ROTATE_BYTES the file is cut back to the batches still open (truncated when
// none is; else those lines are written to a new file that replaces it by rename).
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent, Sighting } from '../domain.ts';
import { claimOrphans, reviveEvent, reviveSighting } from './audit-spool.ts';

/** Records queued this long are sealed into the journal (a killed process loses at most these). */
export const JOURNAL_SEAL_MS = 25;
/**
 * Records are sealed as soon as this many are queued, sooner than JOURNAL_SEAL_MS on a busy node:
 * a line over ~40 KB costs ~2 µs a record more (bench/audit-journal.ts: V8 builds a long
 * JSON.stringify result in parts, and its first read, the write, copies them together again).
 */
export const JOURNAL_SEAL_MAX_RECORDS = 128;
/** The file is cut back once past this. */
export const JOURNAL_ROTATE_BYTES = 4 * 1024 * 1024;

/**
 * Journals of this process, removed at its exit when nothing in them is open: a server's shutdown
 * flushes its recorder without closing it (BootService.close), and its file would otherwise wait
 * for the next process to adopt and find it empty. A killed process runs no exit handler.
 */
const live = new Set<AuditJournal>();
let exitHook = false;

const NAME = /^journal-(\d+)-([0-9a-f]+)(?:\.adopted-\d+)?\.jsonl$/;

export interface JournalBatch {
  id: string;
  events: AuditEvent[];
  sightings: Sighting[];
}

type Line = { b: string; e: AuditEvent[]; s: Sighting[] } | { d: string[] };

export class AuditJournal {
  readonly file: string;
  readonly #token: string;
  #seq = 0;
  #fd: number | undefined;
  #bytes = 0;
  /** Sealed batches not yet done, with their line (written again when the file is cut back). */
  #open = new Map<string, string>();
  /** Journals of dead processes, claimed, waiting to be replayed (oldest name first). */
  #adopted: string[] = [];
  /** The adopted journal being replayed and what of it is left (kept across a store outage). */
  #replaying: { file: string; batches: JournalBatch[] } | undefined;
  #failing = false;

  constructor(
    readonly dir: string,
    /** Told when the journal cannot be written (once until it can again); the records still go to the store. */
    private readonly onError: (err: Error) => void = () => {},
    readonly rotateBytes = JOURNAL_ROTATE_BYTES,
  ) {
    this.#token = randomBytes(6).toString('hex');
    this.file = join(dir, `journal-${process.pid}-${this.#token}.jsonl`);
    this.#adoptOrphans();
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const j of live) if (j.openBatches === 0) j.close();
      });
    }
  }

  /** True while adopted journals wait to be replayed. */
  get pending(): boolean {
    return this.#adopted.length > 0 || this.#replaying !== undefined;
  }

  /** Sealed batches whose write is not done yet. */
  get openBatches(): number {
    return this.#open.size;
  }

  /** Seals records into a batch: one line, one write, before the batch goes to the store. */
  seal(events: AuditEvent[], sightings: Sighting[]): JournalBatch {
    const id = `${this.#token}-${++this.#seq}`;
    const line = batchLine(id, events, sightings);
    this.#open.set(id, line);
    this.#append(line);
    return { id, events, sightings };
  }

  /** The batches' write is done (stored, or in the spool, or refused and logged): never replayed. */
  done(ids: readonly string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.#open.delete(id);
    this.#append(`${JSON.stringify({ d: ids })}\n`);
    if (this.#bytes >= this.rotateBytes) this.#cutBack();
  }

  /**
   * Writes the adopted journals' open batches through `write`, oldest journal first; each file is
   * removed once replayed. Rejects with the writer's error (what is left kept for the next call).
   */
  async replay(write: (b: JournalBatch) => Promise<void>): Promise<number> {
    let n = 0;
    for (;;) {
      if (!this.#replaying) {
        const file = this.#adopted.shift();
        if (file === undefined) return n;
        this.#replaying = { file, batches: readJournal(file) };
      }
      const r = this.#replaying;
      while (r.batches.length > 0) {
        const b = r.batches[0]!;
        await write(b);
        n += b.events.length + b.sightings.length;
        r.batches.shift();
      }
      removeFile(r.file);
      this.#replaying = undefined;
    }
  }

  /** After the recorder's last write: the file goes (unless a batch is somehow still open). */
  close(): void {
    live.delete(this);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#open.size === 0) removeFile(this.file);
  }

  #append(text: string): void {
    try {
      if (this.#fd === undefined) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.#fd = openSync(this.file, 'a', 0o600);
      }
      let n = writeSync(this.#fd, text);
      const size = Buffer.byteLength(text);
      // A regular file takes the whole write unless the disk is full; a short one is finished here.
      if (n < size) {
        const rest = Buffer.from(text).subarray(n);
        for (let off = 0; off < rest.length; ) off += writeSync(this.#fd, rest, off);
        n = size;
      }
      this.#bytes += n;
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.onError(err as Error);
      this.#failing = true;
    }
  }

  /**
   * Keeps the file bounded. With no batch open it is truncated; otherwise (a slow store keeps some
   * open at every moment under load) the open batches' lines go to a new file that replaces this
   * one by rename, so a kill at any point leaves a journal holding every open batch.
   */
  #cutBack(): void {
    if (this.#fd === undefined) return;
    try {
      if (this.#open.size === 0) {
        ftruncateSync(this.#fd, 0);
        this.#bytes = 0;
        return;
      }
      const text = [...this.#open.values()].join('');
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.file);
      closeSync(this.#fd);
      this.#fd = openSync(this.file, 'a', 0o600);
      this.#bytes = Buffer.byteLength(text);
    } catch (err) {
      if (!this.#failing) this.onError(err as Error);
      this.#failing = true;
    }
  }

  /** Claims the journals of processes that are gone (see the top of this file). */
  #adoptOrphans(): void {
    for (const { to } of claimOrphans(this.dir, NAME, this.file)) this.#adopted.push(to);
  }
}

/**
 * A batch's line: the spool's JSON of events and sightings (audit-spool.ts reviveEvent and
 * reviveSighting read it back), each `at` written as epoch ms rather than a Date's ISO string. One
 * JSON.stringify per batch, never per request; the Dates are swapped for numbers for its duration,
 * because a Date in the objects costs every record a toJSON call off the serializer's fast path:
 * bench/audit-journal.ts measured 2.7-4.5 µs CPU a request with the Dates, 1.2 without them (a
 * copy of each record instead: 1.9).
 */
function batchLine(id: string, events: AuditEvent[], sightings: Sighting[]): string {
  type Timed = { at: Date | number };
  const records: Timed[] = [...events, ...sightings];
  const dates: Date[] = [];
  try {
    for (const r of records) {
      const d = r.at as Date;
      r.at = d.getTime();
      dates.push(d);
    }
    return `${JSON.stringify({ b: id, s: sightings, e: events })}\n`;
  } finally {
    for (let i = 0; i < dates.length; i++) records[i]!.at = dates[i]!;
  }
}

/** A journal's batches without a done line, in the order they were sealed; torn or foreign lines skipped. */
export function readJournal(file: string): JournalBatch[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const open = new Map<string, { e: AuditEvent[]; s: Sighting[] }>();
  for (const l of text.split('\n')) {
    if (!l) continue;
    let rec: Line;
    try {
      rec = JSON.parse(l) as Line;
    } catch {
      continue; // torn: the process was killed in the middle of this write
    }
    if ('b' in rec && typeof rec.b === 'string' && Array.isArray(rec.e) && Array.isArray(rec.s)) open.set(rec.b, rec);
    else if ('d' in rec && Array.isArray(rec.d)) for (const id of rec.d) open.delete(id);
  }
  return [...open].map(([id, b]) => ({ id, events: b.e.map(reviveEvent), sightings: b.s.map(reviveSighting) }));
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}
