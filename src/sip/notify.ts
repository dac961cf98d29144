// check-sync: the SIP NOTIFY that makes a phone compare its software and configuration with
// the boot server (white paper, "Reconfiguring the Phone Remotely"; facts §4.1).
//
// The white paper's capture (simpleCheckSync.pcap) carries From with a tag, To, Call-ID,
// CSeq 1 NOTIFY, Contact, Event: check-sync, Max-Forwards, Content-Length: 0. We add what
// RFC 3261 §8.1.1 requires of any request (Via with a z9hG4bK branch, Max-Forwards 70) and a
// User-Agent. Whether the phone then reboots is its own decision
// (voIpProt.SIP.specialEvent.checkSync.alwaysReboot, or a new application image).
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { getHeader, serialiseMessage, type SipHeader, type SipRequest, type SipResponse } from './message.ts';
import { DigestClient, digestChallenge, type DigestCredentials } from '../core/digest.ts';
import { runNonInviteTransaction, type TransactionOutcome, type TransactionTimers } from './transaction.ts';
import { formatSipUri, type SipUri } from './targets.ts';
import { openStreamFlow, UdpEndpoint, type Destination, type Flow, type SipTransport } from './transport.ts';

export const USER_AGENT = 'polyprov';

/** RFC 3261 §8.1.1.7: branches start with the magic cookie so peers know they are unique. */
export function newBranch(): string {
  return `z9hG4bK${randomBytes(10).toString('hex')}`;
}

export interface NotifyParams {
  requestUri: SipUri;
  /** Our transport for the Via (the first hop's, i.e. the proxy's when there is one). */
  transport: SipTransport;
  local: { host: string; port: number };
  branch: string;
  callId: string;
  fromTag: string;
  cseq: number;
  /** Outbound proxy as a loose route (RFC 3261 §8.1.2, §16.12). */
  route?: string;
  userAgent?: string;
  extraHeaders?: SipHeader[];
}

