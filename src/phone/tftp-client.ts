// A minimal TFTP client (RFC 1350) with the blksize (RFC 2348) and tsize (RFC 2349) options of
// RFC 2347 negotiation. Whether phones ask for options is unknown (facts §3.1), so options are
// asked for and a server that ignores them (plain DATA 1 instead of OACK) is accepted too.
// Every wait is bounded: `timeoutMs` per packet, `retries` retransmissions.
//
//   RRQ/WRQ  | 01/02 | filename | 0 | "octet" | 0 | opt | 0 | value | 0 | …
//   DATA     | 03 | block (2) | data (0..blksize)
//   ACK      | 04 | block (2)
//   ERROR    | 05 | code (2) | message | 0
//   OACK     | 06 | opt | 0 | value | 0 | …
import dgram from 'node:dgram';
import net from 'node:net';
import type { ServerAddress } from './server-address.ts';
import { plainAddress } from '../util/address.ts';
import { errorResult, type FetchResult, type FileClient, type GetOptions, type PutOptions } from './file-client.ts';

export interface TftpClientOptions {
  address: string;
  timeoutMs?: number;
  retries?: number;
  /** Asked-for block size; 512 sends no option. */
  blksize?: number;
  localAddress?: string;
}

const OP = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

function request(op: number, file: string, opts: Record<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.from([0, op]), Buffer.from(file + '\0octet\0', 'latin1')];
  for (const [k, v] of Object.entries(opts)) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
  return Buffer.concat(parts);
}

function ack(block: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(OP.ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

function data(block: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(4 + payload.length);
  b.writeUInt16BE(OP.DATA, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  payload.copy(b, 4);
  return b;
}

function error(code: number, msg: string): Buffer {
  return Buffer.concat([Buffer.from([0, OP.ERROR, 0, code]), Buffer.from(msg + '\0', 'latin1')]);
}

function parseOack(msg: Buffer): Record<string, string> {
  const fields = msg.subarray(2).toString('latin1').split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]) out[fields[i]!.toLowerCase()] = fields[i + 1]!;
  return out;
}

/** A UDP exchange with one server transfer ID (RFC 1350 §4: the server answers from a new port). */
class Exchange {
  private readonly sock: dgram.Socket;
  private peerPort: number | undefined;
  private inbox: Buffer[] = [];
  private waiter: ((m: Buffer | undefined) => void) | undefined;

  constructor(
    private readonly address: string,
    private readonly port: number,
    localAddress?: string,
  ) {
    this.sock = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    if (localAddress) this.sock.bind(0, localAddress);
    this.sock.on('message', (m, rinfo) => {
      if (plainAddress(rinfo.address) !== plainAddress(this.address)) return;
      if (this.peerPort === undefined) this.peerPort = rinfo.port;
      else if (rinfo.port !== this.peerPort) {
        // RFC 1350 §4: a packet from another TID gets ERROR 5 and the transfer goes on.
        this.sock.send(error(5, 'Unknown transfer ID'), rinfo.port, rinfo.address);
        return;
      }
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(m);
      } else this.inbox.push(m);
    });
    this.sock.on('error', () => undefined);
  }

  send(b: Buffer): void {
    this.sock.send(b, this.peerPort ?? this.port, this.address);
  }

  /** Sends and waits until the datagram has left, so a close right after cannot cancel it. */
  flush(b: Buffer): Promise<void> {
    return new Promise((resolve) => this.sock.send(b, this.peerPort ?? this.port, this.address, () => resolve()));
  }

  next(timeoutMs: number): Promise<Buffer | undefined> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (x) => {
        clearTimeout(t);
        resolve(x);
      };
    });
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}

export class TftpFileClient implements FileClient {
  readonly protocol = 'tftp' as const;
  readonly address: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly blksize: number;
  private readonly localAddress?: string;

  constructor(
    private readonly server: ServerAddress,
    opts: TftpClientOptions,
  ) {
    this.address = opts.address;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.retries = opts.retries ?? 5;
    this.blksize = opts.blksize ?? 1428;
    this.localAddress = opts.localAddress;
  }

  get(path: string, _opts: GetOptions = {}): Promise<FetchResult> {
    return this.read(path, undefined);
  }

  headThenHangUp(path: string, bytes: number, _opts: GetOptions = {}): Promise<FetchResult> {
    return this.read(path, bytes);
  }

  async close(): Promise<void> {}

  private options(extra: Record<string, string>): Record<string, string> {
    return this.blksize === 512 ? extra : { blksize: String(this.blksize), ...extra };
  }

