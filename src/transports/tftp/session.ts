// The per-transfer TFTP state machines: ReadSession sends a file (RRQ), WriteSession receives one
// (WRQ). They take a content source or sink and a send function; they know no files, sockets or
// core, so tests drive them with a simulated lossy network and a virtual clock.
//
// Rules they follow, with their sources:
// - Lock-step transfer, one block in flight, blocks numbered from 1 (RFC 1350 §2). With RFC 7440
//   windowsize N, up to N blocks in flight; the receiver ACKs every Nth block, the last block, or
//   the last in-order block when it sees a gap; the sender restarts from the block after the one ACKed.
// - Only a timeout retransmits. A duplicate ACK never triggers a send, which is the fix for the
//   Sorcerer's Apprentice bug (RFC 1123 §4.2.3.1). Timeouts back off exponentially and give up
//   after a bounded number of retries.
// - Block numbers are 16 bits and roll over 65535 → 0 for files over 32 MB at 512 bytes, as
//   tftp-hpa and atftp expect. Sessions count blocks in absolute numbers and map the wire's 16 bits
//   onto the window they expect, so a stale ACK from 65536 blocks ago cannot be mistaken.
// - Memory per session is bounded: a ReadSession holds at most one window of blocks (the ones
//   sent and not yet ACKed); a WriteSession queues at most two windows while its sink pushes back.
// - The receiver of the last block dallies (RFC 1350 §6) to re-ACK it if the final ACK was lost.
import { DATA_HEADROOM, dataHeader, encodeAck, encodeError, encodeOack, TFTP_ERR, writeDataHeader, type Packet } from './packet.ts';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Sequential content for a read. */
export interface BlockSource {
  /** Exactly `n` bytes of payload, fewer only at the end (empty past it); `framed`: after DATA_HEADROOM bytes. */
  read(n: number): Promise<Buffer>;
  /** The same, without waiting: undefined when the bytes are not buffered yet. Optional. */
  readSync?(n: number): Buffer | undefined;
  /** Releases the content; called once when the session ends. */
  close(): void;
  /**
   * Blocks are whole DATA datagrams with room for the header, which the session writes in place:
   * one buffer per send costs less than a header allocation and a two-buffer send (bench/tftp.ts).
   */
  readonly framed?: boolean;
}


/** Where a write's content goes. */
export interface BlockSink {
  /** Takes the next chunk, in order. A returned promise holds further DATA until it settles. */
  write(chunk: Buffer): void | Promise<void>;
  /** After the last block: resolves once stored, or with the ERROR to send instead of the final ACK. */
  end(): Promise<SessionError | undefined>;
  /** The transfer failed; discard what was written. */
  abort(reason: string): void;
}

export interface SessionError {
  code: number;
  message: string;
}

export interface SessionConfig {
  blksize: number;
  windowsize: number;
  /** First retransmission timeout. */
  timeoutMs: number;
  /** Retransmissions before giving up. */
  retries: number;
  /** OACK to send first (RFC 2347); absent or empty: start with DATA 1 / ACK 0. */
  oack?: ReadonlyMap<string, string>;
}

export type EndReason = 'complete' | 'timeout' | 'peer-error' | 'content-error' | 'protocol' | 'cancelled';

export interface SessionOutcome {
  ok: boolean;
  reason: EndReason;
  /** Payload bytes confirmed by the peer (read) or accepted from it (write). */
  bytes: number;
  /** The ERROR sent to or received from the peer, if any. */
  error?: SessionError;
}

export interface SessionHooks {
  /** Sends one datagram to the peer's TID. An array is sent as one datagram (header + payload). */
  send(datagram: Buffer | Buffer[]): void;
  /** Once, when the transfer's fate is known (before any dally). */
  onEnd(outcome: SessionOutcome): void;
  /** Once, when the session needs its socket no more. */
  onClose(): void;
  clock?: Clock;
}

export interface SessionStats {
  /** DATA datagrams sent (read) or ACKs sent (write), retransmissions included. */
  sent: number;
  retransmits: number;
  timeouts: number;
}

/** Back-off never exceeds this, so a 20-retry session still ends in minutes. */
const MAX_BACKOFF_MS = 30_000;

