// One TLS client context per CA bundle for all of a process's virtual phones. Without it, Node
// builds a fresh SecureContext (certificate store included) for every connection, which was a
// quarter of the load generator's CPU in an HTTPS boot storm (a full handshake per file). The
// handshake itself is unchanged: the context holds only the configuration (the same defaults
// tls.connect would use, plus the CA), and client sessions are resumed only when a connection
// is handed one explicitly (FTPS data connections, RFC 4217 §10.2), never from the context.
import tls from 'node:tls';

const contexts = new Map<string | Buffer | undefined, tls.SecureContext>();

export function clientSecureContext(ca?: string | Buffer): tls.SecureContext {
  let c = contexts.get(ca);
  if (!c) {
    // A few CA bundles per process at most (one per --ca); tests may make more.
    if (contexts.size >= 16) contexts.clear();
    c = tls.createSecureContext(ca === undefined ? {} : { ca });
    contexts.set(ca, c);
  }
  return c;
}
