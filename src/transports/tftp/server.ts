// The TFTP adapter: binds UDP, turns each RRQ/WRQ into a BootRequest for the boot service, and
// runs the transfer with a session state machine. Everything about content, policy and storage
// happens in BootService.handle(); this file only translates the wire.
//
// - One socket on the listen port takes requests; each transfer gets its own ephemeral socket,
//   its transfer identifier (RFC 1350 §4). A packet on it from any other address/port gets
//   ERROR 5 and is otherwise ignored, so a stray sender cannot disturb the transfer.
// - Concurrent sessions are capped (tftpMaxSessions); over the cap a request gets ERROR 0.
// - Only octet mode is served. netascii (RFC 1350 §5) would rewrite line ends, which changes
//   the size announced in tsize and breaks firmware images; Polycom phones use octet, so a
//   netascii or mail request gets ERROR 4 saying to use octet (binary) mode.
// - Garbage never crashes the server: undecodable requests get ERROR 4, anything that is not a
//   request on the listen port gets ERROR 4 unless it is itself an ERROR, and a malformed packet
//   from a session's own peer is dropped (its retransmission timer recovers).
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { ERRORS, ProvError } from '../../errors.ts';
import type { BootRequest, BootResult, BootService } from '../../core/request.ts';
import type { Clock } from '../../domain.ts';
import type { ServerOptions } from '../../options.ts';
import { monotonicClock } from '../../util/clock.ts';
import { streamBlockSource } from './block-reader.ts';
import { negotiateOptions } from './negotiate.ts';
import { decodePacket, encodeError, OP_ERROR, TFTP_ERR, TftpDecodeError, type RequestPacket } from './packet.ts';
import { literalLookup, openTransferSocket, udpType, type TransferSocket } from './transfer-socket.ts';
import { ReadWorkerPool } from './worker-pool.ts';
import { DEFAULT_SHARED_CONTENT, SharedContentCache, sharedBlockSource, type SharedContentLimits } from './shared-content.ts';
import type { SessionConfig, SessionError, SessionOutcome } from './session.ts';
import { ReadSession, type BlockSource } from './read-session.ts';
import { WriteSession, type BlockSink } from './write-session.ts';
import { UploadBody } from './upload-body.ts';

export type TftpServerOptions = Pick<
  ServerOptions,
  'tftpBlksizeMax' | 'tftpWindowsizeMax' | 'tftpTimeoutMs' | 'tftpRetries' | 'tftpMaxSessions'
>;

/** The slice of a pino logger the adapter uses. */
export interface TftpLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface StartTftpServerOptions {
  host: string;
  port: number;
  service: BootService;
  options: TftpServerOptions;
  log?: TftpLog;
  clock?: Clock;
  /**
   * Worker threads that run read transfers (0: all on the main thread). On a multi-core host,
   * os.availableParallelism() lets concurrent downloads use every core (bench/tftp.ts).
   */
  workers?: number;
  /**
   * Transfers of the same file at the same time share one copy of it (shared-content.ts);
   * `{ maxFileBytes: 0 }` turns that off.
   */
  sharedContent?: Partial<SharedContentLimits>;
}

export interface TftpServer {
  address(): AddressInfo;
  /** Sessions holding a socket right now (tests check it returns to 0). */
  sessionCount(): number;
  /** Read workers still running (a dead one's transfers fail and new ones go elsewhere). */
  workersAlive(): number;
  /** Bytes of content shared between transfers right now (shared-content.ts). */
  sharedBytes(): number;
  close(): Promise<void>;
}

const silentLog: TftpLog = { debug() {}, info() {}, warn() {} };

interface Live {
  cancel(message: string): void;
}

