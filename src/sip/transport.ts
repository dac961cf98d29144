// The wire under the transactions: one shared UDP socket per address family, and one TCP or
// TLS connection per destination (RFC 3261 §18). Incoming responses are handed to the
// transaction whose top-Via branch they carry (§17.1.3); anything else is dropped here.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { isIPv6 } from 'node:net';
import { getHeaderList, parseMessage, parseVia, StreamFramer, type ParseResult, type SipResponse } from './message.ts';

export type SipTransport = 'udp' | 'tcp' | 'tls';

export interface Destination {
  /** An IP address (resolve names before). */
  host: string;
  port: number;
  transport: SipTransport;
}

/** What a transaction needs from the wire. */
export interface Flow {
  readonly reliable: boolean;
  readonly transport: SipTransport;
  /** Our address and port as the peer should see them (Via sent-by, Contact). */
  readonly local: { host: string; port: number };
  /** Sends; `onError` hears about a failure the kernel reports later (EHOSTUNREACH, EMSGSIZE …). */
  send(bytes: Buffer, onError?: (err: Error) => void): void;
  /** Registers the receiver of responses whose top Via carries `branch`; returns the unsubscriber. */
  subscribe(branch: string, onResponse: (r: SipResponse) => void): () => void;
  /** Fires when a stream closes or errors (never for UDP). */
  onClose(cb: (err?: Error) => void): void;
  close(): void;
}

/** Counts of what the wire layer threw away; garbage is ignored, not fatal (RFC 3261 §18.1.2). */
export interface DropCounts {
  unparseable: number;
  requests: number;
  unmatched: number;
}

type Handler = (r: SipResponse) => void;

function dispatch(parsed: ParseResult, handlers: Map<string, Handler>, drops: DropCounts): void {
  if (!parsed.ok) {
    drops.unparseable++;
    return;
  }
  const msg = parsed.message;
  if (msg.kind !== 'response') {
    drops.requests++; // a sender of NOTIFY serves no requests
    return;
  }
  const top = getHeaderList(msg, 'Via')[0];
  const branch = top ? parseVia(top)?.params.get('branch') : undefined;
  const h = branch ? handlers.get(branch) : undefined;
  if (!h) {
    drops.unmatched++;
    return;
  }
  try {
    h(msg);
  } catch {
    // a transaction's own bug must not take the socket down
  }
}

/** The local address the kernel would use to reach `host` (UDP connect sends no packet). */
export async function localAddressFor(host: string): Promise<string> {
  const sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(9, host, () => resolve());
    });
    return sock.address().address;
  } finally {
    sock.close();
  }
}

/**
 * One UDP socket per family, shared by every transaction (responses come back to the Via
 * sent-by port, or to the source port with rport, RFC 3581). Bound to the wildcard address.
 */
export class UdpEndpoint {
  readonly drops: DropCounts = { unparseable: 0, requests: 0, unmatched: 0 };
  private readonly handlers = new Map<string, Handler>();
  private readonly sockets = new Map<'udp4' | 'udp6', Promise<dgram.Socket>>();
  private readonly localCache = new Map<string, Promise<string>>();

  constructor(private readonly bindAddress?: string) {}

  private socket(family: 'udp4' | 'udp6'): Promise<dgram.Socket> {
    let p = this.sockets.get(family);
    if (!p) {
      p = new Promise((resolve, reject) => {
        const s = dgram.createSocket(family);
        s.on('message', (buf) => dispatch(parseMessage(buf), this.handlers, this.drops));
        s.once('error', reject);
        s.bind(0, this.bindAddress ?? (family === 'udp6' ? '::' : '0.0.0.0'), () => {
          s.removeListener('error', reject);
          // Later socket errors (ICMP-induced on some systems) must not crash the process.
          s.on('error', () => undefined);
          resolve(s);
        });
      });
      this.sockets.set(family, p);
    }
    return p;
  }

  async flowTo(dest: Destination): Promise<Flow> {
    const family = isIPv6(dest.host) ? 'udp6' : 'udp4';
    const sock = await this.socket(family);
    let local = this.localCache.get(dest.host);
    if (!local) {
      local = this.bindAddress && this.bindAddress !== '0.0.0.0' && this.bindAddress !== '::' ? Promise.resolve(this.bindAddress) : localAddressFor(dest.host);
      this.localCache.set(dest.host, local);
    }
    const localHost = await local;
    const handlers = this.handlers;
    return {
      reliable: false,
      transport: 'udp',
      local: { host: localHost, port: sock.address().port },
      send(bytes, onError) {
        sock.send(bytes, dest.port, dest.host, (err) => {
          if (err) onError?.(err);
        });
      },
      subscribe(branch, onResponse) {
        handlers.set(branch, onResponse);
        return () => {
          if (handlers.get(branch) === onResponse) handlers.delete(branch);
        };
      },
      onClose() {},
      close() {},
    };
  }

  async close(): Promise<void> {
    for (const p of this.sockets.values()) {
      const s = await p.catch(() => undefined);
      if (s) await new Promise<void>((r) => s.close(() => r()));
    }
    this.sockets.clear();
  }
}

export interface StreamOptions {
  /** Give up connecting after this long (the transaction's timer F bounds it as well). */
  connectTimeoutMs: number;
  /** TLS: verify the phone's certificate (phones ship Polycom-signed device certificates). */
  rejectUnauthorized?: boolean;
  ca?: Buffer;
  servername?: string;
}

/** Opens a TCP or TLS connection to `dest`; responses are framed by Content-Length (§18.3). */
export async function openStreamFlow(dest: Destination, opts: StreamOptions): Promise<Flow> {
  const socket: net.Socket =
    dest.transport === 'tls'
      ? tls.connect({ host: dest.host, port: dest.port, rejectUnauthorized: opts.rejectUnauthorized ?? true, ca: opts.ca, servername: opts.servername ?? (net.isIP(dest.host) ? undefined : dest.host) })
      : net.connect({ host: dest.host, port: dest.port });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${dest.host}:${dest.port} timed out`));
    }, opts.connectTimeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once(dest.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.setNoDelay(true);
  const drops: DropCounts = { unparseable: 0, requests: 0, unmatched: 0 };
  const handlers = new Map<string, Handler>();
  const closeCbs: ((err?: Error) => void)[] = [];
  let closeErr: Error | undefined;
  const framer = new StreamFramer();
  socket.on('data', (chunk: Buffer) => {
    const { messages, fatal } = framer.push(chunk);
    for (const m of messages) dispatch(m, handlers, drops);
    if (fatal) socket.destroy(new Error(`stream framing lost: ${fatal}`));
  });
  socket.on('error', (e) => (closeErr = e));
  socket.on('close', () => {
    for (const cb of closeCbs.splice(0)) cb(closeErr ?? new Error('connection closed by peer'));
  });
  return {
    reliable: true,
    transport: dest.transport,
    local: { host: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 },
    send(bytes, onError) {
      socket.write(bytes, (err) => {
        if (err) onError?.(err);
      });
    },
    subscribe(branch, onResponse) {
      handlers.set(branch, onResponse);
      return () => {
        if (handlers.get(branch) === onResponse) handlers.delete(branch);
      };
    },
    onClose(cb) {
      if (socket.destroyed) cb(closeErr ?? new Error('connection closed'));
      else closeCbs.push(cb);
    },
    close() {
      closeCbs.length = 0;
      socket.destroy();
    },
  };
}
