// RETR, STOR, APPE, LIST and NLST: the commands that use a data connection (RFC 959 §4.1.3).
// Sequence for each: ask the core first (a refusal is answered before any data connection is
// used), then 150, accept the passive connection, move the bytes, 226 (or 426 when the connection
// broke or ABOR came), and report a download's outcome to the core with the result's done().
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { BootRequest, BootResult, FileResult } from '../../core/request.ts';
import { ProvError } from '../../errors.ts';
import type { FtpSession } from './control.ts';
import { formatListLine, listableName } from './format.ts';
import { listEntries, listTarget } from './directory.ts';
import { sendStream, UploadBody } from './transfer.ts';

interface Transfer {
  ctl: AbortController;
  data?: Socket;
}

/** 150, then the passive connection; on failure replies 425 and returns undefined. */
async function openData(s: FtpSession, t: Transfer, preface: string): Promise<Socket | undefined> {
  const p = s.passive;
  s.passive = undefined; // a passive listener serves one transfer
  if (!p) {
    s.reply(425, 'Use PASV or EPSV first.');
    return undefined;
  }
  s.abortTransfer = () => {
    t.ctl.abort(new Error('ABOR or control connection closed'));
    p.close();
    t.data?.destroy();
  };
  s.reply(150, preface);
  try {
    t.data = await p.accept();
    if (t.ctl.signal.aborted) throw new Error('aborted');
    return t.data;
  } catch (e) {
    endTransfer(s, 425, `Cannot open data connection: ${(e as Error).message}.`);
    return undefined;
  }
}

/** The transfer's final reply, then ABOR's own 226 if ABOR is what ended it (RFC 959 §4.1.3). */
function endTransfer(s: FtpSession, code: number, text: string): void {
  s.abortTransfer = undefined;
  s.reply(code, text);
  if (s.aborRequested) {
    s.aborRequested = false;
    s.reply(226, 'ABOR successful.');
  }
}

/** A download's outcome, once (uploads and refusals are recorded by the core itself). */
function report(res: FileResult, bytes: number, began: number, code: number): void {
  res.done({ bytes, durationMs: Date.now() - began, status: `ftp:${code}`, aborted: code !== 226 });
}

function transferSignal(s: FtpSession, ctl: AbortController): AbortSignal {
  return AbortSignal.any([s.signal, ctl.signal]);
}

export async function runRetr(s: FtpSession, arg: string): Promise<void> {
  const path = s.path(arg);
  const offset = s.restOffset;
  // No data connection to send on: say so without making the core open the file for nothing.
  if (!s.passive) return s.reply(425, 'Use PASV or EPSV first.');
  const t: Transfer = { ctl: new AbortController() };
  const req = s.request('read', path, true, transferSignal(s, t.ctl));
  const began = Date.now();
  const res = await s.cfg.service.handle(req);
  if (!s.isFile(res)) {
    s.closePassive();
    return s.replyUnexpected(res, path);
  }
  if (offset > res.size) {
    // RFC 3659 §5.5: a restart marker past the end of the file.
    s.closePassive();
    s.reply(554, `REST ${offset} is past the end of the file (${res.size} bytes).`);
    return report(res, 0, began, 554);
  }
  const data = await openData(s, t, `Opening BINARY mode data connection for ${path} (${res.size - offset} bytes).`);
  if (!data) return report(res, 0, began, 425);
  let bytes = 0;
  let error: Error | undefined;
  if (offset === res.size) {
    data.end();
  } else {
    const src = res.open(offset > 0 ? { start: offset, end: res.size - 1 } : undefined);
    ({ bytes, error } = await sendStream(data, src, s.cfg.dataIdleTimeoutMs));
  }
  const code = error || t.ctl.signal.aborted ? 426 : 226;
  if (code === 426) s.log.debug({ path, bytes, err: error?.message }, 'ftp download aborted');
  endTransfer(s, code, code === 226 ? 'Transfer complete.' : 'Connection closed; transfer aborted.');
  report(res, bytes, began, code);
}

export const runStor = (s: FtpSession, arg: string) => runUpload(s, arg, 'write');
export const runAppe = (s: FtpSession, arg: string) => runUpload(s, arg, 'append');

async function runUpload(s: FtpSession, arg: string, op: 'write' | 'append'): Promise<void> {
  const path = s.path(arg);
  if (s.restOffset > 0) {
    s.closePassive();
    return s.reply(504, 'REST before STOR is not supported; uploads replace the whole file (use APPE to append).');
  }
  if (!s.passive) return s.reply(425, 'Use PASV or EPSV first.');
  const t: Transfer = { ctl: new AbortController() };
  const body = new UploadBody();
  const req: BootRequest = { ...s.request(op, path, true, transferSignal(s, t.ctl)), body, size: s.alloSize };
  const handled: Promise<BootResult> = s.cfg.service.handle(req).catch((e: unknown) => {
    // The core threw instead of answering: the adapter's own refusal, so the adapter logs it.
    s.log.warn({ code: 'PP_UPLOAD_FAILED', transport: 'ftp', path, detail: (e as Error).message }, `refused PP_UPLOAD_FAILED from ${s.remote.address}`);
    return { kind: 'refused', error: new ProvError('PP_UPLOAD_FAILED', `upload failed: ${(e as Error).message}`, { cause: e }) };
  });
  // The core either refuses without reading (answered now, no data connection) or starts reading.
  const early = await Promise.race([handled, body.started.then(() => undefined)]);
  if (early !== undefined && !body.isStarted) {
    s.closePassive();
    body.destroy();
    const code = early.kind === 'refused' ? early.error.code : 'PP_INTERNAL';
    if (early.kind === 'refused') s.refuse(code, path, 'core');
    else s.refuse(code, path, 'adapter', `core answered ${early.kind} without reading the upload`);
    return;
  }
  const data = await openData(s, t, `Ok to send data for ${path}.`);
  if (!data) {
    body.destroy(new Error('no data connection'));
    await handled;
    return;
  }
  body.attach(data, s.cfg.dataIdleTimeoutMs);
  const res = await handled;
  if (!data.destroyed) data.end();
  if (t.ctl.signal.aborted) {
    endTransfer(s, 426, 'Connection closed; transfer aborted.');
    return;
  }
  if (res.kind !== 'stored') {
    // Refused while reading (size limit, failed store): the catalogue's code ends the transfer.
    s.abortTransfer = undefined;
    s.replyUnexpected(res, path);
    return;
  }
  endTransfer(s, 226, `Transfer complete (${res.bytes} bytes stored).`);
}

export async function runList(s: FtpSession, arg: string, verb: 'LIST' | 'NLST'): Promise<void> {
  const path = s.path(listTarget(arg));
  const entries = await listEntries(s, path);
  if (!Array.isArray(entries)) {
    s.closePassive();
    return s.refuse(entries, path, 'core');
  }
  const now = new Date();
  const text = entries
    .filter((e) => listableName(e.name))
    .map((e) => (verb === 'NLST' ? `${e.name}\r\n` : formatListLine(e, now)))
    .join('');
  const t: Transfer = { ctl: new AbortController() };
  const data = await openData(s, t, `Here comes the directory listing (${entries.length} files).`);
  if (!data) return;
  const { error } = await sendStream(data, bufferStream(Buffer.from(text, 'utf8')), s.cfg.dataIdleTimeoutMs);
  const ok = !error && !t.ctl.signal.aborted;
  endTransfer(s, ok ? 226 : 426, ok ? 'Directory send OK.' : 'Connection closed; transfer aborted.');
}

function bufferStream(b: Buffer): Readable {
  return Readable.from(b.length > 0 ? [b] : []);
}
