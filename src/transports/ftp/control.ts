// One FTP control connection: reads command lines, answers per RFC 959 §4.2, and turns every
// file operation into a BootRequest for the core. The adapter checks nothing itself: USER/PASS
// become `credentials` on each request, and which files a phone may read, write, delete or list
// is the core's answer, mapped to a reply code through the error catalogue's FTP column.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { BootRequest, BootResult, BootService, FileResult } from '../../core/request.ts';
import type { ErrorCode } from '../../errors.ts';
import { ControlLineReader } from './line-reader.ts';
import { plainAddress } from '../../util/address.ts';
import { formatReply, ftpCodeOf, refusalText } from './format.ts';
import { resolveFtpPath } from './path.ts';
import { PassiveListener } from './data.ts';
import { COMMANDS } from './commands.ts';
import type { TlsSetup } from './tls-sessions.ts';

const TLS_HANDSHAKE_TIMEOUT_MS = 15_000;
const TRANSFER_VERBS = new Set(['RETR', 'STOR', 'APPE', 'LIST', 'NLST', 'USER']);

export interface FtpLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  child?(bindings: Record<string, unknown>): FtpLogger;
}

export interface SessionConfig {
  service: BootService;
  /** Set when a certificate is configured: enables AUTH TLS (RFC 4217 §4). */
  tls?: TlsSetup;
  implicitTls: boolean;
  passivePortMin?: number;
  passivePortMax?: number;
  idleTimeoutMs: number;
  passiveTimeoutMs: number;
  dataIdleTimeoutMs: number;
  maxLineBytes: number;
  /** Commands a client may pipeline ahead of the one being served. */
  maxQueuedCommands: number;
  /** Failed PASS attempts before the connection is closed. */
  maxLoginFailures: number;
  log: FtpLogger;
}

/** State a command handler works with; handlers live in commands.ts and transfers.ts. */
export class FtpSession {
  readonly id = randomBytes(6).toString('hex');
  readonly remote: { address: string; port: number };
  sock: Socket;
  secure = false;
  pbsz = false;
  protP = false;
  user?: string;
  password?: string;
  loggedIn = false;
  loginFailures = 0;
  cwd = '/';
  restOffset = 0;
  alloSize?: number;
  epsvAll = false;
  passive?: PassiveListener;
  /** Set while a transfer runs; ABOR calls it. */
  abortTransfer?: () => void;
  aborRequested = false;
  readonly log: FtpLogger;
  private readonly ac = new AbortController();
  private queue: string[] = [];
  private busy = false;
  private closed = false;
  private reader: ControlLineReader;
  private readonly onData = (c: Buffer) => this.reader.push(c);

