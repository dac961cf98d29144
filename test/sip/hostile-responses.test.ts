// Garbage and hostile answers never crash the sender; responses that do not match the
// transaction (RFC 3261 §17.1.3: branch and CSeq method; we also insist on Call-ID and CSeq
// number) are ignored. Raw sockets on loopback play the hostile phone.
import dgram from 'node:dgram';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { CheckSyncSender } from '../../src/sip/notify.ts';
import { getHeader, parseMessage, type SipRequest } from '../../src/sip/message.ts';
import { parseSipUri } from '../../src/sip/targets.ts';
import { prng } from '../support/prng.ts';

const TIMERS = { t1Ms: 50, t2Ms: 4000 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function answer(req: SipRequest, status: string, over: Partial<Record<'Via' | 'Call-ID' | 'CSeq', string>> = {}): Buffer {
  const h = (n: 'Via' | 'Call-ID' | 'CSeq') => over[n] ?? getHeader(req, n)!;
  return Buffer.from(`SIP/2.0 ${status}\r\nVia: ${h('Via')}\r\nFrom: ${getHeader(req, 'From')}\r\nTo: ${getHeader(req, 'To')};tag=p\r\nCall-ID: ${h('Call-ID')}\r\nCSeq: ${h('CSeq')}\r\nContent-Length: 0\r\n\r\n`);
}

async function udpPhone(onRequest: (req: SipRequest, reply: (b: Buffer) => void, n: number) => void): Promise<{ port: number; received: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  sock.on('message', (buf, rinfo) => {
    received.push(buf);
    const p = parseMessage(buf);
    if (p.ok && p.message.kind === 'request') onRequest(p.message, (b) => sock.send(b, rinfo.port, rinfo.address), received.length);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return { port: sock.address().port, received };
}

function newSender(opts: Partial<ConstructorParameters<typeof CheckSyncSender>[0]> = {}) {
  const s = new CheckSyncSender({ timers: TIMERS, ...opts });
  cleanups.push(() => s.close());
  return s;
}
const target = (port: number, transport: 'udp' | 'tcp' = 'udp') => ({ uri: parseSipUri(`sip:1001@127.0.0.1:${port}`)!, host: '127.0.0.1', port, transport });

describe('RFC 3261 §17.1.3 response matching against hostile phones', () => {
  test('random bytes, then responses with a wrong branch, Call-ID and CSeq, then the real 200: only the real one counts', async () => {
    const rnd = prng(42);
    const phone = await udpPhone((req, reply) => {
      for (let i = 0; i < 20; i++) reply(Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 600) }, () => Math.floor(rnd() * 256))));
      reply(Buffer.from('SIP/2.0 200 OK\r\n\r\n')); // no Via at all
      reply(answer(req, '500 Wrong Branch', { Via: getHeader(req, 'Via')!.replace(/branch=[^;]+/, 'branch=z9hG4bKforged') }));
      reply(answer(req, '503 Wrong Call-ID', { 'Call-ID': 'someone-else@evil' }));
      reply(answer(req, '486 Wrong CSeq', { CSeq: '99 NOTIFY' }));
      reply(answer(req, '480 Wrong Method', { CSeq: '1 INVITE' }));
      reply(Buffer.from(`OPTIONS sip:polyprov@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n`));
      reply(answer(req, '200 OK'));
    });
    const s = newSender();
    const r = await s.send(target(phone.port));
    expect(r.status).toBe(200);
    expect(s.drops.unparseable).toBeGreaterThanOrEqual(20);
    expect(s.drops.unmatched).toBeGreaterThanOrEqual(2);
    expect(s.drops.requests).toBe(1);
  });

  test('a phone answering only garbage ends in timeout within timer F, and the sender still works afterwards', async () => {
    const rnd = prng(7);
    const phone = await udpPhone((req, reply) => {
      reply(Buffer.from(Array.from({ length: 300 }, () => Math.floor(rnd() * 256))));
      reply(answer(req, '200 OK', { 'Call-ID': 'not-yours' }));
    });
    const s = newSender();
    const r = await s.send(target(phone.port));
    expect(r.status).toBe('timeout');
    const good = await udpPhone((req, reply) => reply(answer(req, '200 OK')));
    expect((await s.send(target(good.port))).status).toBe(200);
  });

  test('1xx then 200 over UDP: provisional responses move to Proceeding, the final one ends the transaction', async () => {
    const phone = await udpPhone((req, reply, n) => {
      if (n === 1) reply(answer(req, '100 Trying'));
      if (n === 2) reply(answer(req, '202 Accepted'));
    });
    const r = await newSender().send(target(phone.port));
    expect(r.status).toBe(202);
    expect(r.transmissions).toBe(2);
  });

  test('TCP: a stream that breaks framing (no Content-Length) is an error, not a crash', async () => {
    const server = net.createServer((c) => c.once('data', () => c.write('SIP/2.0 200 OK\r\nVia: x\r\n\r\n')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const r = await newSender().send(target((server.address() as net.AddressInfo).port, 'tcp'));
    expect(r.status).toBe('error');
    expect(r.error).toMatch(/framing/);
  });

  test('TCP: connection refused is reported per target', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const r = await newSender().send(target(port, 'tcp'));
    expect(r.status).toBe('error');
  });

  test('outbound proxy (RFC 3261 §8.1.2): sent to the proxy address with a loose Route; Request-URI stays the phone', async () => {
    let seen: SipRequest | undefined;
    const proxy = await udpPhone((req, reply) => {
      seen = req;
      reply(answer(req, '200 OK'));
    });
    const r = await newSender({ proxy: { host: '127.0.0.1', port: proxy.port } }).send(target(9));
    expect(r.status).toBe(200);
    expect(r.address).toBe(`127.0.0.1:${proxy.port}`);
    expect(seen!.uri).toBe('sip:1001@127.0.0.1:9');
    expect(getHeader(seen!, 'Route')).toBe(`<sip:127.0.0.1:${proxy.port};lr>`);
  });

  test('407 from a proxy is answered with Proxy-Authorization, a new CSeq and branch, the same Call-ID', async () => {
    const reqs: SipRequest[] = [];
    const proxy = await udpPhone((req, reply) => {
      reqs.push(req);
      if (!getHeader(req, 'Proxy-Authorization')) {
        const b = answer(req, '407 Proxy Authentication Required').toString().replace('Content-Length', 'Proxy-Authenticate: Digest realm="pbx", nonce="pn", qop="auth"\r\nContent-Length');
        reply(Buffer.from(b));
      } else reply(answer(req, '200 OK'));
    });
    const r = await newSender({ proxy: { host: '127.0.0.1', port: proxy.port } }).send({ ...target(9), credentials: { user: 'admin', password: 'pw' } });
    expect(r.status).toBe(200);
    expect(r.challenges).toBe(1);
    expect(reqs.map((q) => getHeader(q, 'CSeq'))).toEqual(['1 NOTIFY', '2 NOTIFY']);
    expect(getHeader(reqs[0]!, 'Call-ID')).toBe(getHeader(reqs[1]!, 'Call-ID'));
    expect(getHeader(reqs[0]!, 'Via')).not.toBe(getHeader(reqs[1]!, 'Via'));
    expect(getHeader(reqs[1]!, 'Proxy-Authorization')).toMatch(/^Digest username="admin", realm="pbx"/);
  });

  test('a 401 without credentials is reported as 401 with a hint, and a repeated challenge is not looped on', async () => {
    let n = 0;
    const phone = await udpPhone((req, reply) => {
      n++;
      reply(Buffer.from(answer(req, '401 Unauthorized').toString().replace('Content-Length', 'WWW-Authenticate: Digest realm="PolycomSPIP", nonce="x", qop="auth"\r\nContent-Length')));
    });
    const s = newSender();
    const r1 = await s.send(target(phone.port));
    expect(r1.status).toBe(401);
    expect(r1.error).toMatch(/--user/);
    const r2 = await s.send({ ...target(phone.port), credentials: { user: 'u', password: 'bad' } });
    expect(r2.status).toBe(401);
    expect(r2.challenges).toBe(1);
    expect(n).toBe(3);
  });
  test('RFC 7616 SHA-256 challenge: answered with algorithm=SHA-256, verified independently by the phone', async () => {
    const sha = (x: string) => createHash('sha256').update(x).digest('hex');
    const phone = await udpPhone((req, reply) => {
      const a = getHeader(req, 'Authorization');
      if (!a) {
        reply(Buffer.from(answer(req, '401 Unauthorized').toString().replace('Content-Length', 'WWW-Authenticate: Digest realm="PolycomSPIP", nonce="n256", qop="auth", algorithm=SHA-256\r\nContent-Length')));
        return;
      }
      const f = new Map([...a.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1]!, m[2] ?? m[3]!]));
      const expected = sha(`${sha('1001:PolycomSPIP:pw256')}:n256:${f.get('nc')}:${f.get('cnonce')}:auth:${sha(`NOTIFY:${f.get('uri')}`)}`);
      reply(answer(req, f.get('response') === expected && f.get('algorithm') === 'SHA-256' && f.get('uri') === req.uri ? '200 OK' : '403 Forbidden'));
    });
    const r = await newSender().send({ ...target(phone.port), credentials: { user: '1001', password: 'pw256' } });
    expect(r.status).toBe(200);
    const bad = await newSender().send({ ...target(phone.port), credentials: { user: '1001', password: 'nope' } });
    expect(bad.status).toBe(403);
  });
});
