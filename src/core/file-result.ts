// The two shapes of a served file: content the core holds in memory (small tree files, stored
// uploads, a rendered enrolment) and a tree file streamed from disk (images). Each carries its
// own completion: the adapter calls `done(outcome)` once when the transfer ends, and the core
// records it then. Classes rather than object literals with closures: a read allocates one
// object and no functions (bench: `npm run bench -- http`).
import { Readable } from 'node:stream';
import type { RequestContext } from './context.ts';
import type { Records } from './record.ts';
import type { ByteRange, FileResult, TransferOutcome } from './request.ts';
import type { TreeFile, TreeFiles } from '../config/tree-source.ts';

abstract class ServedFile {
  readonly kind = 'file' as const;
  mac?: string;
  directory?: boolean;
  #records: Records | undefined;
  #ctx: RequestContext | undefined;

  constructor(
    readonly size: number,
    readonly mtime: Date,
    readonly etag: string,
    ctx: RequestContext,
    records: Records | undefined,
  ) {
    this.mac = ctx.id.mac;
    // A stat transfers nothing and is not recorded: no completion to wait for.
    if (records) {
      this.#records = records;
      this.#ctx = ctx;
      records.started();
    }
  }

  /** Names the phone whose file this is (a stored upload), for the adapter's logs. */
  named(mac: string): this {
    this.mac = mac;
    return this;
  }

  done(outcome: TransferOutcome): void {
    const records = this.#records;
    if (!records) return;
    this.#records = undefined;
    records.finished(this.#ctx!, outcome);
  }
}

/** Content already in memory: adapters send `body` directly. */
export class MemoryFile extends ServedFile implements FileResult {
  constructor(
    readonly body: Buffer,
    mtime: Date,
    etag: string,
    ctx: RequestContext,
    records: Records | undefined,
  ) {
    super(body.length, mtime, etag, ctx, records);
  }

  open(range?: ByteRange): Readable {
    const b = this.body;
    return Readable.from(range ? [b.subarray(range.start, range.end + 1)] : [b], { objectMode: false });
  }
}

/** A tree file read from disk when asked: a stream, or chunks in reused buffers. */
export class StreamedFile extends ServedFile implements FileResult {
  constructor(
    private readonly tree: TreeFiles,
    private readonly file: TreeFile,
    ctx: RequestContext,
    records: Records | undefined,
  ) {
    super(file.size, file.mtime, file.etag, ctx, records);
  }

  open(range?: ByteRange): Readable {
    return this.tree.open(this.file, range);
  }

  chunks(range?: ByteRange): AsyncIterable<Buffer> {
    return this.tree.chunks(this.file, range);
  }
}

/** A directory answered to a `stat` (FTP CWD, the login check): nothing to send. */
export class DirectoryStat extends ServedFile implements FileResult {
  constructor(mtime: Date, etag: string, ctx: RequestContext) {
    super(0, mtime, etag, ctx, undefined);
    this.directory = true;
  }

  open(): Readable {
    return Readable.from([]);
  }
}
