// SIP message codec (RFC 3261 §7, §20): parse and serialise requests and responses.
//
//   Request-Line  = Method SP Request-URI SP SIP-Version CRLF      NOTIFY sip:1001@10.0.0.5:5060 SIP/2.0
//   Status-Line   = SIP-Version SP Status-Code SP Reason-Phrase CRLF   SIP/2.0 200 OK
//   *( message-header CRLF )  CRLF  [ message-body ]
//
// Everything arriving here comes from the network, possibly hostile: nothing in the parsing API
// throws. A parse returns `{ ok: false, error }` instead, and the caller ignores the datagram
// (RFC 3261 §18.1.2: "the client transport MUST discard" a malformed response).
import { Buffer } from 'node:buffer';

export interface SipHeader {
  name: string;
  value: string;
}

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeader[];
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeader[];
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export type ParseResult = { ok: true; message: SipMessage } | { ok: false; error: string };

/** Largest message we accept (a check-sync answer is a few hundred bytes; RFC 3261 §18.1.1 keeps UDP under the MTU). */
export const MAX_MESSAGE_BYTES = 65_535;
const MAX_HEADERS = 200;

/** RFC 3261 §7.3.3 compact header forms, mapped to their full names. */
const COMPACT: Record<string, string> = {
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  o: 'Event', // RFC 3265 §7.2
  u: 'Allow-Events',
};

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** The canonical (full, lower-cased) form of a header name, for comparisons. */
export function headerKey(name: string): string {
  const n = name.trim();
  const full = n.length === 1 ? COMPACT[n.toLowerCase()] : undefined;
  return (full ?? n).toLowerCase();
}

/** Parses one datagram, or one framed stream message. Never throws. */
export function parseMessage(input: Buffer | string): ParseResult {
  try {
    return parseUnsafe(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  } catch (err) {
    // Belt and braces: a bug in the parser must still not take the sender down.
    return { ok: false, error: `unparseable: ${(err as Error).message}` };
  }
}

function parseUnsafe(buf: Buffer): ParseResult {
  if (buf.length === 0) return { ok: false, error: 'empty message' };
  if (buf.length > MAX_MESSAGE_BYTES) return { ok: false, error: `message over ${MAX_MESSAGE_BYTES} bytes` };
  // RFC 3261 §7.5: implementations should ignore CRLFs before the start line (keep-alives).
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  const headEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
  // Some stacks answer with bare LF; accept that too.
  const lfEnd = headEnd < 0 ? buf.indexOf('\n\n', start, 'latin1') : -1;
  if (headEnd < 0 && lfEnd < 0) return { ok: false, error: 'no blank line after the headers' };
  const headBytes = buf.subarray(start, headEnd >= 0 ? headEnd : lfEnd);
  const bodyStart = headEnd >= 0 ? headEnd + 4 : lfEnd + 2;
  // Header text is UTF-8 by RFC 3261 §7.3.1, but a NUL or other control byte is never valid.
  const head = headBytes.toString('utf8');
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(head)) return { ok: false, error: 'control characters in the header block' };
  const lines = head.split(/\r?\n/);
  const startLine = lines.shift() ?? '';

  // Header folding (RFC 3261 §7.3.1): a line starting with whitespace continues the previous one.
  const headers: SipHeader[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      const last = headers[headers.length - 1];
      if (!last) return { ok: false, error: 'continuation line before any header' };
      last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return { ok: false, error: `header line without a name: ${JSON.stringify(line.slice(0, 40))}` };
    const name = line.slice(0, colon).trim();
    if (!TOKEN.test(name)) return { ok: false, error: `bad header name ${JSON.stringify(name.slice(0, 40))}` };
    headers.push({ name, value: line.slice(colon + 1).trim() });
    if (headers.length > MAX_HEADERS) return { ok: false, error: `more than ${MAX_HEADERS} headers` };
  }

  let body = buf.subarray(bodyStart);
  const cl = headerValues(headers, 'content-length');
  if (cl.length > 0) {
    if (cl.length > 1 && new Set(cl).size > 1) return { ok: false, error: 'conflicting Content-Length headers' };
    const n = /^\d{1,9}$/.test(cl[0]!) ? Number(cl[0]) : NaN;
    if (!Number.isFinite(n)) return { ok: false, error: `bad Content-Length ${JSON.stringify(cl[0]!.slice(0, 20))}` };
    // RFC 3261 §18.3: over UDP a body shorter than Content-Length is an error; longer is truncated.
    if (n > body.length) return { ok: false, error: `Content-Length ${n} but only ${body.length} body bytes` };
    body = body.subarray(0, n);
  }

  const status = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/.exec(startLine);
  if (status) {
    return { ok: true, message: { kind: 'response', status: Number(status[1]), reason: status[2] ?? '', headers, body: Buffer.from(body) } };
  }
  const req = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/2\.0$/.exec(startLine);
  if (req) {
    return { ok: true, message: { kind: 'request', method: req[1]!, uri: req[2]!, headers, body: Buffer.from(body) } };
  }
  return { ok: false, error: `not a SIP/2.0 start line: ${JSON.stringify(startLine.slice(0, 60))}` };
}

