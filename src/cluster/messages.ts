// What the `serve --workers N` primary and its workers say to each other over the cluster IPC
// channel (issue 16, One machine, every core). Plain JSON. The only per-request messages are a
// Digest nonce used on a worker other than its issuer's (digest-auth.ts): `nonce?` to the primary,
// which passes it to the issuing worker, and its `nonce!` back the same way; and TLS session-ID
// resumption (tls-session-relay.ts): `tls+` puts a new session in the primary's one cache, `tls?`
// asks it for one, answered `tls!`. TFTP and the admin
// listener run in one worker at a time, the holder (solo-role.ts): `init` or `solo` tells a worker
// to open them, at the addresses the first holder got; `standby` to make ready to.
import type { MetricsSnapshot } from '../core/metrics.ts';
import type { Listening, SoloAt } from '../server.ts';

export type FromWorker =
  /** The worker listens for the primary's messages (one sent earlier would be lost): send `init`. */
  | { t: 'hello' }
  /** The worker listens; the holder's list holds every listener (it alone opens TFTP and admin). */
  | { t: 'ready'; listening: Listening[]; warnings: string[] }
  /** The worker opened TFTP and the admin listener it was handed (`solo`), or could not. */
  | { t: 'solo!'; listening: Listening[] }
  | { t: 'solo-failed'; text: string }
  /** The worker could not start: the error as the CLI prints it, its code, then the worker exits. */
  | { t: 'failed'; code?: string; text: string }
  /** This worker's counters, sent when they changed (at most every METRICS_PUSH_MS). */
  | { t: 'metrics'; snapshot: MetricsSnapshot }
  /** Count this use of worker `slot`'s nonce there (sent by the worker that received it). */
  | { t: 'nonce?'; id: number; slot: number; nonce: string; nc: number }
  /** The issuing worker's verdict on a `nonce?` the primary passed it (`from`: the asking worker's slot). */
  | { t: 'nonce!'; id: number; from: number; verdict: NonceVerdict }
  /** Keep this TLS session (key: listener kind and session ID; data: the DER SSL_SESSION, base64; never logged). */
  | { t: 'tls+'; key: string; data: string }
  /** The TLS session under `key`: answer `tls!` with the same id. */
  | { t: 'tls?'; id: number; key: string };

export type NonceVerdict = 'ok' | 'replayed' | 'stale';

export type ToWorker =
  /**
   * The answer to `hello`: the TLS session ticket keys every worker shares (hex, 48 bytes), the base
   * of every worker's TLS sessionIdContext (tls-session-cache.ts), and `solo` when this worker opens
   * TFTP and the admin listener at its start (no other worker holds them).
   */
  | { t: 'init'; ticketKeys: string; sessionIdContext: string; solo?: SoloAt }
  /** To a started worker: the holder of TFTP and the admin listener died; open them now at `at`. */
  | { t: 'solo'; at: SoloAt }
  /** To the standby (the next holder): load their code and build the admin app now, unopened. */
  | { t: 'standby' }
  /** To the holder, which serves /metrics: the sum of every other worker's counters, those of workers gone included. */
  | { t: 'others'; snapshot: MetricsSnapshot }
  /** Close the listeners (in-flight transfers get their grace period) and exit. */
  | { t: 'stop' }
  /** To the issuing worker: count this use of its nonce; answer `nonce!` with the same id and from. */
  | { t: 'nonce?'; id: number; from: number; nonce: string; nc: number }
  /** To the asking worker: the issuer's verdict (stale when the issuer is gone). */
  | { t: 'nonce!'; id: number; verdict: NonceVerdict }
  /** The primary's answer to `tls?`: the session (base64), absent on a miss. */
  | { t: 'tls!'; id: number; data?: string };

/** How long a worker waits for a sibling's verdict before answering stale=true. */
export const NONCE_ASK_TIMEOUT_MS = 1000;

/** How long a worker waits for the primary's `tls!` before a miss (the phone then makes a full handshake). */
export const TLS_SESSION_ASK_TIMEOUT_MS = 250;

export const METRICS_PUSH_MS = 250;

/** Environment variable carrying the checked ServerOptions (JSON) from the primary to a worker. */
export const WORKER_OPTIONS_ENV = 'POLYPROV_WORKER_OPTIONS';