/** Shared timer, retry and ending logic. */
abstract class SessionBase {
  readonly stats: SessionStats = { sent: 0, retransmits: 0, timeouts: 0 };
  protected readonly clock: Clock;
  protected readonly cfg: SessionConfig;
  protected readonly hooks: SessionHooks;
  protected ended = false;
  protected closed = false;
  protected bytes = 0;
  private currentTimeoutMs: number;
  private retriesUsed = 0;
  private deadline = 0;
  private timer: unknown = undefined;

  constructor(cfg: SessionConfig, hooks: SessionHooks) {
    this.cfg = cfg;
    this.hooks = hooks;
    this.clock = hooks.clock ?? realClock;
    this.currentTimeoutMs = cfg.timeoutMs;
  }

  abstract start(): void;
  abstract receive(p: Packet): void;
  protected abstract retransmit(): void;

  /** Progress was made: reset the back-off and restart the timeout. */
  protected progress(): void {
    this.retriesUsed = 0;
    this.currentTimeoutMs = this.cfg.timeoutMs;
    this.arm();
  }

  /**
   * Re-arming a Node timer per block is measurable at tens of thousands of packets a second
   * (bench/tftp.ts), so the deadline moves and the one timer re-checks it when it fires.
   */
  protected arm(): void {
    this.deadline = this.clock.now() + this.currentTimeoutMs;
    if (this.timer === undefined) this.timer = this.clock.setTimeout(this.onTimer, this.currentTimeoutMs);
  }

  protected disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    const left = this.deadline - this.clock.now();
    if (left > 0.5) {
      this.timer = this.clock.setTimeout(this.onTimer, left);
      return;
    }
    this.stats.timeouts++;
    if (this.ended) {
      // Dally over (write) or nothing left to wait for.
      this.close();
      return;
    }
    if (this.retriesUsed >= this.cfg.retries) {
      this.fail('timeout', { code: TFTP_ERR.NOT_DEFINED, message: 'transfer timed out' }, true);
      return;
    }
    this.retriesUsed++;
    this.currentTimeoutMs = Math.min(this.currentTimeoutMs * 2, Math.max(MAX_BACKOFF_MS, this.cfg.timeoutMs));
    this.arm();
    this.retransmit();
  };

  protected sendError(error: SessionError): void {
    this.hooks.send(encodeError(error.code, error.message));
  }

  /** Ends the transfer as failed; `tell` sends the ERROR to the peer (never in reply to an ERROR). */
  fail(reason: EndReason, error: SessionError, tell: boolean): void {
    if (this.ended) return;
    if (tell) this.sendError(error);
    this.ended = true;
    this.cleanup(reason);
    this.hooks.onEnd({ ok: false, reason, bytes: this.bytes, error });
    this.close();
  }

  /** Server shutdown or the content went away: ERROR 0 to the peer, then close. */
  cancel(message = 'server shutting down'): void {
    this.fail('cancelled', { code: TFTP_ERR.NOT_DEFINED, message }, true);
  }

  protected abstract cleanup(reason: EndReason): void;

  protected succeed(): void {
    this.ended = true;
    this.cleanup('complete');
    this.hooks.onEnd({ ok: true, reason: 'complete', bytes: this.bytes });
  }

  protected close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    this.hooks.onClose();
  }

  protected onPeerError(p: { code: number; message: string }): void {
    this.fail('peer-error', { code: p.code, message: p.message }, false);
  }

  protected sendOack(): void {
    this.hooks.send(encodeOack(new Map(this.cfg.oack)));
  }
}

/** Sends a file: RRQ on the server side. */
export class ReadSession extends SessionBase {
  /** Lowest absolute block not yet ACKed; 0 while waiting for the ACK of an OACK. */
  private base = 1;
  /** Next absolute block to send. */
  private next = 1;
  /** Blocks base .. base+window.length-1, read and not yet ACKed (at most one window). */
  private window: Buffer[] = [];
  /** Absolute number of the final (short) block, once read. */
  private last = Number.POSITIVE_INFINITY;
  private awaitingOack = false;
  /** A source.read() is in flight. */
  private reading = false;
  private readonly source: BlockSource;
  private readonly head: number; // DATA_HEADROOM for a framed source, else 0

  constructor(source: BlockSource, cfg: SessionConfig, hooks: SessionHooks) {
    super(cfg, hooks);
    this.source = source;
    this.head = source.framed ? DATA_HEADROOM : 0;
  }

  start(): void {
    if (this.cfg.oack && this.cfg.oack.size > 0) {
      this.awaitingOack = true;
      this.sendOack();
      this.progress();
    } else {
      this.progress();
      this.pump();
    }
  }

