// What `polyprov notify` can be pointed at: a SIP URI, host[:port], a MAC the inventory knows,
// or `all`. Inventory targets take their address and SIP user from what the phone itself sent
// (the store's sightings) and from its effective configuration (reg.1), never from a shared
// placeholder account: a NOTIFY to a user several phones share reaches all of them.
import { parseMac } from '../config/models.ts';
import type { Mac } from '../config/types.ts';
import type { SipTransport } from './transport.ts';
import type { DigestCredentials } from '../core/digest.ts';
import { plainAddress } from '../util/address.ts';

export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  host: string;
  port?: number;
  params: Map<string, string>;
}

/** RFC 3261 §19.1.1 `sip:user@host:port;params` (no headers part). Undefined when malformed. */
export function parseSipUri(s: string): SipUri | undefined {
  const m = /^(sips?):(?:([^@\s;?]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[^?\s]*)?)$/.exec(s.trim());
  if (!m) return undefined;
  const port = m[4] ? Number(m[4]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const params = new Map<string, string>();
  for (const p of (m[5] ?? '').split(';').filter(Boolean)) {
    const eq = p.indexOf('=');
    params.set((eq < 0 ? p : p.slice(0, eq)).toLowerCase(), eq < 0 ? '' : p.slice(eq + 1));
  }
  return { scheme: m[1]!.toLowerCase() as 'sip' | 'sips', user: m[2], host: m[3]!, port, params };
}

export function formatSipUri(u: SipUri): string {
  let s = `${u.scheme}:${u.user ? `${u.user}@` : ''}${u.host}${u.port ? `:${u.port}` : ''}`;
  for (const [k, v] of u.params) s += v === '' ? `;${k}` : `;${k}=${v}`;
  return s;
}

/** One target as typed on the command line. */
export type TargetSpec =
  | { kind: 'uri'; text: string; uri: SipUri }
  | { kind: 'url'; text: string; url: URL }
  | { kind: 'host'; text: string; host: string; port?: number }
  | { kind: 'mac'; text: string; mac: Mac }
  | { kind: 'all'; text: string };

export function parseTarget(text: string): TargetSpec | { error: string } {
  const t = text.trim();
  if (t.toLowerCase() === 'all') return { kind: 'all', text: t };
  if (/^sips?:/i.test(t)) {
    const uri = parseSipUri(t);
    return uri ? { kind: 'uri', text: t, uri } : { error: `"${t}" is not a SIP URI (sip:user@host:port;transport=tcp)` };
  }
  if (/^https?:\/\//i.test(t)) {
    try {
      return { kind: 'url', text: t, url: new URL(t) };
    } catch {
      return { error: `"${t}" is not a URL` };
    }
  }
  // A bare 12-hex-digit word (or with separators) is a MAC, never a host name.
  if (/^[0-9a-f]{12}$/i.test(t) || /^[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}$/i.test(t)) {
    const mac = parseMac(t);
    if (mac) return { kind: 'mac', text: t, mac };
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(t);
  if (m) {
    const port = m[3] ? Number(m[3]) : undefined;
    if (port !== undefined && (port < 1 || port > 65535)) return { error: `"${t}": port out of range` };
    return { kind: 'host', text: t, host: m[1] ?? m[2]!, port };
  }
  return { error: `"${t}" is not a SIP URI, HOST[:PORT], MAC or "all"` };
}

/** A phone from the inventory, as far as notify needs it. */
export interface InventoryPhone {
  mac: Mac;
  model?: string;
  /** Address the phone last talked to the boot server from. */
  address?: string;
  sipUser?: string;
  sipPort?: number;
  lastSeen?: Date;
}

/** The reg.1 line and SIP port from the phone's effective configuration. */
export interface LineConfig {
  /** reg.1.address: `1001` or `1001@pbx.example.com`. */
  address?: string;
  /** reg.1.auth.userId / reg.1.auth.password: what the phone challenges against (facts §4.1). */
  userId?: string;
  password?: string;
  /** voIpProt.SIP.local.port (default 5060). */
  localPort?: number;
  /** apps.push.username / apps.push.password (push server, facts §3.5). */
  pushUser?: string;
  pushPassword?: string;
}

/**
 * The inventory as notify sees it. The CLI binds it to the store and the resolver; tests may
 * bind a fake. `seenSince` answers whether the phone came back to the boot server.
 */
export interface Inventory {
  get(mac: Mac): Promise<InventoryPhone | undefined>;
  list(): Promise<InventoryPhone[]>;
  lineConfig(phone: InventoryPhone): Promise<LineConfig>;
  seenSince(mac: Mac, since: Date): Promise<boolean>;
}

/** A target ready to send to. */
export interface ResolvedTarget {
  /** As given (or the MAC for `all`). */
  target: string;
  mac?: Mac;
  /** Request-URI and To. */
  uri: SipUri;
  /** Where to send (before any outbound proxy); host may still be a name. */
  host: string;
  port: number;
  transport: SipTransport;
  credentials?: DigestCredentials;
  pushCredentials?: DigestCredentials;
  /** The push URL when --push. */
  pushUrl?: string;
  /** Why this target cannot be sent to (inventory has no address, …). */
  error?: string;
}

export function defaultPort(t: SipTransport): number {
  return t === 'tls' ? 5061 : 5060;
}

function transportOf(uri: SipUri, fallback: SipTransport): SipTransport {
  if (uri.scheme === 'sips') return 'tls';
  const p = uri.params.get('transport')?.toLowerCase();
  return p === 'tcp' || p === 'tls' || p === 'udp' ? p : fallback;
}


function userPart(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const a = address.replace(/^sips?:/i, '');
  const at = a.indexOf('@');
  const u = at >= 0 ? a.slice(0, at) : a;
  return u || undefined;
}

export interface ResolveOptions {
  transport: SipTransport;
  credentials?: DigestCredentials;
  push: boolean;
  pushScheme: 'http' | 'https';
}

/** Expands `all`, looks MACs up in the inventory, and turns every target into a ResolvedTarget. */
export async function resolveTargets(specs: TargetSpec[], inventory: Inventory | undefined, opts: ResolveOptions): Promise<ResolvedTarget[]> {
  const out: ResolvedTarget[] = [];
  const seen = new Set<string>();
  const push = (t: ResolvedTarget) => {
    const key = t.mac ?? t.target;
    if (seen.has(key)) return; // `all 0004f2000001` names one phone twice; notify it once
    seen.add(key);
    out.push(t);
  };
  for (const spec of specs) {
    switch (spec.kind) {
      case 'uri': {
        const transport = transportOf(spec.uri, opts.transport);
        push({ target: spec.text, uri: spec.uri, host: stripBrackets(spec.uri.host), port: spec.uri.port ?? defaultPort(transport), transport, credentials: opts.credentials,
          pushCredentials: opts.credentials, pushUrl: `${opts.pushScheme}://${spec.uri.host}/push` });
        break;
      }
      case 'host': {
        const port = spec.port ?? defaultPort(opts.transport);
        const uri: SipUri = { scheme: opts.transport === 'tls' ? 'sips' : 'sip', host: spec.host.includes(':') ? `[${spec.host}]` : spec.host, port, params: new Map() };
        if (opts.transport === 'tcp') uri.params.set('transport', 'tcp');
        push({ target: spec.text, uri, host: spec.host, port, transport: opts.transport, credentials: opts.credentials, pushCredentials: opts.credentials,
          pushUrl: `${opts.pushScheme}://${uri.host}${spec.port ? `:${spec.port}` : ''}/push` });
        break;
      }
      case 'url': {
        const host = spec.url.hostname.replace(/^\[|\]$/g, '');
        const uri: SipUri = { scheme: 'sip', host: spec.url.hostname, params: new Map() };
        push({ target: spec.text, uri, host, port: defaultPort(opts.transport), transport: opts.transport, credentials: opts.credentials, pushCredentials: opts.credentials,
          pushUrl: spec.url.pathname === '/' ? new URL('/push', spec.url).href : spec.url.href });
        break;
      }
      case 'mac':
      case 'all': {
        if (!inventory) {
          push({ target: spec.text, uri: { scheme: 'sip', host: 'invalid', params: new Map() }, host: '', port: 0, transport: opts.transport, error: 'no inventory to look the phone up in' });
          break;
        }
        const phones = spec.kind === 'all' ? await inventory.list() : [await inventory.get(spec.mac)].filter((p): p is InventoryPhone => !!p);
        if (spec.kind === 'mac' && phones.length === 0) {
          push({ target: spec.text, mac: spec.mac, uri: { scheme: 'sip', host: 'invalid', params: new Map() }, host: '', port: 0, transport: opts.transport,
            error: 'not in the inventory (the phone has never contacted the boot server)' });
          break;
        }
        for (const p of phones) push(await fromInventory(spec.kind === 'all' ? p.mac : spec.text, p, inventory, opts));
        break;
      }
    }
  }
  return out;
}

function stripBrackets(h: string): string {
  return h.replace(/^\[|\]$/g, '');
}

async function fromInventory(target: string, p: InventoryPhone, inv: Inventory, opts: ResolveOptions): Promise<ResolvedTarget> {
  const line = await inv.lineConfig(p).catch(() => ({}) as LineConfig);
  const address = p.address ? plainAddress(p.address) : undefined;
  // Issue 13 item 20: a port neither learned nor configured is not guessed (5060 would mean a
  // 32-second timeout for a phone listening elsewhere); the target is an error saying how to fix it.
  const knownPort = p.sipPort ?? line.localPort;
  const port = knownPort ?? defaultPort(opts.transport);
  // The phone's own line user: learned from its SIP traffic first, else reg.1.address.
  const user = p.sipUser ?? userPart(line.address);
  const host = address && address.includes(':') ? `[${address}]` : address;
  const uri: SipUri = { scheme: opts.transport === 'tls' ? 'sips' : 'sip', user, host: host ?? 'invalid', port, params: new Map() };
  if (opts.transport === 'tcp') uri.params.set('transport', 'tcp');
  // The phone challenges with its line credentials (reg.1.auth.userId/password); an explicit
  // --user overrides them. reg.x.auth.userId falls back to the address user, as phones do.
  const lineUser = line.userId || userPart(line.address);
  const credentials = opts.credentials ?? (lineUser && line.password ? { user: lineUser, password: line.password } : undefined);
  const pushCredentials = opts.credentials ?? (line.pushUser && line.pushPassword ? { user: line.pushUser, password: line.pushPassword } : undefined);
  const base: ResolvedTarget = { target, mac: p.mac, uri, host: address ?? '', port, transport: opts.transport, credentials, pushCredentials,
    pushUrl: host ? `${opts.pushScheme}://${host}/push` : undefined };
  if (!address) return { ...base, error: 'the inventory has no address for this phone' };
  if (!user && !opts.push) return { ...base, error: 'no SIP user for this phone (no reg.1.address in its configuration and none learned); refusing a user-less NOTIFY to a fleet phone' };
  if (knownPort === undefined && !opts.push) return { ...base, error: portUnknown(address, user) };
  return base;
}

function portUnknown(address: string, user: string | undefined): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return (
    `its SIP port was never learned and its configuration sets no voIpProt.SIP.local.port, so polyprov will not guess 5060. ` +
    `Fix: give the address and port explicitly (polyprov notify sip:${user ?? 'USER'}@${host}:PORT), ` +
    `or set voIpProt.SIP.local.port in the phone's configuration (and let the phone boot once so it listens there)`
  );
}
