// One transfer's UDP socket: a fresh ephemeral port, the session's transfer ID (RFC 1350 §4).
// Packets from the peer are decoded and handed on; a packet from any other address or port gets
// ERROR 5 and goes no further, so a stray sender cannot disturb the transfer. Used on the main
// thread and in read workers alike.
//
// The socket stays unconnected so strangers can be told ERROR 5; a connected socket sends about
// 12% cheaper on loopback, which does not pay for losing that.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { decodePacket, encodeError, OP_ERROR, TFTP_ERR, type Packet } from './packet.ts';

export interface Peer {
  address: string;
  port: number;
}

export interface TransferSocket {
  send(datagram: Buffer | Buffer[]): void;
  close(): void;
  readonly port: number;
}

/** Addresses are always IP literals here; skip dns.lookup's extra tick on every datagram sent. */
export function literalLookup(
  address: string,
  _opts: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  cb(null, address, isIP(address));
}

export function udpType(host: string): 'udp4' | 'udp6' {
  return isIP(host) === 6 ? 'udp6' : 'udp4';
}

export async function openTransferSocket(
  host: string,
  peer: Peer,
  onPacket: (p: Packet) => void,
  onError: (err: Error) => void,
): Promise<TransferSocket> {
  const socket = dgram.createSocket({ type: udpType(host), lookup: literalLookup as never });
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    socket.close();
    throw err;
  });
  socket.on('error', (err) => {
    if (!closed) onError(err);
  });
  socket.on('message', (msg, from) => {
    if (from.port !== peer.port || from.address !== peer.address) {
      if (msg.length >= 2 && msg.readUInt16BE(0) !== OP_ERROR) {
        socket.send(encodeError(TFTP_ERR.UNKNOWN_TID, 'unknown transfer ID'), from.port, from.address);
      }
      return;
    }
    let p: Packet;
    try {
      p = decodePacket(msg);
    } catch {
      return; // Malformed from the peer itself: drop; the retransmission timer recovers.
    }
    onPacket(p);
  });
  return {
    port: socket.address().port,
    send(datagram) {
      if (!closed) socket.send(datagram, peer.port, peer.address);
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