  receive(p: Packet): void {
    if (this.ended) return;
    if (p.op === 'ERROR') return this.onPeerError(p);
    if (p.op !== 'ACK') return; // Anything else from the peer's TID is ignored; the timeout recovers.
    if (this.awaitingOack) {
      // RFC 2347 §2: the client acknowledges the OACK with ACK 0.
      if (p.block !== 0) return;
      this.awaitingOack = false;
      this.progress();
      this.pump();
      return;
    }
    // Map the 16-bit number onto base-1 .. next-1, the only ACKs that can be current.
    const lo = this.base - 1;
    const abs = lo + ((p.block - lo) & 0xffff);
    if (abs > this.next - 1) return; // ACK for a block never sent: stale, from an earlier wrap.
    if (abs === lo) return; // Duplicate ACK: never resend on it (RFC 1123 §4.2.3.1).
    this.bytes += this.ackedBytes(abs);
    // shift() for the lock-step case: splice() would allocate the array it returns, per ACK.
    if (abs - lo === 1) this.window.shift();
    else this.window.splice(0, abs - lo);
    this.base = abs + 1;
    if (abs >= this.last) {
      this.succeed();
      this.close();
      return;
    }
    // RFC 7440 §4: an ACK inside the window means the peer lost the next block; go on from there.
    if (this.next > this.base) this.stats.retransmits += this.next - this.base;
    this.next = this.base;
    this.progress();
    this.pump();
  }

  private ackedBytes(abs: number): number {
    let n = 0;
    for (let i = 0; i <= abs - this.base; i++) n += this.window[i].length - this.head;
    return n;
  }

  protected retransmit(): void {
    if (this.awaitingOack) {
      this.stats.retransmits++;
      this.sendOack();
      return;
    }
    // Resend the unacknowledged part of the window, from its first block.
    this.stats.retransmits += Math.max(0, this.next - this.base);
    this.next = this.base;
    this.pump();
  }

  /**
   * Sends blocks next .. end of window, reading ahead at most one window. Synchronous while the
   * source has data buffered: an await per block costs a visible share of a lock-step round
   * trip (bench/tftp.ts, "5 MB, blksize 1468").
   */
  private pump(): void {
    if (this.reading) return; // The read in flight calls pump() when it lands.
    while (!this.ended && this.next < this.base + this.cfg.windowsize && this.next <= this.last) {
      const block = this.window[this.next - this.base];
      if (block === undefined) {
        const ready = this.source.readSync?.(this.cfg.blksize);
        if (ready === undefined) return this.fetch();
        this.accept(ready);
        continue;
      }
      this.stats.sent++;
      if (this.head !== 0) {
        // RFC 1350 §5 DATA header, written in place; a resend rewrites the same bytes.
        writeDataHeader(block, this.next);
        this.hooks.send(block);
      } else {
        this.hooks.send([dataHeader(this.next), block]);
      }
      this.next++;
    }
  }

  private fetch(): void {
    this.reading = true;
    this.source.read(this.cfg.blksize).then(
      (block) => {
        this.reading = false;
        if (this.ended) return;
        this.accept(block);
        this.pump();
      },
      (err: unknown) => {
        this.reading = false;
        this.fail('content-error', { code: TFTP_ERR.NOT_DEFINED, message: `read failed: ${(err as Error).message}` }, true);
      },
    );
  }

  /** Appends the next block read; a short one is the last (RFC 1350 §6). */
  private accept(block: Buffer): void {
    if (block.length - this.head < this.cfg.blksize) this.last = this.base + this.window.length;
    this.window.push(block);
  }

  protected cleanup(): void {
    this.window = [];
    this.source.close();
  }
}

/** Receives a file: WRQ on the server side. */
export class WriteSession extends SessionBase {
  /** Next absolute block expected. */
  private expected = 1;
  /** Last absolute block ACKed (0: the ACK 0 or OACK that answered the WRQ). */
  private lastAckSent = 0;
  /** The block after which a gap ACK was sent, so one gap gets one ACK. */
  private gapAckedAt = -1;
  private waitingSink = false;
  private queue: Buffer[] = [];
  private finishing = false;
  private readonly sink: BlockSink;

  constructor(sink: BlockSink, cfg: SessionConfig, hooks: SessionHooks) {
    super(cfg, hooks);
    this.sink = sink;
  }

  start(): void {
    // RFC 2347 §2: an OACK answers the WRQ instead of ACK 0; the client then sends DATA 1.
    this.sendAnswer();
    this.progress();
  }