  constructor(
    raw: Socket,
    readonly cfg: SessionConfig,
    private readonly onClose: (s: FtpSession) => void,
  ) {
    this.sock = raw;
    this.remote = { address: plainAddress(raw.remoteAddress), port: raw.remotePort ?? 0 };
    this.log = cfg.log.child ? cfg.log.child({ ftpSession: this.id, remote: this.remote.address }) : cfg.log;
    this.reader = this.newReader();
    raw.setNoDelay(true);
    raw.on('error', (e) => this.log.debug({ err: e.message }, 'ftp control connection error'));
    raw.once('close', () => this.teardown());
    raw.setTimeout(cfg.idleTimeoutMs, this.onIdle);
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  start(): void {
    if (!this.cfg.implicitTls) {
      this.listen(this.sock);
      this.reply(220, 'polyprov FTP boot server ready.');
      return;
    }
    // Implicit FTPS: TLS from the first byte, then the greeting (RFC 4217 §1 notes the legacy port 990 use).
    this.upgrade(() => this.reply(220, 'polyprov FTPS boot server ready.'));
  }

  reply(code: number, text: string): void {
    if (this.closed || this.sock.destroyed || this.sock.writableEnded) return;
    this.sock.write(formatReply(code, text));
  }

  /**
   * Replies with the catalogue's FTP code for a refusal. Each refusal gets one warn line: the core
   * writes it for its own refusals, so the adapter adds one (in the core's fixed, fail2ban-friendly
   * form) only for refusals it made itself.
   */
  refuse(code: ErrorCode, path: string, origin: 'core' | 'adapter', detail?: string): void {
    const ftp = ftpCodeOf(code);
    if (origin === 'adapter') {
      this.log.warn({ code, transport: 'ftp', path, detail }, `refused ${code} from ${this.remote.address}`);
    } else {
      this.log.debug({ code, path, reply: ftp }, 'ftp refusal from the core');
    }
    this.reply(ftp, refusalText(code));
    if (ftp === 421) this.close();
  }

  /** The reply for any result that is not what the command expected. */
  replyUnexpected(res: BootResult, path: string): void {
    if (res.kind === 'refused') this.refuse(res.error.code, path, 'core');
    else this.refuse('PP_INTERNAL', path, 'adapter', `core answered ${res.kind}`);
  }

  path(arg: string): string {
    return resolveFtpPath(this.cwd, arg);
  }

  /**
   * A BootRequest for this session. The transport is `ftps` only when the bytes in question
   * travel under TLS: the control connection for stat/delete, the data connection (PROT P) too
   * for transfers, so the core's secret-file policy sees what actually crosses the network.
   */
  request(op: BootRequest['op'], path: string, usesData: boolean, signal = this.ac.signal): BootRequest {
    const tlsProtected = this.secure && (!usesData || this.protP);
    return {
      transport: tlsProtected ? 'ftps' : 'ftp',
      remote: this.remote,
      credentials:
        this.user === undefined ? undefined : { kind: 'login', user: this.user, password: this.password ?? '' },
      op,
      path,
      signal,
    };
  }

  isFile(res: BootResult): res is FileResult {
    return res.kind === 'file';
  }

  closePassive(): void {
    this.passive?.close();
    this.passive = undefined;
  }

  /** RFC 4217 §4: after 234 the next bytes are the TLS handshake; anything pipelined before it is dropped. */
  upgradeAfterReply(): void {
    // CVE-2011-0411-style injection: lines that arrived with AUTH in the same clear-text read must not run.
    this.reader.stop();
    this.queue = [];
    this.sock.off('data', this.onData);
    this.upgrade(() => {});
  }

  close(): void {
    if (this.closed) return;
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }

  private upgrade(then: () => void): void {
    const raw = this.sock;
    const t = new TLSSocket(raw, this.cfg.tls!.socketOptions);
    // A peer that starts TLS and stalls would otherwise hold the session until the idle timeout.
    const handshakeTimer = setTimeout(() => raw.destroy(), Math.min(this.cfg.idleTimeoutMs, TLS_HANDSHAKE_TIMEOUT_MS));
    t.on('error', (e) => {
      this.log.debug({ err: e.message }, 'ftp TLS handshake or stream error');
      raw.destroy();
    });
    t.once('close', () => {
      clearTimeout(handshakeTimer);
      this.teardown();
    });
    t.once('secure', () => {
      clearTimeout(handshakeTimer);
      // Activity now shows on the TLS socket only, so the idle timer moves there.
      raw.setTimeout(0);
      t.setTimeout(this.cfg.idleTimeoutMs, this.onIdle);
      this.sock = t;
      this.secure = true;
      this.reader = this.newReader();
      this.listen(t);
      then();
    });
  }

  private listen(s: Socket): void {
    s.on('data', this.onData);
  }

  private newReader(): ControlLineReader {
    return new ControlLineReader(this.cfg.maxLineBytes, {
      line: (l) => this.enqueue(l),
      overlong: () => {
        // Wire garbage: never became a request, counted in the metrics only.
        this.cfg.service.wireGarbage?.(this.secure ? 'ftps' : 'ftp');
        this.reply(500, `Command line too long (over ${this.cfg.maxLineBytes} bytes).`);
      },
    });
  }

  private enqueue(line: string): void {
    if (this.closed) return;
    const verb = line.split(' ', 1)[0]!.toUpperCase();
    if (verb === 'ABOR' && this.abortTransfer) {
      // RFC 959 §4.1.3 ABORT: the transfer is answered 426, then ABOR itself 226.
      this.aborRequested = true;
      this.abortTransfer();
      return;
    }
    if (this.queue.length >= this.cfg.maxQueuedCommands) {
      this.reply(421, 'Too many commands pipelined; closing control connection.');
      this.close();
      return;
    }
    this.queue.push(line);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) await this.execute(this.queue.shift()!);
    } finally {
      this.busy = false;
    }
  }

  private async execute(line: string): Promise<void> {
    const sp = line.indexOf(' ');
    const verb = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp === -1 ? '' : line.slice(sp + 1);
    const spec = Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb] : undefined;
    if (!spec) {
      this.cfg.service.wireGarbage?.(this.secure ? 'ftps' : 'ftp');
      this.reply(verb === '' ? 500 : 502, verb === '' ? 'Empty command.' : 'Command not implemented.');
      return;
    }
    if (spec.login && !this.loggedIn) {
      this.reply(530, 'Please log in with USER and PASS.');
      return;
    }
    if (spec.arg === 'required' && arg.trim() === '') {
      this.reply(501, `${verb} needs an argument.`);
      return;
    }
    try {
      await spec.run(this, arg);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, verb }, 'ftp command failed');
      this.reply(451, 'Local error in processing (PP_INTERNAL).');
    }
    // RFC 3659 §5.3 wants REST right before the transfer; like vsftpd, a PASV or SIZE in between is
    // tolerated and the offset is spent by the next transfer command. ALLO likewise by the next upload.
    if (TRANSFER_VERBS.has(verb)) this.restOffset = 0;
    if (verb === 'STOR' || verb === 'APPE' || verb === 'USER') this.alloSize = undefined;
  }

  private readonly onIdle = (): void => {
    if (this.abortTransfer) return; // the data connection has its own idle timeout
    this.reply(421, 'Idle timeout; closing control connection.');
    this.close();
  };

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.ac.abort(new Error('control connection closed'));
    this.abortTransfer?.();
    this.closePassive();
    this.onClose(this);
  }
}
