// TLS session resumption shared by the control and data connections (RFC 4217 §10.2 notes that a
// client may reuse the control connection's TLS session on its data connections; many clients do,
// and some servers insist on it). TLS 1.3 and RFC 5077 tickets resume through the shared
// SecureContext's ticket keys (under `serve --workers N` the same in every worker); TLS 1.2 session
// IDs need a server-side cache, which Node consults through the `newSession`/`resumeSession` events
// of the `server` given to each TLSSocket: the store the server was given (the primary's one cache
// under `serve --workers N`, so a phone's next FTPS session resumes on any worker; issue 16).
import { EventEmitter } from 'node:events';
import { createSecureContext, type SecureContext, type TLSSocketOptions } from 'node:tls';
import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import { serveTlsSessions, TLS_SESSION_TIMEOUT_S, TlsSessionCache, type TlsSessionStore } from '../../util/tls-session-cache.ts';

export interface TlsSetup {
  context: SecureContext;
  /** Options for `new TLSSocket(sock, …)` on the server side, control and data alike. */
  socketOptions: TLSSocketOptions;
}

export interface FtpTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** Where sessions are kept by ID (default: a cache of this listener's own). */
  sessions?: TlsSessionStore;
  /** Default: random, this listener's own. */
  sessionIdContext?: string;
  /** 48 bytes; default: random, this context's own. */
  ticketKeys?: Buffer;
}

export function makeTlsSetup(o: FtpTlsOptions): TlsSetup {
  const context = createSecureContext({
    cert: o.cert,
    key: o.key,
    minVersion: 'TLSv1.2',
    sessionIdContext: o.sessionIdContext ?? randomBytes(16).toString('hex'),
    sessionTimeout: TLS_SESSION_TIMEOUT_S,
    ...(o.ticketKeys ? { ticketKeys: o.ticketKeys } : {}),
  });
  const server = new EventEmitter();
  serveTlsSessions(server, o.sessions ?? new TlsSessionCache(), 'ftps');
  return {
    context,
    socketOptions: { isServer: true, secureContext: context, server: server as unknown as net.Server },
  };
}