  private sendAnswer(): void {
    if (this.cfg.oack && this.cfg.oack.size > 0) this.sendOack();
    else this.sendAck(0);
  }

  private sendAck(abs: number): void {
    this.stats.sent++;
    this.lastAckSent = abs;
    this.hooks.send(encodeAck(abs));
  }

  receive(p: Packet): void {
    if (this.closed) return;
    if (p.op === 'ERROR') return this.onPeerError(p);
    if (p.op !== 'DATA') return;
    if (this.ended) {
      // Dallying: the final ACK was lost if the peer resends the final block (RFC 1350 §6).
      if (this.lastAckSent > 0 && ((p.block - this.lastAckSent) & 0xffff) === 0) this.hooks.send(encodeAck(this.lastAckSent));
      return;
    }
    if (this.finishing) return;
    if (this.waitingSink) {
      // Two windows of queue; beyond that the peer is ahead of its window, drop and let it retry.
      if (this.queue.length < 2 * this.cfg.windowsize + 2) this.queue.push(encodeBlock(p.block, p.data));
      return;
    }
    this.onData(p.block, p.data);
  }

  private onData(block16: number, data: Buffer): void {
    if (data.length > this.cfg.blksize) {
      this.fail('protocol', { code: TFTP_ERR.ILLEGAL_OPERATION, message: `DATA of ${data.length} bytes exceeds blksize ${this.cfg.blksize}` }, true);
      return;
    }
    // Signed distance from the expected block, across the 65535 → 0 wrap.
    const diff = ((block16 - this.expected + 0x8000) & 0xffff) - 0x8000;
    if (diff < 0) {
      // A block we already have. Only a repeat of the last ACKed one means our ACK was lost.
      if (this.expected + diff === this.lastAckSent) {
        this.stats.retransmits++;
        this.sendAck(this.lastAckSent);
      }
      return;
    }
    if (diff > 0) {
      // RFC 7440 §4: a gap; ACK the last in-order block once, the sender restarts after it.
      if (this.gapAckedAt !== this.expected) {
        this.gapAckedAt = this.expected;
        this.sendAck(this.expected - 1);
      }
      return;
    }
    this.expected++;
    this.bytes += data.length;
    let pending: void | Promise<void>;
    try {
      pending = this.sink.write(data);
    } catch (err) {
      this.sinkFailed(err);
      return;
    }
    if (data.length < this.cfg.blksize) {
      this.finishing = true;
      this.disarm();
      void Promise.resolve(pending)
        .then(() => this.sink.end())
        .then(
          (error) => this.finish(error),
          (err) => this.sinkFailed(err),
        );
      return;
    }
    if (this.expected - 1 - this.lastAckSent >= this.cfg.windowsize) this.sendAck(this.expected - 1);
    this.progress();
    if (pending !== undefined) {
      this.waitingSink = true;
      pending.then(
        () => {
          this.waitingSink = false;
          this.drainQueue();
        },
        (err) => this.sinkFailed(err),
      );
    }
  }

  private drainQueue(): void {
    while (!this.ended && !this.finishing && !this.waitingSink && this.queue.length > 0) {
      const b = this.queue.shift()!;
      this.onData(b.readUInt16BE(0), b.subarray(2));
    }
  }

  private finish(error: SessionError | undefined): void {
    if (this.ended) return;
    if (error) {
      this.fail('content-error', error, true);
      return;
    }
    this.sendAck(this.expected - 1);
    this.succeed();
    // Dally one timeout to re-ACK a resent final block, then close.
    this.arm();
  }

  private sinkFailed(err: unknown): void {
    this.fail('content-error', { code: TFTP_ERR.DISK_FULL, message: `write failed: ${(err as Error)?.message ?? err}` }, true);
  }

  protected retransmit(): void {
    this.stats.retransmits++;
    // RFC 1350 §6: the receiver times out too and repeats its last answer.
    if (this.expected === 1) this.sendAnswer();
    else this.sendAck(this.expected - 1);
  }

  protected cleanup(reason: EndReason): void {
    this.queue = [];
    if (reason !== 'complete') this.sink.abort(reason);
  }
}

function encodeBlock(block16: number, data: Buffer): Buffer {
  const b = Buffer.allocUnsafe(2 + data.length);
  b.writeUInt16BE(block16, 0);
  data.copy(b, 2);
  return b;
}
