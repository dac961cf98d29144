// Issue 8: "Malformed, truncated or hostile packets are dropped with a log line, never a crash."
// Seeded random and mutated packets at a live responder (bounded count), then a valid INFORM
// still gets its ACK. The same corpus also goes straight through the decoder.
import dgram from 'node:dgram';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bootOptions } from '../../src/dhcp/boot-option.ts';
import { startInformResponder, type InformResponder } from '../../src/dhcp/inform.ts';
import { HEADER_LEN, MessageType, Opt, decodeDhcp, messageType } from '../../src/dhcp/packet.ts';
import { captureLog, listenClient, polycomInform, sendUdp, type CapturedLog } from './helpers.ts';
import { prng } from '../support/prng.ts';

const SEED = 42;
const COUNT = 3000;

function corpus(): Buffer[] {
  const rnd = prng(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const valid = polycomInform({ xid: 0xdead, prl: [1, 3, 66, 160, 150] });
  const out: Buffer[] = [];
  for (let i = 0; i < COUNT; i++) {
    const kind = i % 6;
    let b: Buffer;
    if (kind === 0) {
      // pure noise, 0–700 bytes
      b = Buffer.from(Array.from({ length: int(700) }, () => int(256)));
    } else if (kind === 1) {
      // a valid INFORM cut anywhere
      b = Buffer.from(valid.subarray(0, int(valid.length)));
    } else if (kind === 2) {
      // a valid INFORM with 1–8 random bytes changed (header, cookie or options)
      b = Buffer.from(valid);
      for (let k = 1 + int(8); k > 0; k--) b[int(b.length)] = int(256);
    } else if (kind === 3) {
      // valid header and cookie, random option bytes (lying lengths, pads, ends, option 52)
      b = Buffer.concat([valid.subarray(0, HEADER_LEN), Buffer.from(Array.from({ length: int(400) }, () => [0, 52, 53, 255, 66, 60, int(256)][int(7)]))]);
    } else if (kind === 4) {
      // option 52 overload with random file/sname contents
      b = Buffer.from(valid);
      Buffer.from([Opt.OVERLOAD, 1, 1 + int(3), Opt.MESSAGE_TYPE, 1, MessageType.INFORM, 255]).copy(b, HEADER_LEN);
      for (let k = 44; k < 236; k++) b[k] = rnd() < 0.3 ? int(256) : b[k];
    } else {
      // a hostile option 60: Polycom enterprise bytes with lying sub-option lengths
      const v60 = Buffer.from([0, 0, 0x36, 0x3d, int(256), ...Array.from({ length: int(60) }, () => int(256))]);
      b = polycomInform({ xid: 0xbeef, vendorClass: v60, mac: '00112233' + int(65536).toString(16).padStart(4, '0') });
    }
    out.push(b);
  }
  return out;
}

let responder: InformResponder;
let client: Awaited<ReturnType<typeof listenClient>>;
let cap: CapturedLog;
let sock: dgram.Socket;

beforeAll(async () => {
  client = await listenClient();
  cap = captureLog('warn');
  responder = await startInformResponder({
    host: '127.0.0.1',
    port: 0,
    bootServer: 'http://192.0.2.10/prov/',
    options: bootOptions([66, 150], 'ip'),
    onlyPolycom: true,
    serverId: '127.0.0.1',
    replyPort: client.port,
    relayPort: client.port, // relayed (giaddr) replies, if a mutation makes one, stay on loopback's client port
    log: cap.log,
    rateLimitPerSec: 1_000_000,
    rateLimitBurst: 1_000_000,
  });
  sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => sock.close(() => r()));
  await responder.close();
  await client.close();
});

test('decoder: every seeded random/truncated/mutated packet decodes or is refused, never throws', () => {
  let refused = 0;
  for (const b of corpus()) {
    const d = decodeDhcp(b);
    if (!d.ok) {
      refused++;
      expect(typeof d.reason).toBe('string');
    }
  }
  expect(refused).toBeGreaterThan(COUNT / 3);
});

test(`responder: ${COUNT} seeded hostile packets, then a valid INFORM still gets its ACK`, async () => {
  const packets = corpus();
  for (let i = 0; i < packets.length; i++) {
    await sendUdp(sock, packets[i], responder.address().port);
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 2)); // let the loopback queue drain
  }
  // UDP may lose some under load (socket buffer full): wait until the count settles (bounded),
  // so the valid INFORM is the last thing the responder sees.
  for (let i = 0, prev = -1; i < 100 && prev !== responder.stats.received; i++) {
    prev = responder.stats.received;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(responder.stats.received).toBeGreaterThan(packets.length / 2);
  const { dropped } = responder.stats;
  expect(dropped).toBeGreaterThan(0);
  // one warn line per dropped packet
  expect(cap.lines().filter((l) => l.code === 'PP_DHCP_MALFORMED' || l.code === 'PP_INTERNAL')).toHaveLength(dropped);
  expect(cap.lines().filter((l) => l.code === 'PP_INTERNAL')).toHaveLength(0);

  await sendUdp(sock, polycomInform({ xid: 0x600d }), responder.address().port);
  let ack: ReturnType<typeof decodeDhcp> | undefined;
  for (let i = 0; i < 5000; i++) {
    const m = await client.next(3000);
    if (!m) break;
    const d = decodeDhcp(m);
    if (d.ok && d.packet.xid === 0x600d) {
      ack = d;
      break;
    }
  }
  expect(ack?.ok).toBe(true);
  if (ack?.ok) expect(messageType(ack.packet)).toBe(MessageType.ACK);
});
