import { describe, expect, test } from 'vitest';
import { answerInform, identifyPhone, sightingFor, type InformConfig } from './inform.ts';
import { bootOptions } from './boot-option.ts';
import { BOOTREPLY, BOOTREQUEST, MessageType, Opt, chaddrFromMac, decodeDhcp, encodeDhcp, messageType, optionText, type DhcpPacket } from './packet.ts';

/** Facts §5.2: the guide's IP 650 example, bootROM phase, written out byte by byte. */
function ip650Option60(): Buffer {
  const sub = (code: number, s: string) => Buffer.concat([Buffer.from([code, s.length]), Buffer.from(s, 'latin1')]);
  const list = Buffer.concat([
    sub(1, 'Polycom'),
    sub(2, 'SoundPointIP-SPIP_650'),
    sub(3, '2345-12600-001,1'),
    sub(4, 'BR/4.0.0.0155/23-May-07 13:35'),
    sub(5, 'BR/4.0.0.0155/23-May-07 13:35'),
  ]);
  return Buffer.concat([Buffer.from([0x00, 0x00, 0x36, 0x3d, list.length]), list]);
}

const cfg = (over: Partial<InformConfig> = {}): InformConfig => ({
  bootServer: 'http://192.0.2.10/prov/',
  options: bootOptions([66], undefined),
  onlyPolycom: false,
  serverId: '192.0.2.1',
  replyPort: 68,
  relayPort: 67,
  ...over,
});

function pkt(o: { type?: number; mac?: string; ciaddr?: string; giaddr?: string; opts?: Array<[number, Buffer]> } = {}): Buffer {
  return encodeDhcp({
    op: BOOTREQUEST,
    xid: 0xabcdef01,
    ciaddr: o.ciaddr ?? '192.0.2.20',
    giaddr: o.giaddr,
    chaddr: chaddrFromMac(o.mac ?? '0004f2abcdef'),
    options: [[Opt.MESSAGE_TYPE, Buffer.from([o.type ?? MessageType.INFORM])], ...(o.opts ?? [])],
  });
}

const from = { address: '192.0.2.20', port: 68 };

function reply(d: ReturnType<typeof answerInform>): DhcpPacket {
  if (d.kind !== 'reply') throw new Error(`expected a reply, got ${d.kind}: ${'reason' in d ? d.reason : ''}`);
  const r = decodeDhcp(d.reply);
  if (!r.ok) throw new Error(r.reason);
  return r.packet;
}

describe('RFC 2131 §4.3.5: DHCPACK to a DHCPINFORM', () => {
  test('ACK to ciaddr on the client port, xid and chaddr copied, no yiaddr, no lease time, option 54 set', () => {
    const d = answerInform(pkt({ opts: [[Opt.VENDOR_CLASS, ip650Option60()]] }), from, cfg());
    expect(d.kind === 'reply' && d.to).toEqual({ address: '192.0.2.20', port: 68 });
    const p = reply(d);
    expect(p.op).toBe(BOOTREPLY);
    expect(messageType(p)).toBe(MessageType.ACK);
    expect(p.xid).toBe(0xabcdef01);
    expect(p.yiaddr).toBe('0.0.0.0');
    expect(p.chaddr.subarray(0, 6).toString('hex')).toBe('0004f2abcdef');
    for (const code of [Opt.LEASE_TIME, Opt.RENEWAL_TIME, Opt.REBINDING_TIME]) expect(p.options.has(code)).toBe(false);
    expect([...p.options.get(Opt.SERVER_ID)!]).toEqual([192, 0, 2, 1]);
    expect(optionText(p.options.get(66)!)).toBe('http://192.0.2.10/prov/');
  });

  test('guide, DHCP Menu, Boot Server Option Type: a custom option as IP Address carries 4 bytes', () => {
    const p = reply(answerInform(pkt(), from, cfg({ options: bootOptions([150], 'ip') })));
    expect([...p.options.get(150)!]).toEqual([192, 0, 2, 10]);
  });

  test('guide, DHCP Menu, Boot Server Option Type: a custom option as String carries the URL', () => {
    const p = reply(answerInform(pkt(), from, cfg({ options: bootOptions([128], 'string') })));
    expect(optionText(p.options.get(128)!)).toBe('http://192.0.2.10/prov/');
  });

  test('RFC 2132 §9.8: options follow the parameter request list order', () => {
    const d = answerInform(pkt({ opts: [[Opt.PARAM_REQUEST_LIST, Buffer.from([1, 160, 3, 66])]] }), from, cfg({ options: bootOptions([66, 160], undefined) }));
    const p = reply(d);
    expect([...p.options.keys()]).toEqual([Opt.MESSAGE_TYPE, Opt.SERVER_ID, 160, 66]);
  });

  test('DISCOVER, REQUEST, RELEASE and plain BOOTP are ignored: not the address server', () => {
    for (const type of [MessageType.DISCOVER, MessageType.REQUEST, MessageType.RELEASE, MessageType.DECLINE]) {
      expect(answerInform(pkt({ type }), from, cfg()).kind).toBe('ignore');
    }
  });

  test('RFC 2131 §4.1: relayed INFORM goes to giaddr on the server port, option 82 echoed (RFC 3046 §2.2)', () => {
    const rai = Buffer.from([1, 3, 0x61, 0x62, 0x63]);
    const d = answerInform(pkt({ giaddr: '198.51.100.1', opts: [[Opt.RELAY_AGENT_INFO, rai]] }), from, cfg());
    expect(d.kind === 'reply' && d.to).toEqual({ address: '198.51.100.1', port: 67 });
    expect(reply(d).options.get(Opt.RELAY_AGENT_INFO)!.equals(rai)).toBe(true);
  });

  test('an INFORM without ciaddr is answered at its source address', () => {
    const d = answerInform(pkt({ ciaddr: '0.0.0.0' }), { address: '192.0.2.30', port: 68 }, cfg({ replyPort: 6800 }));
    expect(d.kind === 'reply' && d.to).toEqual({ address: '192.0.2.30', port: 6800 });
  });
});

