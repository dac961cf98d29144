// A small stand-in for the boot service, so the TFTP adapter can be tested before the real core
// lands. It implements only the BootService contract (src/core/request.ts): reads serve files
// from a directory, writes accept the phone upload names (Administrator's Guide, "Configuration
// Files": <MAC>-boot.log, <MAC>-app.log, <MAC>-phone.cfg, <MAC>-web.cfg, <MAC>-directory.xml,
// <MAC>-calls.xml) into the same directory via temp file + rename, and refuse the rest.
// No test uses it any more (they run on the real core, test/support/boot-core.ts); it stays for
// bench/tftp-server-child.ts, which measures the adapter alone when asked for the fake service.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ProvError } from '../../src/errors.ts';
import type { BootRequest, BootResult, BootService, TransferOutcome } from '../../src/core/request.ts';

const UPLOAD_NAME = /^[0-9a-f]{12}-(boot\.log|app\.log|phone\.cfg|web\.cfg|directory\.xml|calls\.xml)$/;

export interface FinishedTransfer {
  path: string;
  op: BootRequest['op'];
  result: BootResult['kind'];
  outcome: TransferOutcome;
}

export class FakeBootService implements BootService {
  readonly finished: FinishedTransfer[] = [];
  constructor(
    readonly dir: string,
    readonly uploadMaxBytes = 1024 * 1024,
    /** Read size of the content streams; bench/tftp-server-child.ts reads as the core does (256 KiB). */
    readonly readChunk = 64 * 1024,
  ) {}

  async handle(req: BootRequest): Promise<BootResult> {
    const name = req.path.replace(/^\/+/, '');
    if (name === '' || name.includes('..') || name.includes('/') || name.includes('\\') || name.includes('\0')) {
      return refused('PP_PATH_HOSTILE', `path ${JSON.stringify(req.path)} is not a plain file name`);
    }
    const file = join(this.dir, name);
    if (req.op === 'read') {
      let st;
      try {
        st = await stat(file);
      } catch {
        return refused('PP_NOT_FOUND', `${name} does not exist`);
      }
      if (!st.isFile()) return refused('PP_NOT_FOUND', `${name} is not a file`);
      return {
        kind: 'file',
        size: st.size,
        mtime: st.mtime,
        etag: `"${st.size}-${st.mtimeMs}"`,
        open: (range) => createReadStream(file, { start: range?.start, end: range?.end, highWaterMark: this.readChunk }),
        done: (outcome) => this.finished.push({ path: req.path, op: req.op, result: 'file', outcome }),
      };
    }
    if (req.op !== 'write' || !req.body) return refused('PP_BAD_REQUEST', `op ${req.op} not supported`);
    if (!UPLOAD_NAME.test(name)) return refused('PP_READ_ONLY', `${name} is not an upload name`);
    if (req.size !== undefined && req.size > this.uploadMaxBytes) {
      return refused('PP_UPLOAD_TOO_LARGE', `${name}: announced ${req.size} bytes, limit ${this.uploadMaxBytes}`);
    }
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const out = createWriteStream(temp);
    // destroy() below can race a pending write; its late error is expected, not unhandled.
    out.on('error', () => {});
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of req.body) {
        const b = chunk as Buffer;
        bytes += b.length;
        if (bytes > this.uploadMaxBytes) {
          out.destroy();
          await unlink(temp).catch(() => {});
          return refused('PP_UPLOAD_TOO_LARGE', `${name}: over ${this.uploadMaxBytes} bytes`);
        }
        hash.update(b);
        if (!out.write(b)) await new Promise<void>((r) => out.once("drain", () => r()));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      await rename(temp, file);
    } catch (err) {
      out.destroy();
      await unlink(temp).catch(() => {});
      return refused('PP_UPLOAD_FAILED', `${name}: ${(err as Error).message}`);
    }
    return { kind: 'stored', bytes, sha256: hash.digest('hex'), created: true };
  }
}

function refused(code: ConstructorParameters<typeof ProvError>[0], message: string): BootResult {
  return { kind: 'refused', error: new ProvError(code, message) };
}
