// The phone's side of check-sync: a SIP listener (UDP and TCP, and TLS with a certificate) that answers NOTIFY Event: check-sync with
// 200 OK and asks for a re-provisioning (white paper, Reconfiguring the Phone Remotely; facts
// §4.1). When the configuration asks for request validation
// (voIpProt.SIP.requestValidation.x.request = NOTIFY, .method = digest|both|all, optionally
// limited to events by .request.y.event), the NOTIFY is first challenged with a 401 in realm
// voIpProt.SIP.requestValidation.digest.realm (default PolycomSPIP) and checked against the
// line credentials reg.N.auth.userId / reg.N.auth.password (SIP 1.4/2.2 Administrator's Guides,
// facts §4.1). Method `source` only accepts requests from a registration server's address.
// The message codec is src/sip/message.ts (shared with `polyprov notify`).
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { getHeader, parseMessage, serialiseMessage, StreamFramer, type ParseResult, type SipHeader, type SipRequest } from '../sip/message.ts';
import { parseAuthorization, verifyDigestResponse } from '../core/digest.ts';

export type ParamLookup = (name: string) => string | undefined;

export interface ValidationRule {
  method: 'digest' | 'source' | 'both';
  events: string[];
}

export const DEFAULT_VALIDATION_REALM = 'PolycomSPIP';

/** The validation rule that applies to a NOTIFY of `event`, if any (indexes 1–20 are scanned). */
export function validationFor(get: ParamLookup, event: string): ValidationRule | undefined {
  for (let x = 1; x <= 20; x++) {
    const request = get(`voIpProt.SIP.requestValidation.${x}.request`);
    const method = (get(`voIpProt.SIP.requestValidation.${x}.method`) ?? '').trim().toLowerCase();
    if (!request || request.trim().toUpperCase() !== 'NOTIFY' || method === '' || method === 'null') continue;
    const events: string[] = [];
    for (let y = 1; y <= 20; y++) {
      const e = get(`voIpProt.SIP.requestValidation.${x}.request.${y}.event`);
      if (e && e.trim()) events.push(e.trim().toLowerCase());
    }
    if (events.length > 0 && !events.includes(event.toLowerCase())) continue;
    const m = method === 'digest' ? 'digest' : method === 'source' ? 'source' : 'both';
    return { method: m, events };
  }
  return undefined;
}

/** Line credentials: reg.N.auth.userId and reg.N.auth.password for the lines that have them. */
export function lineCredentials(get: ParamLookup): Array<{ user: string; password: string }> {
  const out: Array<{ user: string; password: string }> = [];
  for (let n = 1; n <= 48; n++) {
    const user = get(`reg.${n}.auth.userId`);
    const password = get(`reg.${n}.auth.password`);
    if (user && password !== undefined) out.push({ user, password });
  }
  return out;
}

/** Addresses of the registration servers (for `source` validation). */
export function registrationServers(get: ParamLookup): string[] {
  const out = new Set<string>();
  for (let s = 1; s <= 4; s++) {
    const a = get(`voIpProt.server.${s}.address`);
    if (a) out.add(a.trim());
    for (let n = 1; n <= 48; n++) {
      const r = get(`reg.${n}.server.${s}.address`);
      if (r) out.add(r.trim());
    }
  }
  return [...out];
}

export interface NotifyOutcome {
  response: Buffer;
  /** True when the phone should now re-provision (an accepted check-sync, not a retransmission). */
  checkSync: boolean;
  status: number;
}

/** Answers SIP requests arriving at the phone. Keeps issued nonces and recent transactions. */
export class PhoneSipHandler {
  private readonly nonces = new Map<string, number>();
  private readonly recent = new Map<string, Buffer>();

  constructor(private readonly params: () => ParamLookup) {}

  handle(datagram: Buffer, from: { address: string; port: number }): NotifyOutcome | undefined {
    return this.handleParsed(parseMessage(datagram), from);
  }

