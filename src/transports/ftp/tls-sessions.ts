// TLS session resumption shared by the control and data connections (RFC 4217 §10.2 notes that a
// client may reuse the control connection's TLS session on its data connections; many clients do,
// and some servers insist on it). TLS 1.3 and RFC 5077 tickets resume through the shared
// SecureContext's ticket keys; TLS 1.2 session IDs need a server-side cache, which Node consults
// through the `newSession`/`resumeSession` events of the `server` given to each TLSSocket.
import { EventEmitter } from 'node:events';
import { createSecureContext, type SecureContext, type TLSSocketOptions } from 'node:tls';
import type net from 'node:net';
import { randomBytes } from 'node:crypto';

const MAX_SESSIONS = 2048;
const SESSION_TTL_MS = 10 * 60_000;

export interface TlsSetup {
  context: SecureContext;
  /** Options for `new TLSSocket(sock, …)` on the server side, control and data alike. */
  socketOptions: TLSSocketOptions;
}

export function makeTlsSetup(cert: string | Buffer, key: string | Buffer): TlsSetup {
  const context = createSecureContext({
    cert,
    key,
    minVersion: 'TLSv1.2',
    sessionIdContext: randomBytes(16).toString('hex'),
  });
  const cache = new Map<string, { data: Buffer; at: number }>();
  const server = new EventEmitter();
  server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    if (cache.size >= MAX_SESSIONS) cache.delete(cache.keys().next().value!); // oldest first (insertion order)
    cache.set(id.toString('hex'), { data, at: Date.now() });
    done();
  });
  server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
    const hit = cache.get(id.toString('hex'));
    done(null, hit && Date.now() - hit.at < SESSION_TTL_MS ? hit.data : null);
  });
  return {
    context,
    socketOptions: { isServer: true, secureContext: context, server: server as unknown as net.Server },
  };
}
