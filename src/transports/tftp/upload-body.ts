// A TFTP upload (WRQ) as the boot service's request body: the core reads the body only once it
// has accepted the write (identification, policy, the size limit from tsize), so its first read
// is the cue to answer with OACK or ACK 0; the blocks the write session receives are pushed into
// the stream with back-pressure (a block waits until the core has read the previous ones).
import { Readable } from 'node:stream';

export class UploadBody {
  readonly stream: Readable;
  /** Resolves on the core's first read: it has accepted the write. */
  readonly accepted: Promise<'accepted'>;
  private wake: (() => void) | undefined;

  constructor() {
    let accept!: () => void;
    this.accepted = new Promise((resolve) => {
      accept = () => resolve('accepted');
    });
    this.stream = new Readable({
      highWaterMark: 64 * 1024,
      read: () => {
        accept();
        const w = this.wake;
        this.wake = undefined;
        w?.();
      },
    });
    this.stream.on('error', () => {}); // The consumer sees the error; this only keeps it from being unhandled.
  }

  /** Hands one block to the core; the promise (when returned) settles once it wants more. */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.stream.push(chunk)) return undefined;
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  end(): void {
    this.stream.push(null);
  }

  destroy(reason: string): void {
    if (!this.stream.destroyed) this.stream.destroy(new Error(reason));
  }
}
