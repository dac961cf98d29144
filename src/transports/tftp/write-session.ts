// WriteSession: receives a file, WRQ on the server side. It ACKs every windowsize-th block, the
// last one, or the last in-order block at a gap (RFC 7440 §4), queues at most two windows while its
// sink pushes back, and dallies after the final ACK to re-ACK a resent last block (RFC 1350 §6).
// Timers, retries and the ending are SessionBase's (session.ts).
import { encodeAck, TFTP_ERR, type Packet } from './packet.ts';
import { SessionBase, type EndReason, type SessionConfig, type SessionError, type SessionHooks } from './session.ts';

/** Where a write's content goes. */
export interface BlockSink {
  /** Takes the next chunk, in order. A returned promise holds further DATA until it settles. */
  write(chunk: Buffer): void | Promise<void>;
  /** After the last block: resolves once stored, or with the ERROR to send instead of the final ACK. */
  end(): Promise<SessionError | undefined>;
  /** The transfer failed; discard what was written. */
  abort(reason: string): void;
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
