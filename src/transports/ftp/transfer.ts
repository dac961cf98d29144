// Moving bytes over an accepted data connection. RFC 959 §3.4 MODE S (stream): the end of the
// file is the close of the data connection, so a download ends with end() (and, under TLS, a
// close_notify, RFC 4217 §12.3) and an upload ends when the client closes.
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SendOutcome {
  bytes: number;
  error?: Error;
}

/** Streams `src` to the data connection and closes it; never throws. */
export async function sendStream(data: Socket, src: Readable, idleMs: number): Promise<SendOutcome> {
  let bytes = 0;
  src.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  data.setTimeout(idleMs, () => data.destroy(new Error('data connection idle')));
  try {
    await pipeline(src, data);
    return { bytes };
  } catch (e) {
    return { bytes, error: e as Error };
  }
}

/**
 * The body of a STOR/APPE request. It is handed to the core before the data connection exists:
 * the core refuses a write it will not take (a read-only name, a wrong phone) without reading,
 * and then the client gets its 550 without a data connection ever being opened. The first read
 * is what tells the control code to send 150 and accept the connection (`started`).
 */
export class UploadBody extends Readable {
  readonly started: Promise<void>;
  bytes = 0;
  private markStarted!: () => void;
  private wasStarted = false;
  private source?: Socket;
  private ended = false;

  constructor() {
    super({ highWaterMark: 256 * 1024 });
    this.started = new Promise((res) => {
      this.markStarted = res;
    });
  }

  get isStarted(): boolean {
    return this.wasStarted;
  }

  override _read(): void {
    if (!this.wasStarted) {
      this.wasStarted = true;
      this.markStarted();
    }
    this.source?.resume();
  }

  /** Feeds the data connection into the body with backpressure. */
  attach(sock: Socket, idleMs: number): void {
    this.source = sock;
    sock.setTimeout(idleMs, () => sock.destroy(new Error('data connection idle')));
    sock.on('data', (c: Buffer) => {
      this.bytes += c.length;
      if (!this.push(c)) sock.pause();
    });
    sock.once('end', () => {
      this.ended = true;
      this.push(null);
    });
    sock.once('close', () => {
      if (!this.ended) this.destroy(new Error('data connection closed before the end of the upload'));
    });
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.source?.destroy();
    cb(err);
  }
}
