// The receiving half of an upload, shared by every backend: chunks are held in memory up to a
// small bound and then go to a temp file under `<data>/tmp/` (memory stays bounded however the
// phone sends), and the size limit is enforced as bytes arrive. The backend's commit then stores
// the (size-capped) bytes in one transaction; only that makes a version.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvError } from '../errors.ts';
import type { StoredFile, UploadKey, UploadOptions, UploadSink } from './store.ts';

// Temp files are named `<pid>.<processToken>.<random>.part`. Several processes may share one data
// directory (the server and a CLI command, or two servers on one host with PostgreSQL), so init()
// removes only files whose process is gone. The token tells this process apart from an earlier
// one that had the same pid (a container restarted after kill -9 often gets pid 1 again).
const PROCESS_TOKEN = randomBytes(6).toString('hex');
/** A temp file this old is abandoned whoever owns it: uploads are size-capped and time-limited. */
const STALE_MS = 24 * 3600_000;

export function tempName(): string {
  return `${process.pid}.${PROCESS_TOKEN}.${randomBytes(8).toString('hex')}.part`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files left by crashed processes; returns how many. Creates the directory. */
export function cleanStaleTemps(tmpDir: string, now = Date.now()): number {
  mkdirSync(tmpDir, { recursive: true });
  let removed = 0;
  for (const name of readdirSync(tmpDir)) {
    const m = /^(\d+)\.([0-9a-f]+)\.[0-9a-f]+\.part$/.exec(name);
    const path = join(tmpDir, name);
    let stale: boolean;
    if (!m) stale = name.endsWith('.part');
    else {
      const pid = Number(m[1]);
      if (pid === process.pid) stale = m[2] !== PROCESS_TOKEN;
      else stale = !processAlive(pid);
      if (!stale) {
        try {
          stale = now - statSync(path).mtimeMs > STALE_MS;
        } catch {
          continue;
        }
      }
    }
    if (!stale) continue;
    try {
      unlinkSync(path);
      removed += 1;
    } catch {
      // Raced with its owner finishing; fine.
    }
  }
  return removed;
}

export type TempState = 'open' | 'committed' | 'aborted';

/**
 * Bytes of one upload kept in memory before it spills to a temp file. Phone uploads are mostly a
 * few KB (overrides, boot logs), and a temp file costs five file-system round trips per upload
 * (open, write, close, read, unlink), which dominated the PUT benchmark; past this size memory
 * per upload stays bounded by this constant and the rest goes to disk.
 */
export const SPOOL_MEMORY_BYTES = 64 * 1024;

/**
 * The bytes of one upload until commit: in memory up to SPOOL_MEMORY_BYTES, then in a temp file
 * under `<data>/tmp/`. write() refuses past opts.maxBytes (and discards everything); finish()
 * returns the bytes; discard() drops them. Nothing here is ever a version: only the backend's
 * commit transaction makes one, so a crash at any point leaves the previous version current.
 */
export class TempUpload {
  #fh: FileHandle | undefined;
  #path: string | undefined;
  #mem: Buffer[] = [];
  #bytes = 0;
  #state: TempState = 'open';
  #chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly tmpDir: string,
    readonly key: UploadKey,
    readonly opts: UploadOptions,
  ) {}

  static async create(tmpDir: string, key: UploadKey, opts: UploadOptions): Promise<TempUpload> {
    return new TempUpload(tmpDir, key, opts);
  }

  get bytes(): number {
    return this.#bytes;
  }

  get state(): TempState {
    return this.#state;
  }

  /** The temp file, once the upload has spilled to disk. */
  get path(): string | undefined {
    return this.#path;
  }

  write(chunk: Buffer): Promise<void> {
    // Serialise writes even if a caller does not await each one, so bytes land in order.
    const p = this.#chain.then(() => this.#write(chunk));
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #write(chunk: Buffer): Promise<void> {
    if (this.#state !== 'open') throw new ProvError('PP_UPLOAD_FAILED', `upload of ${this.key.path} is already ${this.#state}`);
    if (this.#bytes + chunk.length > this.opts.maxBytes) {
      await this.discard();
      throw new ProvError('PP_UPLOAD_TOO_LARGE', `upload of ${this.key.path} is over ${this.opts.maxBytes} bytes; discarded`, {
        hint: 'Raise the upload size limit for this kind of file in the server options if the phone is right to send this much.',
      });
    }
    try {
      if (!this.#fh && this.#bytes + chunk.length <= SPOOL_MEMORY_BYTES) {
        // Copy: the caller may reuse its buffer (stream chunks are often pooled).
        this.#mem.push(Buffer.from(chunk));
      } else {
        if (!this.#fh) await this.#spill();
        await writeAll(this.#fh!, chunk);
      }
    } catch (err) {
      await this.discard();
      throw uploadFailed(this.key, err);
    }
    this.#bytes += chunk.length;
  }

  async #spill(): Promise<void> {
    const path = join(this.tmpDir, tempName());
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
      fh = await open(path, 'wx', 0o600);
    }
    this.#fh = fh;
    this.#path = path;
    for (const b of this.#mem) await writeAll(fh, b);
    this.#mem = [];
  }

  /**
   * Waits for pending writes and returns the received bytes. The temp file is not fsynced: it
   * never becomes the version. The bytes are stored by the backend's commit transaction, whose
   * own sync (SQLite synchronous=FULL for that commit, PostgreSQL's WAL flush) makes them durable.
   */
  async finish(): Promise<Buffer> {
    await this.#chain;
    if (this.#state !== 'open') throw new ProvError('PP_UPLOAD_FAILED', `upload of ${this.key.path} is already ${this.#state}`);
    if (!this.#fh) return this.#mem.length === 1 ? this.#mem[0]! : Buffer.concat(this.#mem, this.#bytes);
    try {
      await this.#fh.close();
      this.#fh = undefined;
      const buf = await readFile(this.#path!);
      if (buf.length !== this.#bytes) throw new Error(`temp file holds ${buf.length} bytes, expected ${this.#bytes}`);
      return buf;
    } catch (err) {
      await this.discard();
      throw uploadFailed(this.key, err);
    }
  }

  /** Marks the upload committed and drops its temp copy (the bytes now live in the store). */
  async done(): Promise<void> {
    this.#state = 'committed';
    this.#mem = [];
    if (this.#path) await unlink(this.#path).catch(() => undefined);
  }

  async discard(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#mem = [];
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => undefined);
    if (this.#path) await unlink(this.#path).catch(() => undefined);
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

export function uploadFailed(key: UploadKey, err: unknown): ProvError {
  if (err instanceof ProvError) return err;
  const e = err as NodeJS.ErrnoException;
  return new ProvError('PP_UPLOAD_FAILED', `cannot store upload of ${key.path}: ${e?.message ?? String(err)}`, {
    cause: err,
    hint: e?.code === 'ENOSPC' ? 'The data directory is full; free space, the previous version is still served.' : undefined,
  });
}

/** The content of a new version: the upload itself, or (append) the current content plus it, trimmed to capBytes. */
export function versionContent(opts: UploadOptions, received: Buffer, current: Buffer | undefined): Buffer {
  if (opts.mode !== 'append') return received;
  const joined = current && current.length > 0 ? Buffer.concat([current, received]) : received;
  const cap = opts.capBytes;
  // Rolling log: keep the newest capBytes bytes.
  return cap !== undefined && joined.length > cap ? Buffer.from(joined.subarray(joined.length - cap)) : joined;
}

/** What a backend does at commit: make `received` the new current version, atomically. */
export type CommitUpload = (temp: TempUpload, received: Buffer, locked: boolean) => StoredFile | Promise<StoredFile>;

/**
 * The UploadSink of both backends: chunks go to a TempUpload (memory, then a spill file);
 * commit() hands the bytes to the backend's one transaction; any failure discards them, so
 * the previous version stays current.
 */
export class TempUploadSink implements UploadSink {
  constructor(
    private readonly temp: TempUpload,
    private readonly commitUpload: CommitUpload,
  ) {}

  get bytes(): number {
    return this.temp.bytes;
  }

  write(chunk: Buffer): Promise<void> {
    return this.temp.write(chunk);
  }

  async commit(meta?: { locked?: boolean }): Promise<StoredFile> {
    const received = await this.temp.finish();
    try {
      const f = await this.commitUpload(this.temp, received, meta?.locked ?? false);
      await this.temp.done();
      return f;
    } catch (err) {
      await this.temp.discard();
      throw err;
    }
  }

  abort(): Promise<void> {
    return this.temp.discard();
  }
}
