// RFC 3261 §17.1.2 non-INVITE client transaction (NOTIFY is non-INVITE, so timers E and F
// apply; timer A belongs to INVITE, §17.1.1).
//
//              Trying ──1xx──▶ Proceeding
//   (E: retransmit, E=min(2E,T2))   (E: retransmit every T2)
//        │                              │
//        └──── 200-699 ──▶ Completed ◀──┘      F (64·T1) in Trying/Proceeding ─▶ timeout
//
// Over TCP/TLS there is no retransmission (§17.1.2.2: "timer E is not started for reliable
// transports"); timer F still bounds the wait. Completed's timer K only exists to absorb
// retransmitted responses; here the flow drops responses for branches nobody listens to,
// which has the same effect, so the transaction ends at the first final response.
import { getHeader, parseCSeq, type SipResponse } from './message.ts';
import type { Flow } from './transport.ts';

export interface TransactionTimers {
  /** RTT estimate, RFC 3261 §17.1.1.1 default 500 ms. */
  t1Ms: number;
  /** Maximum retransmit interval for non-INVITE, default 4 s. */
  t2Ms: number;
  /** Timer F; default 64·T1. */
  timeoutMs?: number;
}

export const DEFAULT_TIMERS: TransactionTimers = { t1Ms: 500, t2Ms: 4000 };

export type TransactionOutcome =
  | { kind: 'response'; response: SipResponse; rttMs: number; transmissions: number; provisional: number }
  | { kind: 'timeout'; elapsedMs: number; transmissions: number; provisional: number }
  | { kind: 'error'; error: string; transmissions: number };

export interface TransactionRequest {
  bytes: Buffer;
  branch: string;
  callId: string;
  cseq: number;
  method: string;
}

/** Ignored responses (wrong Call-ID/CSeq for this branch) are counted here for diagnostics. */
export interface TransactionStats {
  ignored: number;
}

export function runNonInviteTransaction(
  flow: Flow,
  req: TransactionRequest,
  timers: TransactionTimers,
  stats: TransactionStats = { ignored: 0 },
  now: () => number = () => performance.now(),
): Promise<TransactionOutcome> {
  const timeoutMs = timers.timeoutMs ?? 64 * timers.t1Ms;
  return new Promise((resolve) => {
    const started = now();
    let transmissions = 0;
    let provisional = 0;
    let interval = timers.t1Ms;
    let proceeding = false;
    let timerE: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (o: TransactionOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timerE);
      clearTimeout(timerF);
      unsubscribe();
      resolve(o);
    };
    const transmit = (): boolean => {
      try {
        flow.send(req.bytes, (err) => finish({ kind: 'error', error: err.message, transmissions }));
        transmissions++;
        return true;
      } catch (err) {
        finish({ kind: 'error', error: (err as Error).message, transmissions });
        return false;
      }
    };
    const scheduleE = () => {
      timerE = setTimeout(() => {
        if (done) return;
        if (!transmit()) return;
        // §17.1.2.2: in Trying the interval doubles up to T2; in Proceeding it is T2.
        interval = proceeding ? timers.t2Ms : Math.min(2 * interval, timers.t2Ms);
        scheduleE();
      }, interval);
    };

    const unsubscribe = flow.subscribe(req.branch, (r) => {
      // §17.1.3 matches on branch and CSeq method; we also insist on our Call-ID and CSeq
      // number, so a forged or stray response with a guessed branch is ignored.
      const cseq = parseCSeq(getHeader(r, 'CSeq'));
      if (!cseq || cseq.method.toUpperCase() !== req.method.toUpperCase() || cseq.seq !== req.cseq || getHeader(r, 'Call-ID') !== req.callId) {
        stats.ignored++;
        return;
      }
      if (r.status < 200) {
        provisional++;
        proceeding = true; // the next timer E fires at T2
        return;
      }
      finish({ kind: 'response', response: r, rttMs: now() - started, transmissions, provisional });
    });
    const timerF = setTimeout(() => finish({ kind: 'timeout', elapsedMs: now() - started, transmissions, provisional }), timeoutMs);
    flow.onClose((err) => finish({ kind: 'error', error: err?.message ?? 'connection closed', transmissions }));
    if (!transmit()) return;
    if (!flow.reliable) scheduleE();
  });
}