export async function startTftpServer(opts: StartTftpServerOptions): Promise<TftpServer> {
  const { service, options } = opts;
  const log = opts.log ?? silentLog;
  const pool = (opts.workers ?? 0) > 0 ? new ReadWorkerPool(opts.workers!) : undefined;
  const sessions = new Set<Live>();
  // With read workers, shared content lives in SharedArrayBuffers so the workers send it as is.
  const shared = new SharedContentCache({ ...DEFAULT_SHARED_CONTENT, ...opts.sharedContent }, opts.clock ?? monotonicClock, pool !== undefined);
  /** remote + request, so a retransmitted RRQ/WRQ does not start a second transfer. */
  const requestKeys = new Set<string>();
  let closing = false;

  const main = dgram.createSocket({ type: udpType(opts.host), lookup: literalLookup(udpType(opts.host)) as never });
  main.on('error', (err) => log.warn({ err }, 'tftp listener error'));
  await new Promise<void>((resolve, reject) => {
    main.once('error', reject);
    // exclusive: in a `serve --workers N` worker the socket is this process's own, not one the
    // cluster primary shares (TFTP runs in one worker: issue 16).
    main.bind({ address: opts.host, port: opts.port, exclusive: true }, () => {
      main.off('error', reject);
      resolve();
    });
  });

  main.on('message', (msg, rinfo) => {
    if (closing) return;
    let packet;
    try {
      packet = decodePacket(msg);
    } catch (err) {
      if (!(err instanceof TftpDecodeError)) throw err;
      // Wire garbage: never became a request, so it is counted in the metrics only.
      service.wireGarbage?.('tftp');
      log.debug({ remote: rinfo.address, reason: err.reason }, 'tftp malformed packet');
      if (msg.length >= 2 && msg.readUInt16BE(0) !== OP_ERROR) {
        main.send(encodeError(TFTP_ERR.ILLEGAL_OPERATION, `malformed request: ${err.message}`), rinfo.port, rinfo.address);
      }
      return;
    }
    if (packet.op === 'ERROR') return;
    if (packet.op !== 'RRQ' && packet.op !== 'WRQ') {
      service.wireGarbage?.('tftp');
      main.send(encodeError(TFTP_ERR.ILLEGAL_OPERATION, 'expected RRQ or WRQ on this port'), rinfo.port, rinfo.address);
      return;
    }
    startSession(packet, rinfo).catch((err: unknown) => log.warn({ err }, 'tftp session failed to start'));
  });

  async function startSession(req: RequestPacket, rinfo: dgram.RemoteInfo): Promise<void> {
    const key = `${rinfo.address}\0${rinfo.port}\0${req.op}\0${req.filename}`;
    if (requestKeys.has(key)) return;
    const refuseFromMain = (code: number, message: string): void => {
      main.send(encodeError(code, message), rinfo.port, rinfo.address);
    };
    if (sessions.size >= options.tftpMaxSessions) {
      log.warn({ remote: rinfo.address, path: req.filename }, 'tftp refused: server busy');
      return refuseFromMain(TFTP_ERR.NOT_DEFINED, 'server busy, try again later');
    }
    if (req.mode !== 'octet') {
      // A mode the boot server does not speak (as an HTTP method other than GET/HEAD/PUT): it never
      // becomes a request, so it is counted as wire garbage.
      service.wireGarbage?.('tftp');
      log.warn({ remote: rinfo.address, path: req.filename, mode: req.mode }, 'tftp refused: mode');
      return refuseFromMain(TFTP_ERR.ILLEGAL_OPERATION, `mode "${req.mode}" is not served; use octet (binary) mode`);
    }

    // Reserve the slot before any await, so the cap holds under a burst of requests.
    const live: Live = { cancel: () => release() };
    sessions.add(live);
    requestKeys.add(key);
    let released = false;
    let sock: TransferSocket | undefined;
    function release(): void {
      if (released) return;
      released = true;
      sessions.delete(live);
      requestKeys.delete(key);
      sock?.close();
    }
    /** The transfer's own socket, once the boot service has accepted the request. */
    const bindLocal = async (): Promise<TransferSocket | undefined> => {
      try {
        const t = await openTransferSocket(opts.host, peer, (p) => session?.receive(p), (err) => {
          log.debug({ err }, 'tftp session socket error');
          live.cancel('socket error');
        });
        if (released) t.close();
        else sock = t;
        return sock;
      } catch (err) {
        log.warn({ err }, 'tftp could not open a transfer socket');
        release();
        return undefined;
      }
    };
    const send = (datagram: Buffer | Buffer[]): void => sock?.send(datagram);

    const negotiated = negotiateOptions(req.op, req.options, {
      blksizeMax: options.tftpBlksizeMax,
      windowsizeMax: options.tftpWindowsizeMax,
      timeoutMs: options.tftpTimeoutMs,
    });
    const abort = new AbortController();
    const started = performance.now();
    const bootReq: BootRequest = {
      transport: 'tftp',
      op: req.op === 'RRQ' ? 'read' : 'write',
      path: req.filename,
      remote: { address: rinfo.address, port: rinfo.port },
      size: negotiated.tsize,
      signal: abort.signal,
    };
    const peer = { address: rinfo.address, port: rinfo.port };
    let session: ReadSession | WriteSession | undefined;

    const report = (result: BootResult, outcome: SessionOutcome): void => {
      if (!outcome.ok) abort.abort();
      // A refusal is a finished exchange, not a phone hanging up.
      const aborted = !outcome.ok && result.kind !== 'refused';
      const status = outcome.ok ? 'tftp:ok' : `tftp:error:${outcome.error?.code ?? 0}`;
      // Only a read's outcome is reported: the core records writes and refusals itself.
      if (result.kind === 'file') {
        try {
          result.done({ bytes: outcome.bytes, durationMs: performance.now() - started, status, aborted });
        } catch (err) {
          log.warn({ err }, 'tftp done() threw');
        }
      }
      if (outcome.ok) log.debug({ remote: peer.address, path: req.filename, bytes: outcome.bytes }, 'tftp transfer done');
      else log.info({ remote: peer.address, path: req.filename, reason: outcome.reason, bytes: outcome.bytes }, 'tftp transfer failed');
    };

    const refuse = (result: Extract<BootResult, { kind: 'refused' }>): void => {
      const error = wireError(result.error);
      log.warn({ remote: peer.address, path: req.filename, code: result.error.code }, 'tftp refused');
      // Before a transfer socket exists the listen port answers; RFC 1350 allows either.
      if (sock) sock.send(encodeError(error.code, error.message));
      else main.send(encodeError(error.code, error.message), peer.port, peer.address);
      report(result, { ok: false, reason: 'content-error', bytes: 0, error });
      release();
    };

    const config = (oack: Map<string, string>): SessionConfig => ({
      blksize: negotiated.blksize,
      windowsize: negotiated.windowsize,
      timeoutMs: negotiated.timeoutMs,
      retries: options.tftpRetries,
      oack,
    });

    if (req.op === 'RRQ') {
      const result = await handleSafely(service, bootReq);
      if (released) {
        if (result.kind === 'file') result.done({ bytes: 0, durationMs: performance.now() - started, status: 'tftp:error:0', aborted: true });
        return;
      }
      if (result.kind === 'refused') return refuse(result);
      if (result.kind !== 'file') return refuse(internal(`read answered with ${result.kind}`));
      // RFC 2349: an RRQ's tsize is answered with the real size.
      if (negotiated.oack.has('tsize')) negotiated.oack.set('tsize', String(result.size));
      // The content: a copy shared with the transfers reading the same file now (shared-content.ts),
      // else a stream of its own. Only what the core streams from its tree is shared; a `body` it
      // hands over may be rendered for this one request (staging enrolment), so it is never reused.
      let use: ReturnType<SharedContentCache['acquire']>;
      let stream: Readable | undefined;
      try {
        if (!result.body) use = shared.acquire({ path: req.filename, etag: result.etag, size: result.size }, negotiated.blksize, () => result.open());
        if (!use) stream = result.open();
      } catch (err) {
        result.done({ bytes: 0, durationMs: performance.now() - started, status: 'tftp:error:0', aborted: true });
        return refuse(internal(`open failed: ${(err as Error).message}`));
      }
      if (pool?.available) {
        const job = pool.start({
          host: opts.host,
          peer,
          config: config(negotiated.oack),
          stream,
          shared: use?.entry,
          onEnd: (outcome) => report(result, outcome),
          onClose: () => {
            use?.release();
            release();
          },
        });
        live.cancel = (message) => job.cancel(message);
        return;
      }
      if (!(await bindLocal())) {
        use?.release();
        stream?.destroy();
        result.done({ bytes: 0, durationMs: performance.now() - started, status: 'tftp:error:0', aborted: true });
        return;
      }
      return runRead(use ? sharedBlockSource(use.entry, negotiated.blksize, use.release) : streamBlockSource(stream!, negotiated.blksize), result);
    }

    function runRead(source: BlockSource, result: BootResult): void {
      const s = new ReadSession(source, config(negotiated.oack), {
        send,
        clock: opts.clock,
        onEnd: (outcome) => report(result, outcome),
        onClose: release,
      });
      session = s;
      live.cancel = (message) => {
        s.cancel(message);
        release();
      };
      s.start();
    }

    // WRQ: the core's first read of the body accepts the write (upload-body.ts).
    const upload = new UploadBody();
    bootReq.body = upload.stream;
    const handled = handleSafely(service, bootReq);
    const first = await Promise.race([upload.accepted, handled]);
    if (released) return;
    if (first !== 'accepted') {
      if (first.kind === 'refused') return refuse(first);
      return refuse(internal(`write answered with ${first.kind} before reading the upload`));
    }
    if (!(await bindLocal())) {
      upload.destroy('TFTP upload: no transfer socket');
      return;
    }
    let finalResult: BootResult | undefined;
    const sink: BlockSink = {
      write: (chunk) => upload.write(chunk),
      async end(): Promise<SessionError | undefined> {
        upload.end();
        finalResult = await handled;
        if (finalResult.kind === 'stored') return undefined;
        if (finalResult.kind === 'refused') {
          log.warn({ remote: peer.address, path: req.filename, code: finalResult.error.code }, 'tftp refused');
          return wireError(finalResult.error);
        }
        return { code: TFTP_ERR.NOT_DEFINED, message: 'upload not stored' };
      },
      abort(reason) {
        abort.abort();
        upload.destroy(`TFTP upload ${reason}`);
      },
    };
    // A refusal while the data is still arriving (size limit, store failure) ends the transfer now.
    void handled.then((r) => {
      if (r.kind === 'refused' && session && !finalResult) {
        const e = wireError(r.error);
        log.warn({ remote: peer.address, path: req.filename, code: r.error.code }, 'tftp refused');
        session.fail('content-error', e, true);
      }
    });
    const s = new WriteSession(sink, config(negotiated.oack), {
      send,
      clock: opts.clock,
      onEnd: (outcome) => {
        void handled.then((r) => report(finalResult ?? r, outcome));
      },
      onClose: release,
    });
    session = s;
    live.cancel = (message) => {
      s.cancel(message);
      release();
    };
    s.start();
  }

  return {
    address: () => main.address(),
    sessionCount: () => sessions.size,
    workersAlive: () => pool?.alive ?? 0,
    sharedBytes: () => shared.bytes,
    async close() {
      closing = true;
      for (const live of [...sessions]) live.cancel('server shutting down');
      // Workers close their sessions themselves; give them a moment to send the ERRORs.
      for (let i = 0; i < 50 && sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      await pool?.close();
      shared.clear();
      await new Promise<void>((resolve) => main.close(() => resolve()));
    },
  };
}

/** ERRORS[code].tftp is the one table from error codes to TFTP ERROR codes. */
function wireError(error: ProvError): SessionError {
  const def = ERRORS[error.code] as { tftp?: number; summary: string };
  return { code: def.tftp ?? TFTP_ERR.NOT_DEFINED, message: `${error.code} ${def.summary}` };
}

function internal(message: string): Extract<BootResult, { kind: 'refused' }> {
  return { kind: 'refused', error: new ProvError('PP_INTERNAL', message) };
}

async function handleSafely(service: BootService, req: BootRequest): Promise<BootResult> {
  try {
    return await service.handle(req);
  } catch (err) {
    return internal(`boot service failed: ${(err as Error)?.message ?? err}`);
  }
}