  handleParsed(parsed: ParseResult, from: { address: string; port: number }): NotifyOutcome | undefined {
    if (!parsed.ok || parsed.message.kind !== 'request') return undefined;
    const req = parsed.message;
    const via = getHeader(req, 'Via') ?? '';
    const key = `${getHeader(req, 'Call-ID')}|${getHeader(req, 'CSeq')}|${/branch=([^;,\s]+)/.exec(via)?.[1] ?? ''}`;
    const again = this.recent.get(key);
    if (again) return { response: again, checkSync: false, status: 0 };
    const out = this.answer(req, from);
    this.recent.set(key, out.response);
    if (this.recent.size > 256) this.recent.delete(this.recent.keys().next().value!);
    return out;
  }

  private answer(req: SipRequest, from: { address: string; port: number }): NotifyOutcome {
    if (req.method === 'OPTIONS') return { response: respond(req, 200, 'OK'), checkSync: false, status: 200 };
    if (req.method !== 'NOTIFY') return { response: respond(req, 501, 'Not Implemented'), checkSync: false, status: 501 };
    const event = (getHeader(req, 'Event') ?? '').split(';')[0]!.trim().toLowerCase();
    // RFC 6665 §8.2.1 (RFC 3265 §3.2.4): an event package we do not know gets 489 Bad Event.
    if (event !== 'check-sync') return { response: respond(req, 489, 'Bad Event'), checkSync: false, status: 489 };
    const get = this.params();
    const rule = validationFor(get, event);
    if (rule && (rule.method === 'source' || rule.method === 'both')) {
      if (!registrationServers(get).includes(from.address)) return { response: respond(req, 403, 'Forbidden'), checkSync: false, status: 403 };
    }
    if (rule && (rule.method === 'digest' || rule.method === 'both')) {
      const realm = get('voIpProt.SIP.requestValidation.digest.realm') || DEFAULT_VALIDATION_REALM;
      const auth = getHeader(req, 'Authorization');
      const a = auth ? parseAuthorization(auth) : undefined;
      const ok =
        a?.scheme === 'digest' &&
        a.params.realm === realm &&
        this.nonces.has(a.params.nonce ?? '') &&
        lineCredentials(get).some((c) => c.user === a.params.username && verifyDigestResponse(a.params, 'NOTIFY', { password: c.password }));
      if (!ok) {
        const nonce = randomBytes(16).toString('hex');
        this.nonces.set(nonce, Date.now());
        if (this.nonces.size > 256) this.nonces.delete(this.nonces.keys().next().value!);
        return {
          response: respond(req, 401, 'Unauthorized', [{ name: 'WWW-Authenticate', value: `Digest realm="${realm}", nonce="${nonce}", qop="auth", algorithm=MD5` }]),
          checkSync: false,
          status: 401,
        };
      }
      this.nonces.delete(a!.params.nonce!);
    }
    return { response: respond(req, 200, 'OK'), checkSync: true, status: 200 };
  }
}

/** A response to `req` (RFC 3261 §8.2.6): Via, From, Call-ID, CSeq copied; To gets a tag. */
export function respond(req: SipRequest, status: number, reason: string, extra: SipHeader[] = []): Buffer {
  const copy = (name: string) => req.headers.filter((h) => h.name.toLowerCase() === name.toLowerCase() || (name === 'Via' && h.name === 'v'));
  const to = getHeader(req, 'To') ?? '';
  const headers: SipHeader[] = [
    ...copy('Via').map((h) => ({ name: 'Via', value: h.value })),
    { name: 'From', value: getHeader(req, 'From') ?? '' },
    { name: 'To', value: /;\s*tag=/.test(to) ? to : `${to};tag=${randomBytes(4).toString('hex')}` },
    { name: 'Call-ID', value: getHeader(req, 'Call-ID') ?? '' },
    { name: 'CSeq', value: getHeader(req, 'CSeq') ?? '' },
    ...extra,
  ];
  return serialiseMessage({ kind: 'response', status, reason, headers, body: Buffer.alloc(0) });
}