/** Serialises a message; Content-Length is always written from the body (RFC 3261 §20.14, mandatory over streams). */
export function serialiseMessage(msg: SipMessage): Buffer {
  const startLine = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines = [startLine];
  for (const h of msg.headers) {
    if (headerKey(h.name) === 'content-length') continue;
    // Never let a value smuggle a header or a message boundary.
    lines.push(`${h.name}: ${h.value.replace(/[\r\n]+/g, ' ')}`);
  }
  lines.push(`Content-Length: ${msg.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), msg.body]);
}

function headerValues(headers: SipHeader[], key: string): string[] {
  return headers.filter((h) => headerKey(h.name) === key).map((h) => h.value);
}

/** First value of a header (compact forms understood). */
export function getHeader(msg: { headers: SipHeader[] }, name: string): string | undefined {
  const key = headerKey(name);
  return msg.headers.find((h) => headerKey(h.name) === key)?.value;
}

/**
 * All values of a header, split at top-level commas for headers that may be combined
 * (RFC 3261 §7.3.1: Via, Route, Contact …). Quoted strings and <…> are respected.
 */
export function getHeaderList(msg: { headers: SipHeader[] }, name: string): string[] {
  const out: string[] = [];
  for (const v of headerValues(msg.headers, headerKey(name))) out.push(...splitTopLevel(v, ','));
  return out.map((s) => s.trim()).filter(Boolean);
}

/** Splits at `sep` outside quotes and angle brackets. */
export function splitTopLevel(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      cur += ch;
      if (ch === '\\' && i + 1 < s.length) cur += s[++i];
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === '<') angle++;
    else if (ch === '>' && angle > 0) angle--;
    else if (ch === sep && angle === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** `;name=value` parameters (names lower-cased; a flag parameter gets ''). */
export function parseParams(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of splitTopLevel(s, ';')) {
    const t = p.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq < 0) m.set(t.toLowerCase(), '');
    else m.set(t.slice(0, eq).trim().toLowerCase(), unquote(t.slice(eq + 1).trim()));
  }
  return m;
}

export function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/\\(.)/g, '$1');
  return s;
}

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Map<string, string>;
}

/** RFC 3261 §20.42: `SIP/2.0/UDP host[:port];branch=…`. Undefined when malformed. */
export function parseVia(value: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^\s;:]+)(?::(\d{1,5}))?\s*((?:;.*)?)$/.exec(value.trim());
  if (!m) return undefined;
  return { transport: m[1]!.toUpperCase(), host: m[2]!, port: m[3] ? Number(m[3]) : undefined, params: parseParams(m[4] ?? '') };
}

/** RFC 3261 §20.16: `CSeq: 1 NOTIFY`. */
export function parseCSeq(value: string | undefined): { seq: number; method: string } | undefined {
  const m = value ? /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/.exec(value.trim()) : null;
  if (!m) return undefined;
  const seq = Number(m[1]);
  return seq < 2 ** 31 ? { seq, method: m[2]! } : undefined;
}

/** The tag parameter of a From/To value (`<sip:a@b>;tag=x`), if any. */
export function tagOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const close = value.lastIndexOf('>');
  const params = close >= 0 ? value.slice(close + 1) : value.slice(value.indexOf(';') >= 0 ? value.indexOf(';') : value.length);
  return parseParams(params).get('tag');
}

/**
 * Frames SIP messages out of a byte stream (TCP/TLS, RFC 3261 §18.3): headers up to the blank
 * line, then exactly Content-Length body bytes. A stream that breaks framing cannot be
 * resynchronised, so `push` then reports an error and the caller closes the connection.
 */
export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns complete messages (parsed or not) and whether the stream is beyond repair. */
  push(chunk: Buffer): { messages: ParseResult[]; fatal?: string } {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const messages: ParseResult[] = [];
    for (let guard = 0; guard < 1000; guard++) {
      // Skip keep-alive CRLFs (RFC 5626 §3.5.1) between messages.
      let s = 0;
      while (s < this.buf.length && (this.buf[s] === 0x0d || this.buf[s] === 0x0a)) s++;
      if (s > 0) this.buf = this.buf.subarray(s);
      if (this.buf.length === 0) break;
      const headEnd = this.buf.indexOf('\r\n\r\n', 0, 'latin1');
      if (headEnd < 0) {
        if (this.buf.length > MAX_MESSAGE_BYTES) return { messages, fatal: 'header block too long' };
        break;
      }
      const head = this.buf.subarray(0, headEnd).toString('latin1');
      const m = /(?:^|\r\n)(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*(?:\r\n|$)/i.exec(head);
      // RFC 3261 §18.3: Content-Length is mandatory over streams; without it, no framing is possible.
      if (!m) return { messages, fatal: 'message without Content-Length on a stream' };
      const total = headEnd + 4 + Number(m[1]);
      if (total > MAX_MESSAGE_BYTES) return { messages, fatal: 'message too large' };
      if (this.buf.length < total) break;
      messages.push(parseMessage(this.buf.subarray(0, total)));
      this.buf = this.buf.subarray(total);
    }
    return { messages };
  }
}
