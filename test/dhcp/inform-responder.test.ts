// `polyprov dhcp inform` in-process over real UDP on loopback (issue 8): the guide's "secondary
// DHCP server that responds to DHCP INFORM queries with a requested boot server value".
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { bootOptions } from '../../src/dhcp/boot-option.ts';
import { startInformResponder, type InformResponder, type InformResponderOptions } from '../../src/dhcp/inform.ts';
import { MessageType, Opt, decodeDhcp, messageType, optionText, BOOTREQUEST, chaddrFromMac, encodeDhcp } from '../../src/dhcp/packet.ts';
import { openStore } from '../../src/store/open.ts';
import type { Mac } from '../../src/config/types.ts';
import { captureLog, listenClient, polycomInform, sendUdp } from './helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(over: Partial<InformResponderOptions> = {}) {
  const client = await listenClient();
  cleanups.push(client.close);
  const cap = captureLog();
  const responder: InformResponder = await startInformResponder({
    host: '127.0.0.1',
    port: 0,
    bootServer: 'http://192.0.2.10/prov/',
    options: bootOptions([66], undefined),
    onlyPolycom: false,
    serverId: '127.0.0.1',
    replyPort: client.port,
    relayPort: 67,
    log: cap.log,
    rateLimitPerSec: 1000,
    rateLimitBurst: 1000,
    ...over,
  });
  cleanups.push(() => responder.close());
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  const send = (buf: Buffer) => sendUdp(sock, buf, responder.address().port);
  return { client, responder, send, cap };
}

function decode(buf: Buffer | undefined) {
  if (!buf) throw new Error('no reply');
  const d = decodeDhcp(buf);
  if (!d.ok) throw new Error(d.reason);
  return d.packet;
}

describe('RFC 2131 §4.3.5 over UDP', () => {
  test('guide, DHCP or Manual TCP/IP Setup: an INFORM gets a DHCPACK with option 66 at ciaddr:reply-port', async () => {
    const { client, send } = await setup();
    await send(polycomInform({ xid: 7 }));
    const p = decode(await client.next(5000));
    expect(messageType(p)).toBe(MessageType.ACK);
    expect(p.xid).toBe(7);
    expect(p.yiaddr).toBe('0.0.0.0');
    expect(p.options.has(Opt.LEASE_TIME)).toBe(false);
    expect(optionText(p.options.get(66)!)).toBe('http://192.0.2.10/prov/');
  });

  test('white paper Stage 2: DISCOVER is not answered (the responder is not the address server); INFORM after it is', async () => {
    const { client, send, responder } = await setup();
    const discover = encodeDhcp({ op: BOOTREQUEST, xid: 1, chaddr: chaddrFromMac('0004f2000650'), options: [[Opt.MESSAGE_TYPE, Buffer.from([MessageType.DISCOVER])]] });
    await send(discover);
    await send(polycomInform({ xid: 2 }));
    const p = decode(await client.next(5000));
    expect(p.xid).toBe(2); // the first and only reply is the INFORM's
    expect(await client.next(200)).toBeUndefined();
    expect(responder.stats).toMatchObject({ ignored: 1, answered: 1 });
  });

  test('--only-polycom: a non-Polycom INFORM is ignored, a Polycom one answered', async () => {
    const { client, send } = await setup({ onlyPolycom: true });
    await send(polycomInform({ xid: 11, mac: '001122334455', vendorClass: Buffer.from('MSFT 5.0') }));
    await send(polycomInform({ xid: 12, mac: '001122334455' })); // option 60 makes it a Polycom
    await send(polycomInform({ xid: 13, mac: '64167f000001', vendorClass: null })); // OUI makes it a Polycom
    const xids = [decode(await client.next(5000)).xid, decode(await client.next(5000)).xid];
    expect(xids.sort()).toEqual([12, 13]);
    expect(await client.next(200)).toBeUndefined();
  });

  test('issue 8: decoded phones are recorded in the inventory (source dhcp, model, part number, versions)', async () => {
    const data = mkdtempSync(join(tmpdir(), 'polyprov-dhcp-store-'));
    const store = await openStore({ data, storeUrl: 'sqlite' });
    cleanups.push(() => rmSync(data, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    const { client, send, responder } = await setup({ recordSighting: (s) => store.phones.recordSighting(s) });
    await send(polycomInform({ xid: 21, mac: '0004f2000650' }));
    decode(await client.next(5000));
    await responder.flush();
    const phone = await store.phones.get('0004f2000650' as Mac);
    expect(phone).toMatchObject({ model: 'SPIP650', partNumber: '2345-12600-001', appVersion: 'SIP/3.1.3.0439/10-Jan-09 10:00', bootromVersion: 'BR/4.0.0.0155/23-May-07 13:35', lastSource: 'dhcp', address: '127.0.0.1' });
  });

  test('malformed packets are dropped with one PP_DHCP_MALFORMED log line each', async () => {
    const { client, send, cap, responder } = await setup();
    await send(Buffer.from('not dhcp'));
    await send(polycomInform().subarray(0, 100));
    await send(polycomInform({ xid: 31 }));
    expect(decode(await client.next(5000)).xid).toBe(31);
    const drops = cap.lines().filter((l) => l.code === 'PP_DHCP_MALFORMED');
    expect(drops).toHaveLength(2);
    expect(responder.stats.dropped).toBe(2);
    expect(String(drops[0].msg)).toMatch(/^dhcp refused PP_DHCP_MALFORMED 127\.0\.0\.1: /);
  });

  test('rate limited per source: a flood gets at most its burst plus refill, logged once per episode', async () => {
    const { client, send, cap, responder } = await setup({ rateLimitPerSec: 1, rateLimitBurst: 3 });
    for (let i = 0; i < 40; i++) await send(polycomInform({ xid: 100 + i }));
    let acks = 0;
    while ((await client.next(300)) !== undefined && acks < 40) acks++;
    expect(acks).toBeGreaterThanOrEqual(3);
    expect(acks).toBeLessThan(40);
    expect(responder.stats.limited).toBe(40 - acks);
    const lines = cap.lines().filter((l) => l.code === 'PP_RATE_LIMITED');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(40 - acks + 1);
  });
});