export interface SipTlsOptions {
  /** TLS listener port (RFC 3261 §26.2: sips: defaults to 5061); 0 picks a free one. */
  port: number;
  /** The phone's device certificate and key (PEM). */
  cert: string | Buffer;
  key: string | Buffer;
}

export interface SipListener {
  port: number;
  tcp: boolean;
  /** The TLS listener's port, when one was asked for. */
  tlsPort?: number;
  close(): Promise<void>;
}

/**
 * Binds the phone's SIP port: UDP, and TCP on the same port number (RFC 3261 §18: a UA listens
 * on both; TCP messages are framed by Content-Length, §18.3), and TLS on its own port when the
 * phone has a certificate (§18, §26.2; real phones answer on 5061 with their device certificate).
 * Replies go back where the request came from (§18.2.2, with RFC 3581 rport for UDP). The same
 * handler answers every transport, so request validation works alike over each.
 */
export async function listenSip(
  host: string,
  port: number,
  handler: PhoneSipHandler,
  onCheckSync: (from: string) => void,
  opts: { tls?: SipTlsOptions } = {},
): Promise<SipListener> {
  const bindUdp = async (at: number): Promise<dgram.Socket> => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.on('message', (msg, rinfo) => {
      const out = handler.handle(msg, { address: rinfo.address, port: rinfo.port });
      if (!out) return;
      sock.send(out.response, rinfo.port, rinfo.address);
      if (out.checkSync) onCheckSync(`udp ${rinfo.address}:${rinfo.port}`);
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(at, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', () => undefined);
    return sock;
  };

  const conns = new Set<net.Socket>();
  const serve = (kind: 'tcp' | 'tls') => (c: net.Socket) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    c.on('error', () => undefined);
    c.setTimeout(60_000, () => c.destroy());
    const framer = new StreamFramer();
    c.on('data', (chunk: Buffer) => {
      const { messages, fatal } = framer.push(chunk);
      for (const m of messages) {
        const from = { address: c.remoteAddress ?? '', port: c.remotePort ?? 0 };
        const out = handler.handleParsed(m, from);
        if (!out) continue;
        c.write(out.response);
        if (out.checkSync) onCheckSync(`${kind} ${from.address}:${from.port}`);
      }
      if (fatal) c.destroy();
    });
  };
  // TCP is a bonus: a port taken by someone else leaves the phone on UDP only. On an ephemeral
  // port (0) a TCP port already taken by another program is no reason to lose TCP: try another
  // pair (the full test suite met this now and then).
  let sock!: dgram.Socket;
  let tcp!: net.Server;
  let tcpUp = false;
  let bound = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    sock = await bindUdp(port);
    bound = sock.address().port;
    tcp = net.createServer(serve('tcp'));
    tcpUp = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(bound, host, () => resolve(true));
    });
    if (tcpUp || port !== 0) break;
    await new Promise<void>((r) => sock.close(() => r()));
  }

  let tlsServer: tls.Server | undefined;
  let tlsPort: number | undefined;
  if (opts.tls) {
    const server = tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: 10_000 }, serve('tls'));
    // A failed handshake (an untrusting or plain-text peer) ends that connection only.
    server.on('tlsClientError', () => undefined);
    try {
      // Asked for explicitly, so a TLS port that cannot be bound is an error, unlike TCP.
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.tls!.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      sock.close();
      if (tcpUp) tcp.close();
      throw e;
    }
    tlsServer = server;
    tlsPort = (server.address() as net.AddressInfo).port;
  }
  const closeServer = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));
  return {
    port: bound,
    tcp: tcpUp,
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    close: async () => {
      for (const c of conns) c.destroy();
      await Promise.all([new Promise<void>((r) => sock.close(() => r())), tcpUp ? closeServer(tcp) : Promise.resolve(), tlsServer ? closeServer(tlsServer) : Promise.resolve()]);
    },
  };
}