describe('recognising Polycom phones (--only-polycom)', () => {
  test('facts §5.2: option 60 with enterprise 13885 decodes model, part number and bootROM version', () => {
    const d = decodeDhcp(pkt({ mac: '001122334455', opts: [[Opt.VENDOR_CLASS, ip650Option60()]] }));
    if (!d.ok) throw new Error(d.reason);
    const phone = identifyPhone(d.packet);
    expect(phone.by).toEqual(['option60']);
    expect(phone.vendorClass?.model).toBe('SPIP650');
    expect(phone.vendorClass?.partNumber).toBe('2345-12600-001');
    const s = sightingFor(phone, d.packet, from, new Date(0));
    expect(s).toMatchObject({ mac: '001122334455', source: 'dhcp', address: '192.0.2.20', model: 'SPIP650', partNumber: '2345-12600-001', bootromVersion: 'BR/4.0.0.0155/23-May-07 13:35', stage: 'bootrom' });
    // Facts §5.2: in the bootROM, sub-option 4 repeats the bootROM version; it is no application version.
    expect(s?.appVersion).toBeUndefined();
  });

  test('Polycom OUIs 00:04:f2, 64:16:7f, 48:25:67 are recognised without option 60', () => {
    for (const mac of ['0004f2000001', '64167f000001', '482567000001']) {
      expect(answerInform(pkt({ mac }), from, cfg({ onlyPolycom: true })).kind).toBe('reply');
    }
  });

  test('--only-polycom ignores other clients; without it they are answered', () => {
    const other = pkt({ mac: '001122334455', opts: [[Opt.VENDOR_CLASS, Buffer.from('MSFT 5.0')]] });
    expect(answerInform(other, from, cfg({ onlyPolycom: true })).kind).toBe('ignore');
    expect(answerInform(other, from, cfg()).kind).toBe('reply');
  });

  test('a hostile option 60 (enterprise bytes, lying lengths) is survived', () => {
    const evil = Buffer.from([0, 0, 0x36, 0x3d, 200, 1, 250, 0x41]);
    const d = answerInform(pkt({ mac: '001122334455', opts: [[Opt.VENDOR_CLASS, evil]] }), from, cfg({ onlyPolycom: true }));
    expect(['ignore', 'reply']).toContain(d.kind);
  });

  test('garbage is a drop with a reason, not an exception', () => {
    const d = answerInform(Buffer.from('hello'), from, cfg());
    expect(d.kind).toBe('drop');
  });
});

describe("RFC 2132 §9.10: the reply fits the client's maximum message size", () => {
  const long = `http://192.0.2.10/${'p'.repeat(120)}`; // 138 bytes: two fit in 548, three do not
  test('with three long boot server options, unrequested ones are left out to stay within 548 bytes', () => {
    const c = cfg({ bootServer: long, options: bootOptions([66, 160, 200], 'string') });
    const p = reply(answerInform(pkt({ opts: [[Opt.PARAM_REQUEST_LIST, Buffer.from([66])]] }), from, c));
    expect([...p.options.keys()]).toEqual([Opt.MESSAGE_TYPE, Opt.SERVER_ID, 66, 160]);
    const d = answerInform(pkt({ opts: [[Opt.PARAM_REQUEST_LIST, Buffer.from([66])]] }), from, c);
    expect(d.kind === 'reply' && d.reply.length).toBeLessThanOrEqual(548);
  });
  test('an option 57 of 1500 lets them all through', () => {
    const c = cfg({ bootServer: long, options: bootOptions([66, 160, 200], 'string') });
    const mms = Buffer.alloc(2);
    mms.writeUInt16BE(1500);
    const p = reply(answerInform(pkt({ opts: [[Opt.MAX_MESSAGE_SIZE, mms]] }), from, c));
    expect([...p.options.keys()]).toEqual([Opt.MESSAGE_TYPE, Opt.SERVER_ID, 66, 160, 200]);
  });
});

test('facts §5.2 caveat: a text option 60 naming Polycom (UCS option60Type, format unknown) is recognised', () => {
  const d = decodeDhcp(pkt({ mac: '001122334455', opts: [[Opt.VENDOR_CLASS, Buffer.from('Polycom-VVX410')]] }));
  if (!d.ok) throw new Error(d.reason);
  expect(identifyPhone(d.packet)).toMatchObject({ by: ['option60'], vendorClass: undefined });
});
