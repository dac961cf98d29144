// What the per-transfer TFTP state machines share: their configuration, outcome and hooks, and
// SessionBase, which owns the retransmission timer, the back-off, the retry budget and how a
// transfer ends. ReadSession (read-session.ts) sends a file (RRQ), WriteSession (write-session.ts)
// receives one (WRQ). They take a content source or sink and a send function; they know no files,
// sockets or core, so tests drive them with a simulated lossy network and a virtual clock.
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
import type { Clock } from '../../domain.ts';
import { monotonicClock } from '../../util/clock.ts';
import { encodeError, encodeOack, TFTP_ERR, type Packet } from './packet.ts';

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
export abstract class SessionBase {
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
    this.clock = hooks.clock ?? monotonicClock;
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
