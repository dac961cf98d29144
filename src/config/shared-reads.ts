// A large file read once for everyone reading it at the same time (issue 14 Scale, server RSS;
// README "The serving path"). In a boot storm 200 phones fetch the same application image at
// once; streamed per request, each held a file handle and up to three chunk buffers (576 KiB)
// and made its own reads — 100+ MB of short-lived buffers at 200 phones, which the collector
// returned late. Here the first reader of a version loads it whole into one buffer, the readers
// that come while it is in use (and for `graceMs` after the last) send slices of that buffer: no
// read, no copy, no allocation per request. TFTP does the same with its datagrams
// (transports/tftp/shared-content.ts).
//
// A version is the file's identity as the tree found it (device, inode, size, mtime, ctime): a
// file replaced or edited is another version, loaded anew; a file that changes while it is read
// is not shared (the caller streams it, as before). Memory is bounded: a file over
// `maxFileBytes`, or one that would take the total over `maxTotalBytes`, is not shared.
import { promises as fsp } from 'node:fs';
import { once } from '../util/once.ts';

export interface SharedReadLimits {
  /** Largest file shared; larger ones stream per request. 0 disables sharing. */
  maxFileBytes: number;
  /** Bytes all shared files may hold together. */
  maxTotalBytes: number;
  /** How long a file stays loaded after its last reader, for the next wave of requests. */
  graceMs: number;
}

export const DEFAULT_SHARED_READS: SharedReadLimits = {
  maxFileBytes: 128 << 20,
  maxTotalBytes: 256 << 20,
  graceMs: 5000,
};

/** The identity of one version of a file (TreeFile has these fields). */
export interface FileVersion {
  abs: string;
  size: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  dev?: number;
}

interface Entry {
  key: string;
  bytes: number;
  loading: Promise<Buffer | undefined>;
  users: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A loaded version, held until released. */
export interface SharedBody {
  body: Buffer;
  release(): void;
}

export class SharedReads {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(private readonly limits: SharedReadLimits = DEFAULT_SHARED_READS) {}

  /** Files loaded now and the bytes they hold (metrics, tests). */
  get held(): { files: number; bytes: number } {
    return { files: this.entries.size, bytes: this.total };
  }

  /**
   * The whole content of this version, shared with its other readers; undefined when it is not
   * shared (too large, over the budget, or changed while it was read): stream it instead.
   */
  async acquire(f: FileVersion): Promise<SharedBody | undefined> {
    if (f.size === 0 || f.size > this.limits.maxFileBytes) return undefined;
    const key = `${f.dev ?? ''}:${f.ino}:${f.size}:${f.mtimeMs}:${f.ctimeMs}:${f.abs}`;
    let e = this.entries.get(key);
    if (!e) {
      if (this.total + f.size > this.limits.maxTotalBytes) return undefined;
      e = { key, bytes: f.size, loading: loadExactly(f), users: 0, timer: undefined };
      this.entries.set(key, e);
      this.total += f.size;
    }
    e.users++;
    if (e.timer) {
      clearTimeout(e.timer);
      e.timer = undefined;
    }
    const entry = e;
    const body = await entry.loading;
    if (!body) {
      entry.users--;
      this.drop(entry);
      return undefined;
    }
    return {
      body,
      release: once(() => {
        if (--entry.users === 0) {
          entry.timer = setTimeout(() => this.drop(entry), this.limits.graceMs);
          entry.timer.unref?.();
        }
      }),
    };
  }

  /** Drops every file no reader holds now (a server closing; tests). */
  clear(): void {
    for (const e of [...this.entries.values()]) if (e.users === 0) this.drop(e);
  }

  private drop(e: Entry): void {
    if (this.entries.get(e.key) !== e) return;
    if (e.timer) clearTimeout(e.timer);
    this.entries.delete(e.key);
    this.total -= e.bytes;
  }
}

/** The file's bytes, provided the file read is still the version named (else undefined). */
async function loadExactly(f: FileVersion): Promise<Buffer | undefined> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(f.abs, 'r');
    const st = await fh.stat();
    if (st.ino !== f.ino || st.size !== f.size || st.mtimeMs !== f.mtimeMs || st.ctimeMs !== f.ctimeMs) return undefined;
    const body = Buffer.allocUnsafeSlow(f.size);
    let pos = 0;
    while (pos < f.size) {
      const { bytesRead } = await fh.read(body, pos, f.size - pos, pos);
      if (bytesRead === 0) return undefined; // shrank under us
      pos += bytesRead;
    }
    const after = await fh.stat();
    // Written to while we read: not this version's bytes for sure.
    if (after.mtimeMs !== f.mtimeMs || after.ctimeMs !== f.ctimeMs || after.size !== f.size) return undefined;
    return body;
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
