// The audit spool: where audit records and inventory sightings wait, on the local disk, while the
// store is unavailable (issue 13 item 13: "audit records are spooled to the data directory while
// the database is away and written when it returns, not dropped").
//
// Each process appends JSON lines to its own file, `<data>/audit-spool/<pid>.<token>.jsonl`, so
// several processes sharing one data directory (a server and a CLI command, or several workers)
// never interleave. A file whose process is gone (it exited or was killed during an outage) is
// adopted by the next process that opens the spool: renamed to a name of its own (the rename is
// the claim, so two processes never both adopt it) and drained with the rest.
//
// Draining writes batches in the order they were spooled and records after each batch how far it
// got (`<file>.offset`), so a drain interrupted by the store going away again, or by the process
// being killed, resumes after the last stored batch; a kill between a stored batch and its offset
// write stores that one batch twice, the only duplication possible.
//
// Bounded: a process's own file stops growing at `maxBytes` (64 MiB by default, some 250,000
// records). Past the cap, newer records are dropped and counted; one PP_STORE_SPOOL_FULL line is
// logged when the cap is first hit and one when the spool drains, with the count and time span.
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { appendFile, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditEvent, Sighting } from '../domain.ts';

export const SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** Records per store call when draining (the recorder's live batches are of the same order). */
const DRAIN_BATCH = 1000;

/**
 * A record a line, or (`b`) a whole journal batch in one line with its ids: drained as one
 * `audit.record(…, ids)` call, which the store skips when it applied those ids already — a write
 * reported failed that had in fact committed (the connection lost after COMMIT) is not counted twice.
 */
type Line = { e: AuditEvent } | { s: Sighting } | { b: string[]; be: AuditEvent[]; bs: Sighting[] };

export interface SpoolDrop {
  dropped: number;
  first: Date;
  last: Date;
}

/** Writes drained records to the store; each throws when the store is unavailable again. */
export interface SpoolWriter {
  sightings(list: Sighting[]): Promise<void>;
  events(list: AuditEvent[]): Promise<void>;
  /** A journal batch with its ids, in one transaction (skipped by the store when already applied). */
  batch(events: AuditEvent[], sightings: Sighting[], ids: string[]): Promise<void>;
}

export class AuditSpool {
  readonly ownFile: string;
  #ownBytes = 0;
  /** Files to drain, oldest first; the own file is drained last (it is the newest). */
  #adopted: string[] = [];
  #drop: SpoolDrop | undefined;
  /** The batch (file and offset) whose sightings are stored but whose events are not yet. */
  #sightingsDone: string | undefined;

  constructor(
    readonly dir: string,
    readonly maxBytes = SPOOL_MAX_BYTES,
  ) {
    this.ownFile = join(dir, `${process.pid}.${randomBytes(6).toString('hex')}.jsonl`);
    this.#adoptOrphans();
  }

  /** True while anything waits to be written to the store. */
  get pending(): boolean {
    return this.#adopted.length > 0 || this.#ownBytes > 0;
  }

  /**
   * Appends records; returns how many did not fit under the cap (or could not be written: a full
   * disk). Never throws: the boot server keeps serving whatever happens to its audit.
   */
  async append(events: AuditEvent[], sightings: Sighting[], ids: readonly string[] = []): Promise<number> {
    // Sightings first, as the recorder writes them, so a drain replays the same order.
    const records = [...sightings, ...events];
    if (ids.length > 0) {
      // A journal batch: one line, all or nothing under the cap.
      const kept = await this.#write(`${JSON.stringify({ b: ids, be: events, bs: sightings })}\n`);
      if (!kept) this.#noteDrop(records.length, records.map((r) => r.at));
      return kept ? 0 : records.length;
    }
    const lines = [...sightings.map((s) => JSON.stringify({ s })), ...events.map((e) => JSON.stringify({ e }))];
    let text = '';
    let bytes = 0;
    let kept = 0;
    for (const l of lines) {
      const n = Buffer.byteLength(l) + 1;
      if (this.#ownBytes + bytes + n > this.maxBytes) break;
      text += `${l}\n`;
      bytes += n;
      kept++;
    }
    if (text && !(await this.#write(text))) kept = 0;
    const dropped = lines.length - kept;
    if (dropped > 0) this.#noteDrop(dropped, records.slice(kept).map((r) => r.at));
    return dropped;
  }

  /** Appends text to this process's file under the cap; false when it does not fit or cannot be written (a full disk). */
  async #write(text: string): Promise<boolean> {
    const bytes = Buffer.byteLength(text);
    if (this.#ownBytes + bytes > this.maxBytes) return false;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      await appendFile(this.ownFile, text, { mode: 0o600 });
      this.#ownBytes += bytes;
      return true;
    } catch {
      return false;
    }
  }

  /** Records dropped since the last call (for the PP_STORE_SPOOL_FULL log line), then forgets them. */
  takeDropped(): SpoolDrop | undefined {
    const d = this.#drop;
    this.#drop = undefined;
    return d;
  }

  get dropping(): boolean {
    return this.#drop !== undefined;
  }

  /**
   * Writes everything spooled through `write`, oldest file first, in batches. Resolves when the
   * spool is empty; rejects with the writer's error (progress kept) when a batch fails.
   */
  async drain(write: SpoolWriter): Promise<number> {
    // A batch cut short between its sightings and its events is retried without the sightings:
    // folded twice, a sighting would count its fetch twice.
    const batch: BatchWriter = async (at, events, sightings, ids) => {
      if (ids) return write.batch(events, sightings, ids);
      if (sightings.length && this.#sightingsDone !== at) await write.sightings(sightings);
      this.#sightingsDone = at;
      if (events.length) await write.events(events);
      this.#sightingsDone = undefined;
    };
    let stored = 0;
    while (this.#adopted.length > 0) {
      const file = this.#adopted[0]!;
      stored += await drainFile(file, batch);
      this.#adopted.shift();
    }
    if (this.#ownBytes > 0) {
      stored += await drainFile(this.ownFile, batch);
      this.#ownBytes = 0;
    }
    return stored;
  }

  #noteDrop(n: number, times: Date[]): void {
    const at = times.map((t) => t.getTime());
    const first = new Date(Math.min(...at));
    const last = new Date(Math.max(...at));
    const d = this.#drop;
    this.#drop = d
      ? { dropped: d.dropped + n, first: d.first < first ? d.first : first, last: d.last > last ? d.last : last }
      : { dropped: n, first, last };
  }

  /** Claims the spool files of processes that are gone (see the top of this file), with their progress. */
  #adoptOrphans(): void {
    // Own files and files this process adopted (`.adopted-N`), which a later process adopts in turn.
    for (const { from, to } of claimOrphans(this.dir, /^(\d+)\.([0-9a-f]+)(?:\.adopted-\d+)?\.jsonl$/, this.ownFile)) {
      try {
        renameSync(`${from}.offset`, `${to}.offset`);
      } catch {
        // no progress recorded: drained from the start
      }
      this.#adopted.push(to);
    }
  }
}

/**
 * Claims, by atomic rename to `<ownFile>.adopted-N.jsonl`, the files in `dir` whose name (`pattern`,
 * the owner's pid in its first group) says their process is gone: one claimant wins when several
 * start together. The spool's files and the audit journal's (audit-journal.ts) are adopted so.
 */
export function claimOrphans(dir: string, pattern: RegExp, ownFile: string): Array<{ from: string; to: string }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const orphans = names.filter((n) => {
    const m = pattern.exec(n);
    return m !== null && join(dir, n) !== ownFile && !processAlive(Number(m[1]), Number(m[1]) === process.pid);
  });
  const claimed: Array<{ from: string; to: string }> = [];
  for (const [i, name] of orphans.sort().entries()) {
    const from = join(dir, name);
    const to = `${ownFile.slice(0, -'.jsonl'.length)}.adopted-${i}.jsonl`;
    try {
      renameSync(from, to);
    } catch {
      continue; // another process claimed it first
    }
    claimed.push({ from, to });
  }
  return claimed;
}

/**
 * Is the process that owns a spool (or journal) file alive? A file named with this process's own pid but
 * not its own token was left by an earlier process that had the same pid (a container
 * restarted after kill -9 often gets pid 1 again): that one is gone.
 */
export function processAlive(pid: number, samePid: boolean): boolean {
  if (samePid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOffset(file: string): Promise<number> {
  try {
    const n = Number((await readFile(`${file}.offset`, 'utf8')).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Drains one spool file from its recorded offset; removes it (and its offset) when done. */
/** Writes one batch, named by where it starts (`file:offset`). */
type BatchWriter = (at: string, events: AuditEvent[], sightings: Sighting[], ids?: string[]) => Promise<void>;

async function drainFile(file: string, write: BatchWriter): Promise<number> {
  let offset = await readOffset(file);
  let stored = 0;
  let events: AuditEvent[] = [];
  let sightings: Sighting[] = [];
  let batchBytes = 0;
  const flush = async (ids?: string[]) => {
    if (events.length + sightings.length > 0) await write(`${file}:${offset}`, events, sightings, ids);
    stored += events.length + sightings.length;
    offset += batchBytes;
    events = [];
    sightings = [];
    batchBytes = 0;
    writeFileSync(`${file}.offset`, String(offset));
  };
  let stream;
  try {
    stream = createReadStream(file, { start: offset });
  } catch {
    return 0;
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const text of lines) {
      const rec = parseLine(text);
      if (rec && 'b' in rec) {
        // A journal batch: what came before it is written first, then the batch alone with its ids.
        await flush();
        events = rec.be;
        sightings = rec.bs;
        batchBytes = Buffer.byteLength(text) + 1;
        await flush(rec.b);
        continue;
      }
      batchBytes += Buffer.byteLength(text) + 1;
      if (rec && 'e' in rec) events.push(rec.e);
      else if (rec) sightings.push(rec.s);
      if (events.length + sightings.length >= DRAIN_BATCH) await flush();
    }
    await flush();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return stored;
    throw err;
  } finally {
    lines.close();
    stream.destroy();
  }
  await unlink(file).catch(() => undefined);
  await unlink(`${file}.offset`).catch(() => undefined);
  return stored;
}

/**
 * Records on disk are plain JSON (JSON.stringify: a Date becomes its ISO string); these give an
 * event or a sighting read back its Date again. Shared with the audit journal (audit-journal.ts).
 */
export function reviveEvent(e: AuditEvent): AuditEvent {
  e.at = new Date(e.at);
  return e;
}

export function reviveSighting(s: Sighting): Sighting {
  s.at = new Date(s.at);
  return s;
}

/** One spooled record with its dates revived; a torn last line (a crash mid-append) is skipped. */
function parseLine(text: string): Line | undefined {
  try {
    const rec = JSON.parse(text) as Line;
    if ('b' in rec) {
      if (!Array.isArray(rec.b) || !Array.isArray(rec.be) || !Array.isArray(rec.bs)) return undefined;
      rec.be.forEach(reviveEvent);
      rec.bs.forEach(reviveSighting);
    } else if ('e' in rec && rec.e) reviveEvent(rec.e);
    else if ('s' in rec && rec.s) reviveSighting(rec.s);
    else return undefined;
    return rec;
  } catch {
    return undefined;
  }
}
