// One transfer's UDP socket: a fresh ephemeral port, the session's transfer ID (RFC 1350 §4).
// Packets from the peer are decoded and handed on; a packet from any other address or port gets
// ERROR 5 and goes no further, so a stray sender cannot disturb the transfer. Used on the main
// thread and in read workers alike.
//
// The socket stays unconnected so strangers can be told ERROR 5; a connected socket sends about
// 12% cheaper on loopback, which does not pay for losing that.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { decodePacket, encodeError, OP_ACK, OP_ERROR, TFTP_ERR, type AckPacket, type Packet } from './packet.ts';

export interface Peer {
  address: string;
  port: number;
}

export interface TransferSocket {
  send(datagram: Buffer | Buffer[]): void;
  close(): void;
  readonly port: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
const lookup4 = (address: string, _opts: unknown, cb: LookupCallback): void => cb(null, address, 4);
const lookup6 = (address: string, _opts: unknown, cb: LookupCallback): void => cb(null, address, 6);

/**
 * Addresses are always IP literals of the socket's own family here: skip dns.lookup's extra tick
 * (and an isIP test) on every datagram sent. dgram uses only the address it gets back.
 */
export function literalLookup(type: 'udp4' | 'udp6'): typeof lookup4 {
  return type === 'udp6' ? lookup6 : lookup4;
}

export function udpType(host: string): 'udp4' | 'udp6' {
  return isIP(host) === 6 ? 'udp6' : 'udp4';
}

/** `onPacket` gets packets from the peer only; a packet is valid during the call, not after. */
export async function openTransferSocket(
  host: string,
  peer: Peer,
  onPacket: (p: Packet) => void,
  onError: (err: Error) => void,
): Promise<TransferSocket> {
  const type = udpType(host);
  const socket = dgram.createSocket({ type, lookup: literalLookup(type) as never });
  // The hot path of a lock-step read: an ACK from the peer, decoded into one reused object
  // (sessions read it and keep nothing) rather than a new one per datagram.
  const ack: AckPacket = { op: 'ACK', block: 0 };
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    // exclusive: a transfer's own port, bound in the process that runs it (never via a cluster primary).
    socket.bind({ address: host, port: 0, exclusive: true }, () => {
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
    if (msg.length === 4 && msg[0] === 0 && msg[1] === OP_ACK) {
      ack.block = (msg[2] << 8) | msg[3];
      onPacket(ack);
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
