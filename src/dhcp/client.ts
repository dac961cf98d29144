// A small DHCP client for the virtual phone's discovery: one UDP socket on the client port,
// send a request to one or more servers, gather the replies that carry our xid and chaddr.
// Every wait is bounded by a window; nothing here loops without a count.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { BOOTREPLY, decodeDhcp, messageType, type DhcpPacket } from './packet.ts';

export interface Endpoint {
  host: string;
  port: number;
}

export interface Reply {
  packet: DhcpPacket;
  type: number | undefined;
  from: { address: string; port: number };
}

export interface DhcpClientOptions {
  /** Client port the servers answer to: 68 on a network, a high port in tests. */
  port: number;
  bindHost?: string;
}

export function newXid(): number {
  return randomInt(1, 0xffffffff);
}

export class DhcpClient {
  private readonly queue: Reply[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly sock: dgram.Socket) {
    sock.on('message', (msg, rinfo) => {
      const d = decodeDhcp(msg);
      // Stray or garbage datagrams on the client port are ignored, as a phone would.
      if (!d.ok || d.packet.op !== BOOTREPLY) return;
      this.queue.push({ packet: d.packet, type: messageType(d.packet), from: { address: rinfo.address, port: rinfo.port } });
      if (this.queue.length > 256) this.queue.shift();
      this.wake?.();
    });
    sock.on('error', () => undefined);
  }

  static async open(o: DhcpClientOptions): Promise<DhcpClient> {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(o.port, o.bindHost ?? '0.0.0.0', () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return new DhcpClient(sock);
  }

  get port(): number {
    return this.sock.address().port;
  }

  send(pkt: Buffer, to: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      if (to.host === '255.255.255.255') this.sock.setBroadcast(true);
      this.sock.send(pkt, to.port, to.host, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Sends `pkt` to every target, then gathers replies matching `match` for up to `windowMs`.
   * With `first`, returns at the first match; otherwise waits the whole window (the guide:
   * "the phone should gather the responses from alternate DHCP servers"). Sends again up to
   * `retries` times when a window passes with no match.
   */
  async exchange(
    pkt: Buffer,
    targets: Endpoint[],
    o: { windowMs: number; retries: number; first: boolean; match: (r: Reply) => boolean },
  ): Promise<Reply[]> {
    const got: Reply[] = [];
    for (let attempt = 0; attempt <= o.retries && !this.closed; attempt++) {
      this.queue.length = 0;
      for (const t of targets) await this.send(pkt, t).catch(() => undefined);
      const deadline = Date.now() + o.windowMs;
      while (!this.closed) {
        while (this.queue.length) {
          const r = this.queue.shift()!;
          if (o.match(r)) got.push(r);
        }
        if (got.length && o.first) return got;
        const left = deadline - Date.now();
        if (left <= 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
      if (got.length) return got;
    }
    return got;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.wake?.();
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}
