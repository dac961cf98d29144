// Plain Node, no loader: one TFTP read (RFC 1350, one 512-byte block) through the compiled read-worker
// pool (dist/transports/tftp/worker-pool.js starts dist's read-worker.js in a thread), the peer a UDP
// socket here that acknowledges the DATA block. Prints { alive, payload, outcome } as JSON.
import dgram from 'node:dgram';
import { Readable } from 'node:stream';

const { ReadWorkerPool } = await import(new URL('../../dist/transports/tftp/worker-pool.js', import.meta.url).href);
const pool = new ReadWorkerPool(1);
const peer = dgram.createSocket('udp4');
await new Promise((resolve) => peer.bind(0, '127.0.0.1', resolve));
const received = new Promise((resolve) =>
  peer.on('message', (msg, from) => {
    if (msg.readUInt16BE(0) !== 3) return; // DATA
    peer.send(Buffer.from([0, 4, msg[2], msg[3]]), from.port, from.address); // ACK that block
    resolve(msg.subarray(4).toString());
  }),
);
const ended = new Promise((resolve) =>
  pool.start({
    host: '127.0.0.1',
    peer: { address: '127.0.0.1', port: peer.address().port },
    config: { blksize: 512, windowsize: 1, timeoutMs: 1000, retries: 3 },
    stream: Readable.from([Buffer.from('served by a compiled read worker\n')]),
    onEnd: resolve,
    onClose: () => {},
  }),
);
const [payload, outcome] = await Promise.all([received, ended]);
process.stdout.write(JSON.stringify({ alive: pool.alive, payload, outcome }));
await pool.close();
peer.close();
