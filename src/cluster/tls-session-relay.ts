// A worker's TLS session store under `serve --workers N` (issue 16, One machine: a phone that
// resumes by session ID, not by ticket, resumes on whichever worker its next connection reaches).
// The one cache is the primary's (primary.ts); a worker puts each new session there (`tls+`, not
// waited for: the put leaves before the handshake that made the session ends, so before the phone
// can reconnect, and the primary reads it before the handle of that next connection) and asks on
// each resumption (`tls?`). No answer within TLS_SESSION_ASK_TIMEOUT_MS, or no primary, is a miss:
// a full handshake, never a hang. The session data is never logged.
import { TLS_SESSION_LIMITS, type TlsSessionStore } from '../util/tls-session-cache.ts';
import { Asks } from './asks.ts';
import { TLS_SESSION_ASK_TIMEOUT_MS, type FromWorker } from './messages.ts';

export class TlsSessionRelay implements TlsSessionStore {
  readonly #asks: Asks<Buffer | undefined>;

  constructor(
    private readonly send: (m: FromWorker) => void,
    private readonly connected: () => boolean,
    timeoutMs = TLS_SESSION_ASK_TIMEOUT_MS,
  ) {
    this.#asks = new Asks<Buffer | undefined>(undefined, timeoutMs);
  }

  put(key: string, data: Buffer): void {
    // One the primary would not keep is not sent.
    if (data.length <= TLS_SESSION_LIMITS.maxEntryBytes && this.connected()) this.send({ t: 'tls+', key, data: data.toString('base64') });
  }

  get(key: string): Promise<Buffer | undefined> {
    return this.#asks.ask(this.connected(), (id) => this.send({ t: 'tls?', id, key }));
  }

  /** The primary's `tls!`; a late answer (its ask already a miss) is dropped. */
  answer(id: number, data: string | undefined): void {
    this.#asks.answer(id, data === undefined ? undefined : Buffer.from(data, 'base64'));
  }
}