  /** Sends `packet` and waits for an answer, resending up to `retries` times (RFC 1350 §2 timeouts). */
  private async exchange(x: Exchange, packet: Buffer, accept: (m: Buffer) => boolean): Promise<Buffer | undefined> {
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      x.send(packet);
      const deadline = Date.now() + this.timeoutMs;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const m = await x.next(left);
        if (!m) break;
        if (m.length >= 2 && m.readUInt16BE(0) === OP.ERROR) return m;
        if (accept(m)) return m;
        // a duplicate of an earlier packet: keep waiting
      }
    }
    return undefined;
  }

  private async read(path: string, headBytes: number | undefined): Promise<FetchResult> {
    const x = new Exchange(this.address, this.server.port, this.localAddress);
    try {
      let blksize = 512;
      let size: number | undefined;
      let expect = 1;
      const chunks: Buffer[] = [];
      let got = 0;
      let packet = request(OP.RRQ, path, this.options({ tsize: '0' }));
      let m = await this.exchange(x, packet, (p) => {
        const op = p.readUInt16BE(0);
        return op === OP.OACK || (op === OP.DATA && p.readUInt16BE(2) === 1);
      });
      for (;;) {
        if (!m) return { status: 'error', bytes: got, wire: 'timeout', error: `no answer from ${this.address}:${this.server.port} after ${this.retries + 1} tries` };
        const op = m.readUInt16BE(0);
        if (op === OP.ERROR) {
          const code = m.readUInt16BE(2);
          const text = m.subarray(4).toString('latin1').replace(/\0.*$/s, '');
          const status = code === 1 ? 'not-found' : code === 2 ? 'denied' : 'error';
          return { status, bytes: got, wire: `tftp:${code}`, error: text };
        }
        if (op === OP.OACK) {
          const o = parseOack(m);
          if (o.blksize) blksize = Number(o.blksize);
          if (o.tsize) size = Number(o.tsize);
          if (headBytes !== undefined && headBytes === 0) {
            await x.flush(error(0, 'header read'));
            return { status: 'ok', body: Buffer.alloc(0), bytes: 0, wire: 'tftp:hangup', size };
          }
          packet = ack(0);
        } else {
          const payload = m.subarray(4);
          chunks.push(payload);
          got += payload.length;
          if (headBytes !== undefined && got >= headBytes) {
            // Enough of the header: end the transfer with an ERROR (RFC 1350 §7), as a phone that hangs up.
            await x.flush(error(0, 'header read'));
            return { status: 'ok', body: Buffer.concat(chunks).subarray(0, headBytes), bytes: got, wire: 'tftp:hangup', size };
          }
          packet = ack(expect);
          if (payload.length < blksize) {
            await x.flush(packet);
            return { status: 'ok', body: Buffer.concat(chunks), bytes: got, wire: 'tftp:ok', size: size ?? got };
          }
          expect = (expect + 1) & 0xffff;
        }
        const want = expect;
        m = await this.exchange(x, packet, (p) => p.readUInt16BE(0) === OP.DATA && p.readUInt16BE(2) === want);
      }
    } catch (e) {
      return errorResult(e);
    } finally {
      x.close();
    }
  }

  async put(path: string, body: Buffer, _opts: PutOptions = {}): Promise<FetchResult> {
    // TFTP has no append; the whole file is written again.
    const x = new Exchange(this.address, this.server.port, this.localAddress);
    try {
      let blksize = 512;
      let m = await this.exchange(x, request(OP.WRQ, path, this.options({ tsize: String(body.length) })), (p) => {
        const op = p.readUInt16BE(0);
        return op === OP.OACK || (op === OP.ACK && p.readUInt16BE(2) === 0);
      });
      if (!m) return { status: 'error', bytes: 0, wire: 'timeout', error: 'no answer to WRQ' };
      if (m.readUInt16BE(0) === OP.ERROR) return tftpError(m, 0);
      if (m.readUInt16BE(0) === OP.OACK) {
        const o = parseOack(m);
        if (o.blksize) blksize = Number(o.blksize);
      }
      let sent = 0;
      for (let block = 1; ; block++) {
        const chunk = body.subarray(sent, sent + blksize);
        const want = block & 0xffff;
        m = await this.exchange(x, data(block, chunk), (p) => p.readUInt16BE(0) === OP.ACK && p.readUInt16BE(2) === want);
        if (!m) return { status: 'error', bytes: sent, wire: 'timeout', error: `no ACK for block ${block}` };
        if (m.readUInt16BE(0) === OP.ERROR) return tftpError(m, sent);
        sent += chunk.length;
        if (chunk.length < blksize) return { status: 'ok', bytes: sent, wire: 'tftp:ok' };
      }
    } catch (e) {
      return errorResult(e);
    } finally {
      x.close();
    }
  }
}

function tftpError(m: Buffer, bytes: number): FetchResult {
  const code = m.readUInt16BE(2);
  const text = m.subarray(4).toString('latin1').replace(/\0.*$/s, '');
  return { status: code === 1 ? 'not-found' : code === 2 ? 'denied' : 'error', bytes, wire: `tftp:${code}`, error: text };
}
