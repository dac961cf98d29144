// Shared bits of the DHCP integration tests: free ports on loopback, a log capture, and a
// Polycom DHCPINFORM built the way a phone sends it (facts §5.2 option 60, MAC in chaddr).
import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { POLYCOM_ENTERPRISE, encodeOption60 } from '../../src/config/models.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { BOOTREQUEST, MessageType, Opt, chaddrFromMac, encodeDhcp } from '../../src/dhcp/packet.ts';

/** A UDP port free on 127.0.0.1 right now (bind port 0, read it back, release it). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface CapturedLog {
  log: Logger;
  lines: () => Array<Record<string, unknown>>;
}

export function captureLog(level = 'debug'): CapturedLog {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger(level, sink);
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Facts §5.2: an IP 650 running the application. */
export const IP650 = {
  enterprise: POLYCOM_ENTERPRISE,
  company: 'Polycom',
  modelRaw: 'SoundPointIP-SPIP_650',
  partNumber: '2345-12600-001',
  hwRevision: '1',
  appVersion: 'SIP/3.1.3.0439/10-Jan-09 10:00',
  bootromVersion: 'BR/4.0.0.0155/23-May-07 13:35',
};

export function polycomInform(o: { mac?: string; xid?: number; ciaddr?: string; prl?: number[]; vendorClass?: Buffer | null } = {}): Buffer {
  const options: Array<[number, Buffer]> = [[Opt.MESSAGE_TYPE, Buffer.from([MessageType.INFORM])]];
  if (o.prl) options.push([Opt.PARAM_REQUEST_LIST, Buffer.from(o.prl)]);
  if (o.vendorClass !== null) options.push([Opt.VENDOR_CLASS, o.vendorClass ?? encodeOption60(IP650)]);
  return encodeDhcp({ op: BOOTREQUEST, xid: o.xid ?? 0x01020304, ciaddr: o.ciaddr ?? '127.0.0.1', chaddr: chaddrFromMac(o.mac ?? '0004f2000650'), options });
}

/** A client socket on a chosen port that keeps what arrives. */
export async function listenClient(port = 0): Promise<{ port: number; got: Buffer[]; next: (ms: number) => Promise<Buffer | undefined>; close: () => Promise<void> }> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const got: Buffer[] = [];
  let wake: (() => void) | undefined;
  s.on('message', (m) => {
    got.push(m);
    wake?.();
  });
  await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', () => resolve()));
  let read = 0;
  return {
    port: s.address().port,
    got,
    next: async (ms) => {
      if (read < got.length) return got[read++];
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
      return read < got.length ? got[read++] : undefined;
    },
    close: () => new Promise<void>((resolve) => s.close(() => resolve())),
  };
}

export function sendUdp(sock: dgram.Socket, buf: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => sock.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

