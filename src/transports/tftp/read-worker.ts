// A worker thread that runs read sessions, so transfers use more than one core: on loopback the
// sendmsg per DATA block is most of a transfer's CPU (bench/tftp.ts, "100 × 1 MB at once").
// The main thread keeps the boot service and the content streams; it posts content here in
// chunks of framed DATA datagrams, on request, so each session holds at most `highWater` bytes
// plus one window.
import { parentPort } from 'node:worker_threads';
import { FramedBlockSource } from './block-reader.ts';
import { ReadSession, type SessionConfig, type SessionOutcome } from './session.ts';
import { openTransferSocket, type Peer } from './transfer-socket.ts';

export type ToWorker =
  | { t: 'start'; id: number; host: string; peer: Peer; cfg: Omit<SessionConfig, 'oack'> & { oack: [string, string][] }; highWater: number }
  /** Framed DATA datagrams (block-reader.ts Framer), the last of them short only at the end. */
  | { t: 'data'; id: number; chunk: Uint8Array }
  | { t: 'eof'; id: number }
  | { t: 'srcerr'; id: number; message: string }
  | { t: 'cancel'; id: number; message: string };

export type FromWorker =
  | { t: 'want'; id: number; bytes: number }
  | { t: 'end'; id: number; outcome: SessionOutcome }
  | { t: 'closed'; id: number };

interface Running {
  session?: ReadSession;
  source: FramedBlockSource;
  cancelled?: string;
}

const port = parentPort;
if (port) {
  const post = (m: FromWorker): void => port.postMessage(m);
  const running = new Map<number, Running>();

  async function start(m: Extract<ToWorker, { t: 'start' }>): Promise<void> {
    const source = new FramedBlockSource(m.cfg.blksize, m.highWater, (bytes) => post({ t: 'want', id: m.id, bytes }));
    const r: Running = { source };
    running.set(m.id, r);
    let sock;
    try {
      sock = await openTransferSocket(m.host, m.peer, (p) => r.session?.receive(p), () => r.session?.cancel('socket error'));
    } catch (err) {
      running.delete(m.id);
      post({ t: 'end', id: m.id, outcome: { ok: false, reason: 'cancelled', bytes: 0, error: { code: 0, message: `bind failed: ${(err as Error).message}` } } });
      post({ t: 'closed', id: m.id });
      return;
    }
    const s = new ReadSession(source, { ...m.cfg, oack: new Map(m.cfg.oack) }, {
      send: (d) => sock.send(d),
      onEnd: (outcome) => post({ t: 'end', id: m.id, outcome }),
      onClose: () => {
        sock.close();
        running.delete(m.id);
        post({ t: 'closed', id: m.id });
      },
    });
    r.session = s;
    if (r.cancelled !== undefined) return s.cancel(r.cancelled);
    s.start();
  }

  port.on('message', (m: ToWorker) => {
    if (m.t === 'start') {
      void start(m);
      return;
    }
    const r = running.get(m.id);
    if (!r) return;
    switch (m.t) {
      case 'data':
        r.source.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
        break;
      case 'eof':
        r.source.end();
        break;
      case 'srcerr':
        r.source.fail(m.message);
        break;
      case 'cancel':
        if (r.session) r.session.cancel(m.message);
        else r.cancelled = m.message;
        break;
    }
  });
}
