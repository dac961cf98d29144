import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { getHeader, getHeaderList, parseCSeq, parseMessage, parseVia, serialiseMessage, StreamFramer, tagOf } from './message.ts';

const OK = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport=5060, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKdef',
  'From: <sip:akihabara>;tag=1530231855-106746376154',
  'To: <sip:192.168.1.104:5060>;tag=x',
  'Call-ID: b98cd3c4-f37c265b-c864532',
  'CSeq: 1 NOTIFY',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('SIP codec (RFC 3261 §7)', () => {
  test('parses a response; Via list split at commas; CSeq, tag, Via params', () => {
    const r = parseMessage(OK);
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.kind !== 'response') throw new Error('expected a response');
    expect(r.message.status).toBe(200);
    const vias = getHeaderList(r.message, 'via');
    expect(vias).toHaveLength(2);
    expect(parseVia(vias[0]!)).toMatchObject({ transport: 'UDP', host: '10.0.0.1', port: 5060 });
    expect(parseVia(vias[0]!)!.params.get('branch')).toBe('z9hG4bKabc');
    expect(parseCSeq(getHeader(r.message, 'CSeq'))).toEqual({ seq: 1, method: 'NOTIFY' });
    expect(tagOf(getHeader(r.message, 'From'))).toBe('1530231855-106746376154');
  });

  test('RFC 3261 §7.3.3 compact forms and §7.3.1 folding', () => {
    const r = parseMessage('SIP/2.0 401 Unauthorized\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\ni: abc\r\nWWW-Authenticate: Digest realm="PolycomSPIP",\r\n nonce="n"\r\nl: 0\r\n\r\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(getHeader(r.message, 'Call-ID')).toBe('abc');
    expect(getHeader(r.message, 'Via')).toContain('branch=z9hG4bK1');
    expect(getHeader(r.message, 'www-authenticate')).toBe('Digest realm="PolycomSPIP", nonce="n"');
  });

  test('round trip: serialise writes Content-Length from the body and strips CR/LF from values', () => {
    const b = serialiseMessage({ kind: 'request', method: 'NOTIFY', uri: 'sip:1001@10.0.0.5', headers: [{ name: 'Event', value: 'check-sync\r\nX: injected' }, { name: 'Content-Length', value: '99' }], body: Buffer.alloc(0) });
    const text = b.toString();
    expect(text).toContain('Event: check-sync X: injected\r\n');
    expect(text).toMatch(/Content-Length: 0\r\n\r\n$/);
    expect(text.match(/Content-Length/g)).toHaveLength(1);
    const r = parseMessage(b);
    expect(r.ok && r.message.kind === 'request' && r.message.method).toBe('NOTIFY');
  });

  test('malformed input is an error value, never a throw', () => {
    for (const bad of ['', 'garbage', 'SIP/2.0 999 Nope\r\n\r\n', 'SIP/2.0 200 OK\r\nNoColon\r\n\r\n', 'SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nab',
      'SIP/2.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'SIP/2.0 200 OK\r\nX: a\x00b\r\n\r\n', ' leading continuation\r\n\r\n']) {
      const r = parseMessage(bad);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
    }
  });

  test('fuzz: parseMessage never throws on arbitrary bytes or mangled responses (seed 42)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      const r = parseMessage(Buffer.from(bytes));
      expect(typeof r.ok).toBe('boolean');
    }), { seed: 42, numRuns: 2000 });
    fc.assert(fc.property(fc.integer({ min: 0, max: OK.length }), fc.string({ maxLength: 40 }), (cut, junk) => {
      const r = parseMessage(OK.slice(0, cut) + junk + OK.slice(cut));
      expect(typeof r.ok).toBe('boolean');
    }), { seed: 42, numRuns: 2000 });
  });

  test('RFC 3261 §18.3 stream framing by Content-Length, across chunk boundaries; no Content-Length is fatal', () => {
    const f = new StreamFramer();
    const two = Buffer.from(`${OK}\r\n${OK.replace('Content-Length: 0', 'Content-Length: 3')}abc`);
    const got = [] as boolean[];
    for (let i = 0; i < two.length; i += 7) for (const m of f.push(two.subarray(i, i + 7)).messages) got.push(m.ok);
    expect(got).toEqual([true, true]);
    expect(new StreamFramer().push(Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\n\r\n')).fatal).toBeDefined();
  });
});
