// A worker thread that runs read sessions, so transfers use more than one core: on loopback the
// sendmsg per DATA block is most of a transfer's CPU (bench/tftp.ts, "100 × 1 MB at once").
// The main thread keeps the boot service and the content streams; it posts content here in
// chunks of framed DATA datagrams, on request, so each session holds at most `highWater` bytes
// plus one window.
import { parentPort } from 'node:worker_threads';
import { FramedBlockSource } from './block-reader.ts';
import { ReadSession, type BlockSource } from './read-session.ts';
import type { SessionConfig, SessionOutcome } from './session.ts';
import { SharedContent, sharedBlockSource } from './shared-content.ts';
import { openTransferSocket, type Peer } from './transfer-socket.ts';

export type ToWorker =
  | {
      t: 'start';
      id: number;
      host: string;
      peer: Peer;
      cfg: Omit<SessionConfig, 'oack'> & { oack: [string, string][] };
      highWater: number;
      /** Read from this shared content (sent with 'share' before) instead of 'data' messages. */
      shared?: string;
    }
  // Shared content (shared-content.ts), mirrored here once for all sessions that read it.
  | { t: 'share'; key: string; blksize: number; chunks: Uint8Array[]; done: boolean; failure?: string }
  | { t: 'shareChunk'; key: string; chunk: Uint8Array }
  | { t: 'shareEnd'; key: string }
  | { t: 'shareFail'; key: string; message: string }
  | { t: 'unshare'; key: string }
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
  source: BlockSource;
  /** The source when content arrives in 'data' messages. */
  pushed?: FramedBlockSource;
  cancelled?: string;
}

const view = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const port = parentPort;
if (port) {
  const post = (m: FromWorker): void => port.postMessage(m);
  const running = new Map<number, Running>();
  const mirrors = new Map<string, SharedContent>();

  async function start(m: Extract<ToWorker, { t: 'start' }>): Promise<void> {
    let r: Running;
    if (m.shared !== undefined) {
      const mirror = mirrors.get(m.shared);
      if (!mirror) {
        post({ t: 'end', id: m.id, outcome: { ok: false, reason: 'cancelled', bytes: 0, error: { code: 0, message: 'shared content missing' } } });
        post({ t: 'closed', id: m.id });
        return;
      }
      r = { source: sharedBlockSource(mirror, m.cfg.blksize, () => {}) };
    } else {
      const pushed = new FramedBlockSource(m.cfg.blksize, m.highWater, (bytes) => post({ t: 'want', id: m.id, bytes }));
      r = { source: pushed, pushed };
    }
    const source = r.source;
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

  function onShare(m: Extract<ToWorker, { t: 'share' | 'shareChunk' | 'shareEnd' | 'shareFail' | 'unshare' }>): void {
    if (m.t === 'share') {
      // Headers were written by the main thread; the key's bytes count is the main thread's.
      const mirror = new SharedContent(m.key, 0, m.blksize);
      for (const c of m.chunks) mirror.append(view(c), false);
      if (m.failure !== undefined) mirror.fail(new Error(m.failure));
      else if (m.done) mirror.finish();
      mirrors.set(m.key, mirror);
      return;
    }
    const mirror = mirrors.get(m.key);
    if (!mirror) return;
    if (m.t === 'shareChunk') mirror.append(view(m.chunk), false);
    else if (m.t === 'shareEnd') mirror.finish();
    else if (m.t === 'shareFail') mirror.fail(new Error(m.message));
    else mirrors.delete(m.key); // Sessions still reading it keep their reference.
  }

  port.on('message', (m: ToWorker) => {
    if (m.t === 'start') {
      void start(m);
      return;
    }
    if (m.t === 'share' || m.t === 'shareChunk' || m.t === 'shareEnd' || m.t === 'shareFail' || m.t === 'unshare') {
      onShare(m);
      return;
    }
    const r = running.get(m.id);
    if (!r) return;
    switch (m.t) {
      case 'data':
        r.pushed?.push(view(m.chunk));
        break;
      case 'eof':
        r.pushed?.end();
        break;
      case 'srcerr':
        r.pushed?.fail(m.message);
        break;
      case 'cancel':
        if (r.session) r.session.cancel(m.message);
        else r.cancelled = m.message;
        break;
    }
  });
}