function hostForUri(h: string): string {
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

export function buildNotify(p: NotifyParams): SipRequest {
  const local = `${hostForUri(p.local.host)}:${p.local.port}`;
  const to = formatSipUri({ ...p.requestUri, params: new Map() });
  const contactParams = p.transport === 'udp' ? '' : `;transport=${p.transport}`;
  const headers: SipHeader[] = [
    // rport (RFC 3581) lets a phone behind NAT answer to our source port.
    { name: 'Via', value: `SIP/2.0/${p.transport.toUpperCase()} ${local};branch=${p.branch}${p.transport === 'udp' ? ';rport' : ''}` },
    { name: 'Max-Forwards', value: '70' },
    ...(p.route ? [{ name: 'Route', value: `<${p.route}>` }] : []),
    { name: 'From', value: `<sip:polyprov@${hostForUri(p.local.host)}>;tag=${p.fromTag}` },
    { name: 'To', value: `<${to}>` },
    { name: 'Call-ID', value: p.callId },
    { name: 'CSeq', value: `${p.cseq} NOTIFY` },
    { name: 'Contact', value: `<sip:polyprov@${local}${contactParams}>` },
    { name: 'Event', value: 'check-sync' },
    { name: 'User-Agent', value: p.userAgent ?? USER_AGENT },
    ...(p.extraHeaders ?? []),
  ];
  return { kind: 'request', method: 'NOTIFY', uri: formatSipUri(p.requestUri), headers, body: Buffer.alloc(0) };
}

export interface CheckSyncTarget {
  uri: SipUri;
  host: string;
  port: number;
  transport: SipTransport;
  credentials?: DigestCredentials;
}

export interface SenderOptions {
  timers: TransactionTimers;
  /** Outbound proxy: every request goes there, with a Route header naming it. */
  proxy?: { host: string; port: number };
  tlsRejectUnauthorized?: boolean;
  /** CA bundle to verify phones' TLS certificates against (default: Node's trust store). */
  tlsCa?: Buffer;
  userAgent?: string;
  /** Bind address for the UDP socket (default: wildcard). */
  bindAddress?: string;
}

export interface CheckSyncResult {
  /** Final status, or 'timeout' (timer F) / 'error' (transport failure, bad target). */
  status: number | 'timeout' | 'error';
  reason?: string;
  /** Destination actually used (the proxy's when there is one). */
  address: string;
  /** Round trip of the final transaction: first transmission to final response. */
  rttMs?: number;
  transmissions: number;
  /** When the first NOTIFY left (epoch ms); confirmation looks for the phone after this. */
  sentAt?: number;
  /** Number of 401/407 challenges answered. */
  challenges: number;
  error?: string;
}

/**
 * Owns the shared UDP endpoint and sends check-syncs, answering Digest challenges. One per
 * `polyprov notify` run; `close()` when done.
 */
export class CheckSyncSender {
  private readonly udp: UdpEndpoint;
  private readonly digest = new DigestClient();

  constructor(private readonly opts: SenderOptions) {
    this.udp = new UdpEndpoint(opts.bindAddress);
  }

  get drops() {
    return this.udp.drops;
  }

  async send(t: CheckSyncTarget): Promise<CheckSyncResult> {
    const first = this.opts.proxy ?? { host: t.host, port: t.port };
    let dest: Destination;
    try {
      dest = { host: await resolveHost(first.host), port: first.port, transport: t.transport };
    } catch (err) {
      return { status: 'error', address: `${first.host}:${first.port}`, transmissions: 0, challenges: 0, error: `cannot resolve ${first.host}: ${(err as Error).message}` };
    }
    const address = `${hostForUri(dest.host)}:${dest.port}`;
    const timeoutMs = this.opts.timers.timeoutMs ?? 64 * this.opts.timers.t1Ms;
    let flow: Flow;
    try {
      flow = t.transport === 'udp' ? await this.udp.flowTo(dest) : await openStreamFlow(dest, { connectTimeoutMs: timeoutMs, rejectUnauthorized: this.opts.tlsRejectUnauthorized, ...(this.opts.tlsCa ? { ca: this.opts.tlsCa } : {}), ...tlsName(this.opts.proxy?.host ?? t.host) });
    } catch (err) {
      return { status: 'error', address, transmissions: 0, challenges: 0, error: (err as Error).message };
    }
    try {
      return await this.transact(t, flow, address);
    } finally {
      flow.close();
    }
  }

  private async transact(t: CheckSyncTarget, flow: Flow, address: string): Promise<CheckSyncResult> {
    const callId = `${randomBytes(12).toString('hex')}@polyprov`;
    const fromTag = randomBytes(6).toString('hex');
    const route = this.opts.proxy ? `sip:${hostForUri(this.opts.proxy.host)}:${this.opts.proxy.port};lr${t.transport === 'udp' ? '' : `;transport=${t.transport}`}` : undefined;
    const sentAt = Date.now();
    let cseq = 1;
    let transmissions = 0;
    let challenges = 0;
    const auth: (SipHeader & { realm: string })[] = [];
    const answered = new Set<string>();
    // At most a proxy challenge and a phone challenge, each possibly once more when stale.
    for (let round = 0; round < 4; round++) {
      const branch = newBranch();
      const req = buildNotify({ requestUri: t.uri, transport: flow.transport, local: flow.local, branch, callId, fromTag, cseq, route, userAgent: this.opts.userAgent, extraHeaders: auth.map(({ name, value }) => ({ name, value })) });
      const outcome: TransactionOutcome = await runNonInviteTransaction(flow, { bytes: serialiseMessage(req), branch, callId, cseq, method: 'NOTIFY' }, this.opts.timers);
      transmissions += outcome.transmissions;
      if (outcome.kind === 'timeout') return { status: 'timeout', address, transmissions, sentAt, challenges, error: `no final response within ${Math.round(outcome.elapsedMs)} ms (timer F)` };
      if (outcome.kind === 'error') return { status: 'error', address, transmissions, sentAt, challenges, error: outcome.error };
      const r = outcome.response;
      const done: CheckSyncResult = { status: r.status, reason: r.reason, address, rttMs: Math.round(outcome.rttMs * 10) / 10, transmissions, sentAt, challenges };
      if (r.status !== 401 && r.status !== 407) return done;
      // RFC 3261 §22.2/§22.3: retry with credentials, a new CSeq and branch, same Call-ID and tag.
      const next = this.answerChallenge(r, t, req.uri, answered);
      if (!next) return { ...done, error: t.credentials ? 'challenge not answerable (credentials refused, or an unsupported Digest variant)' : 'the phone asks for Digest credentials; give --user and --password-stdin or set reg.1.auth in its configuration' };
      challenges++;
      const i = auth.findIndex((h) => h.name === next.name && h.realm === next.realm);
      if (i >= 0) auth.splice(i, 1);
      auth.push(next);
      cseq++;
    }
    return { status: 'error', address, transmissions, sentAt, challenges, error: 'too many authentication rounds' };
  }

  private answerChallenge(r: SipResponse, t: CheckSyncTarget, uri: string, answered: Set<string>): (SipHeader & { realm: string }) | undefined {
    if (!t.credentials) return undefined;
    const isProxy = r.status === 407;
    const value = getHeader(r, isProxy ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    const ch = value ? digestChallenge(value) : undefined;
    if (!ch) return undefined;
    // A second challenge for a realm we already answered means the credentials were refused,
    // unless the server says the nonce was merely stale (RFC 2617 §3.2.1).
    const key = `${r.status}:${ch.realm}`;
    if (answered.has(key) && !ch.stale) return undefined;
    answered.add(key);
    const v = this.digest.authorize(ch, t.credentials, 'NOTIFY', uri);
    return v ? { name: isProxy ? 'Proxy-Authorization' : 'Authorization', value: v, realm: ch.realm } : undefined;
  }

  async close(): Promise<void> {
    await this.udp.close();
  }
}

/** SNI and certificate name: only for names (Node checks an IP target against the IP SANs). */
function tlsName(host: string): { servername?: string } {
  const h = host.replace(/^\[|\]$/g, '');
  return isIP(h) ? {} : { servername: h };
}

async function resolveHost(host: string): Promise<string> {
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h)) return h;
  // Plain A/AAAA lookup; RFC 3263 NAPTR/SRV selection is a registrar's concern, not a phone's address.
  return (await lookup(h)).address;
}
