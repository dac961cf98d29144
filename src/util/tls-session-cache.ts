// TLS 1.2 (and 1.0/1.1, --tls-legacy) session-ID resumption for the HTTPS and FTPS listeners
// (issue 16, One machine: under `serve --workers N` "what must be consistent is consistent across
// them"). A phone or bootROM that sends no session ticket resumes by the session ID of its last
// handshake; Node hands that lookup to the listener's `newSession`/`resumeSession` events (with no
// listener, no session ID ever resumes, not even on the same process). The store behind them is
// this process's TlsSessionCache in a single-process serve, and the primary's one cache, asked over
// the cluster IPC, in a worker (src/cluster/tls-session-relay.ts), so a phone's next connection
// resumes whichever worker node:cluster hands it to. Session data is key material: it is never
// logged, and crosses only the IPC channel between the primary and its workers.
import { createHash, createHmac } from 'node:crypto';
import type { EventEmitter } from 'node:events';

/** The listeners' TLS session timeout (Node's tls.Server default), so also the cache's TTL. */
export const TLS_SESSION_TIMEOUT_S = 300;

/** Which listener a session belongs to: an HTTPS session never resumes on FTPS, nor the reverse. */
export type TlsSessionKind = 'https' | 'ftps';

export interface TlsSessionStore {
  /** Keep the session under `key` (fire and forget: a lost put is a later full handshake). */
  put(key: string, data: Buffer): void;
  /** The session, or undefined: unknown, expired, evicted, or no answer in time (a full handshake). */
  get(key: string): Promise<Buffer | undefined> | Buffer | undefined;
}

export interface TlsSessionLimits {
  maxEntries: number;
  /** Bytes of session data in all. */
  maxBytes: number;
  /** A larger session (a client certificate chain in it, say) is not kept. */
  maxEntryBytes: number;
  ttlMs: number;
}

/**
 * Default bounds: a 10,000-phone boot storm's sessions (~160 bytes each without a client
 * certificate, ~1–2 KB with one) fit, and the cache never holds more than 16 MiB.
 */
export const TLS_SESSION_LIMITS: Readonly<TlsSessionLimits> = Object.freeze({
  maxEntries: 20_000,
  maxBytes: 16 * 1024 * 1024,
  maxEntryBytes: 16 * 1024,
  ttlMs: TLS_SESSION_TIMEOUT_S * 1000,
});

/** An in-memory session cache bounded in entries, bytes and age; the oldest entry goes first. */
export class TlsSessionCache implements TlsSessionStore {
  // Insertion order is age order: every put (re)inserts at the end, and the TTL is the same for all.
  readonly #entries = new Map<string, { data: Buffer; at: number }>();
  #bytes = 0;

  constructor(
    private readonly limits: Readonly<TlsSessionLimits> = TLS_SESSION_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  put(key: string, data: Buffer): void {
    if (data.length > this.limits.maxEntryBytes) return;
    this.#drop(key);
    const now = this.now();
    for (const [k, e] of this.#entries) {
      const full = this.#entries.size >= this.limits.maxEntries || this.#bytes + data.length > this.limits.maxBytes;
      if (!full && now - e.at < this.limits.ttlMs) break;
      this.#drop(k);
    }
    // A slice of a shared pool (Buffer.from of the IPC's base64) would keep its whole 8 KiB slab alive after eviction.
    this.#entries.set(key, { data: data.byteLength === data.buffer.byteLength ? data : own(data), at: now });
    this.#bytes += data.length;
  }

  get(key: string): Buffer | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at < this.limits.ttlMs) return e.data;
    this.#drop(key);
    return undefined;
  }

  #drop(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#bytes -= e.data.length;
    this.#entries.delete(key);
  }
}

function own(data: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

/**
 * The protocol version inside a DER SSL_SESSION (OpenSSL's SSL_SESSION_ASN1: SEQUENCE { INTEGER 1,
 * INTEGER ssl_version, … }), e.g. 0x0303 for TLS 1.2; undefined when it does not read as one.
 */
export function sessionProtocol(der: Buffer): number | undefined {
  if (der[0] !== 0x30) return undefined;
  let i = 2;
  const len = der[1] ?? 0;
  if (len & 0x80) i += len & 0x7f;
  if (der.length < i + 7) return undefined;
  if (der[i] !== 0x02 || der[i + 1] !== 0x01 || der[i + 3] !== 0x02 || der[i + 4] !== 0x02) return undefined;
  return der.readUInt16BE(i + 5);
}

const TLS13 = 0x0304;

/**
 * Serves a listener's session-ID lookups from `store`. `server` is the tls.Server (or, for FTPS,
 * the emitter given to each TLSSocket as `server`). TLS 1.3 sessions are not kept: the listeners
 * issue tickets, and a TLS 1.3 client resumes only by its ticket (OpenSSL still reports each
 * ticket's session here, two per handshake, which would only push out the TLS 1.2 sessions).
 */
export function serveTlsSessions(server: EventEmitter, store: TlsSessionStore, kind: TlsSessionKind): void {
  server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    if (id.length > 0 && sessionProtocol(data) !== TLS13) store.put(`${kind}:${id.toString('hex')}`, data);
    done();
  });
  server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
    const answer = (data: Buffer | undefined) => done(null, data ?? null);
    let got: ReturnType<TlsSessionStore['get']>;
    try {
      got = store.get(`${kind}:${id.toString('hex')}`);
    } catch {
      return answer(undefined);
    }
    if (got instanceof Promise) got.then(answer, () => answer(undefined));
    else answer(got);
  });
}

/**
 * The sessionIdContext of a listener kind (at most 32 characters, OpenSSL's SSL_MAX_SID_CTX_LENGTH),
 * from `base`: in a worker the primary's (the same in every worker, so a session from one is
 * accepted by the others), else this process's own random one.
 */
export function sessionIdContext(base: string, kind: TlsSessionKind): string {
  return createHash('sha256').update(`${base}\0${kind}`).digest('hex').slice(0, 32);
}

/** Session ticket keys (48 bytes) for a listener kind from the primary's: every worker derives the same. */
export function ticketKeysFor(keys: Buffer, kind: TlsSessionKind): Buffer {
  return createHmac('sha512', keys).update(kind).digest().subarray(0, 48);
}
