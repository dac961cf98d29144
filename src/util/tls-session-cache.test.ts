import { createServer } from 'node:https';
import { connect } from 'node:tls';
import { constants } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { makeCertificate } from './certificate.ts';
import { serveTlsSessions, sessionIdContext, sessionProtocol, ticketKeysFor, TlsSessionCache, type TlsSessionLimits } from './tls-session-cache.ts';

const LIMITS: TlsSessionLimits = { maxEntries: 3, maxBytes: 100, maxEntryBytes: 40, ttlMs: 1000 };
const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe('issue 16 One machine: the TLS session cache is bounded in entries, bytes and age', () => {
  test('entries: the oldest goes first; a put again makes an entry the newest', () => {
    const c = new TlsSessionCache(LIMITS, () => 0);
    for (const k of ['a', 'b', 'c']) c.put(k, bytes(10));
    c.put('a', bytes(10, 2));
    c.put('d', bytes(10));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toEqual(bytes(10, 2));
    expect([c.get('c'), c.get('d')].every(Boolean)).toBe(true);
    expect(c.size).toBe(3);
    expect(c.bytes).toBe(30);
  });

  test('bytes: older entries go until the new one fits; a session over maxEntryBytes is not kept', () => {
    const c = new TlsSessionCache(LIMITS, () => 0);
    c.put('a', bytes(40));
    c.put('b', bytes(40));
    c.put('c', bytes(30));
    expect(c.get('a')).toBeUndefined();
    expect(c.bytes).toBe(70);
    c.put('big', bytes(41));
    expect(c.get('big')).toBeUndefined();
    expect(c.bytes).toBe(70);
  });

  test('age: an entry as old as the TTL is a miss and is dropped; a put drops expired ones', () => {
    let now = 0;
    const c = new TlsSessionCache(LIMITS, () => now);
    c.put('a', bytes(10));
    now = 500;
    c.put('b', bytes(10));
    now = 999;
    expect(c.get('a')).toBeDefined();
    now = 1000;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(1);
    now = 1600;
    c.put('c', bytes(10));
    expect(c.size).toBe(1);
    expect(c.bytes).toBe(10);
  });

  test('a slice of a shared buffer pool is kept as its own copy (an evicted session frees its bytes)', () => {
    const c = new TlsSessionCache(LIMITS, () => 0);
    const pooled = Buffer.from(bytes(20, 9).toString('base64'), 'base64');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    c.put('a', pooled);
    const kept = c.get('a')!;
    expect(kept).toEqual(pooled);
    expect(kept.buffer.byteLength).toBe(kept.length);
  });

  test('the default bounds hold under 30,000 puts of 1 KiB (entries and bytes)', () => {
    const c = new TlsSessionCache();
    for (let i = 0; i < 30_000; i++) c.put(`k${i}`, bytes(1024));
    expect(c.size).toBeLessThanOrEqual(20_000);
    expect(c.bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(c.get('k29999')).toBeDefined();
    expect(c.get('k0')).toBeUndefined();
  });
});

describe('issue 16 One machine: sessionIdContext and ticket keys are derived per listener kind', () => {
  test('the same base gives the same value in every worker, and HTTPS and FTPS differ', () => {
    expect(sessionIdContext('base', 'https')).toBe(sessionIdContext('base', 'https'));
    expect(sessionIdContext('base', 'https')).not.toBe(sessionIdContext('base', 'ftps'));
    expect(sessionIdContext('base', 'https')).toHaveLength(32);
    const keys = bytes(48, 7);
    expect(ticketKeysFor(keys, 'ftps')).toEqual(ticketKeysFor(Buffer.from(keys), 'ftps'));
    expect(ticketKeysFor(keys, 'ftps')).toHaveLength(48);
    expect(ticketKeysFor(keys, 'ftps')).not.toEqual(keys);
  });
});

describe('issue 16 One machine: a listener keeps TLS 1.2 sessions by ID, not TLS 1.3 ones', () => {
  test('newSession stores the TLS 1.2 session (sessionProtocol 0x0303) a no-ticket client resumes; TLS 1.3 sessions are not kept', async () => {
    const { cert, key } = makeCertificate({ cn: '127.0.0.1', altNames: ['127.0.0.1'] });
    const server = createServer({ cert, key }, (_q, r) => r.end('ok'));
    const puts: Buffer[] = [];
    const cache = new TlsSessionCache();
    serveTlsSessions(server, { put: (k, d) => (puts.push(d), cache.put(k, d)), get: (k) => Promise.resolve(cache.get(k)) }, 'https');
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const once = (opts: object, session?: Buffer) =>
      new Promise<{ reused: boolean; session?: Buffer }>((resolve, reject) => {
        let next: Buffer | undefined;
        const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts, ...(session ? { session } : {}) }, () => {
          const reused = s.isSessionReused();
          s.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          s.on('close', () => resolve({ reused, session: next }));
        });
        s.on('session', (b: Buffer) => (next = b));
        s.on('data', () => {});
        s.on('error', reject);
      });
    try {
      const noTicket = { maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_TICKET };
      const first = await once(noTicket);
      expect(puts.map(sessionProtocol)).toEqual([0x0303]);
      expect((await once(noTicket, first.session)).reused).toBe(true);
      const tls13 = await once({});
      expect((await once({}, tls13.session)).reused).toBe(true); // by its ticket
      expect(puts).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('sessionProtocol reads short and long DER lengths, and nothing from garbage', () => {
    expect(sessionProtocol(Buffer.from('30819b020101020203030402', 'hex'))).toBe(0x0303);
    expect(sessionProtocol(Buffer.from('307f020101020203040402', 'hex'))).toBe(0x0304);
    expect(sessionProtocol(Buffer.from('3082010002010102020301', 'hex'))).toBe(0x0301);
    expect(sessionProtocol(Buffer.from('300102', 'hex'))).toBeUndefined();
    expect(sessionProtocol(Buffer.alloc(0))).toBeUndefined();
  });
});
