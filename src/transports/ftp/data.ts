// Passive data connections (RFC 959 §3.2 PASV, RFC 2428 §3 EPSV). Active mode (PORT/EPRT) is
// refused by the control code: phones since bootROM 3.0 use passive FTP only (Administrator's
// Guide, Server Menu, Server Type note), and PORT is the FTP bounce vector (RFC 2577 §3).
//
// Each passive listener accepts exactly one connection, and only from the control connection's
// address (RFC 2577 §5 recommends this against port stealing); a connection from anywhere else is
// closed at once and the listener keeps waiting for the real client until its timeout.
// With PROT P (RFC 4217 §9) the data connection is TLS with the control connection's context
// and session cache (tls-sessions.ts), so a client that resumes the control session may.
import net from 'node:net';
import { TLSSocket, type TLSSocketOptions } from 'node:tls';
import { plainAddress } from '../../util/address.ts';

export interface PassiveOptions {
  /** Local address to listen on: the one the client reached the control connection at. */
  host: string;
  /** The only peer address a data connection is accepted from. */
  allowedAddress: string;
  portMin?: number;
  portMax?: number;
  /** How long the listener waits for the client to connect (and finish a TLS handshake). */
  timeoutMs: number;
  /** Set when PROT P is in force. */
  tls?: TLSSocketOptions;
  /** Told about every refused connection (for the warn log). */
  onForeign?(address: string, port: number): void;
  /** Told whether the data connection's TLS handshake resumed a session. */
  onTls?(resumed: boolean, protocol: string): void;
}

/** Bounded search for a free port in [min, max]; random start so sessions do not collide in lockstep. */
const MAX_PORT_ATTEMPTS = 64;

export class PassiveListener {
  private accepted?: Promise<net.Socket>;
  private resolveAccept!: (s: net.Socket) => void;
  private rejectAccept!: (e: Error) => void;
  private timer?: NodeJS.Timeout;
  private done = false;
  private socket?: net.Socket;

  private constructor(
    private readonly server: net.Server,
    private readonly opts: PassiveOptions,
  ) {
    this.accepted = new Promise((res, rej) => {
      this.resolveAccept = res;
      this.rejectAccept = rej;
    });
    // Nobody may be awaiting yet; keep an early rejection from being reported as unhandled.
    this.accepted.catch(() => {});
    this.timer = setTimeout(() => this.fail(new Error('passive data connection timed out')), opts.timeoutMs);
    server.on('connection', (s) => this.onConnection(s));
  }

  static async open(opts: PassiveOptions): Promise<PassiveListener> {
    const server = net.createServer();
    server.maxConnections = 4; // the client plus a few strays; refused ones are closed immediately
    await listenInRange(server, opts.host, opts.portMin, opts.portMax);
    return new PassiveListener(server, opts);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The data connection (TLS-wrapped and handshaken under PROT P). Rejects on timeout or close(). */
  accept(): Promise<net.Socket> {
    return this.accepted!;
  }

  /** Stops listening; destroys the data connection if it was never handed out. */
  close(): void {
    this.fail(new Error('passive listener closed'));
  }

  private onConnection(s: net.Socket): void {
    const peer = plainAddress(s.remoteAddress);
    if (this.done || this.socket || peer !== plainAddress(this.opts.allowedAddress)) {
      if (!this.done && !this.socket) this.opts.onForeign?.(peer, s.remotePort ?? 0);
      s.destroy();
      return;
    }
    this.socket = s;
    this.server.close(); // one connection per PASV/EPSV
    s.setNoDelay(true);
    s.on('error', () => {}); // surfaced to the transfer through 'close'/stream errors
    if (!this.opts.tls) {
      this.succeed(s);
      return;
    }
    const t = new TLSSocket(s, this.opts.tls);
    t.on('error', (e) => this.fail(e));
    t.once('secure', () => {
      this.opts.onTls?.(t.isSessionReused(), t.getProtocol() ?? '');
      this.succeed(t);
    });
  }

  private succeed(s: net.Socket): void {
    if (this.done) {
      s.destroy();
      return;
    }
    this.done = true;
    clearTimeout(this.timer);
    this.resolveAccept(s);
  }

  private fail(e: Error): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.server.close();
    this.socket?.destroy();
    this.rejectAccept(e);
  }
}

function listenOnce(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

async function listenInRange(server: net.Server, host: string, min?: number, max?: number): Promise<number> {
  if (!min || !max) return listenOnce(server, host, 0);
  const span = max - min + 1;
  const start = Math.floor(Math.random() * span);
  const attempts = Math.min(span, MAX_PORT_ATTEMPTS);
  for (let i = 0; i < attempts; i++) {
    const port = min + ((start + i) % span);
    try {
      return await listenOnce(server, host, port);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  throw new Error(`no free passive port in ${min}-${max} after ${attempts} attempts`);
}
