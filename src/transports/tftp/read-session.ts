// ReadSession: sends a file, RRQ on the server side (RFC 1350 §2 lock-step; RFC 7440 windowsize:
// up to N blocks in flight, restarting after the block the peer ACKs). It holds at most one window
// of blocks read and not yet ACKed, and never resends on a duplicate ACK (RFC 1123 §4.2.3.1).
// Timers, retries and the ending are SessionBase's (session.ts).
import { DATA_HEADROOM, dataHeader, TFTP_ERR, writeDataHeader, type Packet } from './packet.ts';
import { SessionBase, type SessionConfig, type SessionHooks } from './session.ts';

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
