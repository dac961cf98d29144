// A stand-in BootService for the FTP adapter's tests until the real core lands. It serves files
// from a directory and mimics the core's rules that matter to FTP:
// - login: the factory account PlcmSpIp/PlcmSpIp (Administrator's Guide, Deploying Phones From the
//   Boot Server: "Defaults are: provisioning protocol: FTP, name: PlcmSpIp, password: PlcmSpIp")
//   and per-phone accounts; a wrong password is PP_AUTH_FAILED, none at all PP_AUTH_REQUIRED;
// - writes only to a phone's upload names (`<MAC>-boot.log`, `-app.log`, `-phone.cfg`, `-web.cfg`,
//   `-directory.xml`, `-calls.xml`), stored through a temp file and a rename; anything else PP_READ_ONLY;
// - directory reads are PP_LISTING_REFUSED, a directory stat is `directory: true` (as the core
//   answers); list() returns the files of a directory.
// No test uses it any more (they run on the real core, test/support/boot-core.ts); it stays for
// bench/ftp-server-child.ts, which measures the adapter alone when asked for the fake service.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rename, rm, stat, unlink, copyFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash, randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import type { BootRequest, BootResult, BootService, DirectoryEntry, TransferOutcome } from '../../src/core/request.ts';
import { ProvError, type ErrorCode } from '../../src/errors.ts';

const UPLOAD_NAME = /^[0-9a-f]{12}-(boot\.log|app\.log|phone\.cfg|web\.cfg|directory\.xml|calls\.xml)$/i;

export interface FakeOptions {
  /** user → password; PlcmSpIp/PlcmSpIp is always there. */
  accounts?: Record<string, string>;
  uploadMaxBytes?: number;
  /** Read-stream chunk size (the benchmark sets a larger one). */
  highWaterMark?: number;
}

export class FakeBootService implements BootService {
  readonly requests: BootRequest[] = [];
  readonly finished: Array<{ op: string; path: string; outcome: TransferOutcome }> = [];
  private readonly accounts: Record<string, string>;

  constructor(
    readonly root: string,
    private readonly opts: FakeOptions = {},
  ) {
    this.accounts = { PlcmSpIp: 'PlcmSpIp', ...opts.accounts };
  }

  async handle(req: BootRequest): Promise<BootResult> {
    this.requests.push({ ...req, body: undefined });
    const denied = this.authenticate(req);
    if (denied) return refused(denied, 'login refused');
    const rel = this.relative(req.path);
    if (rel === undefined) return refused('PP_PATH_HOSTILE', `hostile path ${JSON.stringify(req.path)}`);
    const file = join(this.root, rel);
    switch (req.op) {
      case 'read':
      case 'stat':
        return this.fileResult(file, req);
      case 'list':
        return this.list(rel);
      case 'write':
      case 'append':
        if (!UPLOAD_NAME.test(posix.basename(rel))) return refused('PP_READ_ONLY', `${rel} is read-only for phones`);
        return this.store(file, req);
      case 'delete':
        if (!UPLOAD_NAME.test(posix.basename(rel))) return refused('PP_READ_ONLY', `${rel} is read-only for phones`);
        try {
          await unlink(file);
          return { kind: 'deleted' };
        } catch {
          return refused('PP_NOT_FOUND', `${rel} not found`);
        }
    }
  }

  private async list(rel: string): Promise<BootResult> {
    try {
      const dir = join(this.root, rel);
      const out: DirectoryEntry[] = [];
      for (const d of await readdir(dir, { withFileTypes: true })) {
        if (!d.isFile()) continue;
        const st = await stat(join(dir, d.name));
        out.push({ name: d.name, size: st.size, mtime: st.mtime });
      }
      return { kind: 'listing', entries: out.sort((a, b) => a.name.localeCompare(b.name)) };
    } catch {
      return refused('PP_NOT_FOUND', `${rel} is not a directory`);
    }
  }

  private authenticate(req: BootRequest): ErrorCode | undefined {
    const c = req.credentials;
    if (!c) return 'PP_AUTH_REQUIRED';
    if (c.kind !== 'login') return 'PP_AUTH_FAILED';
    return Object.hasOwn(this.accounts, c.user) && this.accounts[c.user] === c.password ? undefined : 'PP_AUTH_FAILED';
  }

  /** Root-relative path, or undefined if it would leave the root (the real core refuses these too). */
  private relative(path: string): string | undefined {
    if (path.includes('\0') || path.includes('\\')) return undefined;
    const n = posix.normalize(`/${path}`);
    if (n.split('/').includes('..')) return undefined;
    return n.slice(1);
  }

  private async fileResult(file: string, req: BootRequest): Promise<BootResult> {
    const op = req.op;
    try {
      const st = await stat(file);
      if (st.isDirectory() && op === 'stat') {
        return { kind: 'file', size: 0, mtime: st.mtime, etag: '"dir"', open: () => createReadStream('/dev/null'), directory: true, done: () => {} };
      }
      if (st.isDirectory()) return refused('PP_LISTING_REFUSED', 'directory');
      if (!st.isFile()) return refused('PP_NOT_FOUND', 'not a file');
      const hwm = this.opts.highWaterMark ?? 64 * 1024;
      return {
        kind: 'file',
        size: st.size,
        mtime: st.mtime,
        etag: `"${st.size.toString(16)}-${st.mtimeMs.toString(16)}"`,
        open: (range) => createReadStream(file, { start: range?.start, end: range?.end, highWaterMark: hwm }),
        done: (outcome) => this.finished.push({ op: req.op, path: req.path, outcome }),
      };
    } catch {
      return refused('PP_NOT_FOUND', 'no such file');
    }
  }

  private async store(file: string, req: BootRequest): Promise<BootResult> {
    if (!req.body) return refused('PP_BAD_REQUEST', 'no body');
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    const max = this.opts.uploadMaxBytes ?? Number.MAX_SAFE_INTEGER;
    let bytes = 0;
    let created = true;
    try {
      if (req.op === 'append') {
        try {
          await copyFile(file, tmp);
          created = false;
        } catch {
          /* appending to nothing creates the file */
        }
      } else {
        created = !(await stat(file).then(() => true, () => false));
      }
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes > max) return cb(new ProvError('PP_UPLOAD_TOO_LARGE', `upload over ${max} bytes`));
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(req.body, count, createWriteStream(tmp, { flags: req.op === 'append' ? 'a' : 'w' }));
      await rename(tmp, file);
      return { kind: 'stored', bytes, sha256: hash.digest('hex'), created };
    } catch (e) {
      await rm(tmp, { force: true });
      if (e instanceof ProvError) return { kind: 'refused', error: e };
      return refused('PP_UPLOAD_FAILED', `upload failed: ${(e as Error).message}`);
    }
  }
}

function refused(code: ErrorCode, message: string): BootResult {
  return { kind: 'refused', error: new ProvError(code, message) };
}

export async function tempRoot(prefix = 'polyprov-ftp-'): Promise<string> {
  const { tmpdir } = await import('node:os');
  return mkdtemp(join(tmpdir(), prefix));
}
