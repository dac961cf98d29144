// The one request shape every transport builds, and the one result shape it gets back.
// Transports import only types from this file (and the error catalogue); never the store.
import type { Readable } from 'node:stream';
import type { ProvError } from '../errors.ts';

import type { Transport } from '../domain.ts';
export type { Transport };

/** Proof of identity as a transport saw it. The core checks it; the transport never decides. */
export type Credentials =
  | { kind: 'basic'; user: string; password: string }
  /** RFC 7616 Digest: the parsed Authorization header fields plus the request method. */
  | { kind: 'digest'; method: string; fields: Record<string, string> }
  /** FTP USER/PASS, checked like Basic. */
  | { kind: 'login'; user: string; password: string }
  /** A client certificate the TLS layer already verified against --client-ca. */
  | { kind: 'cert'; subjectCN?: string; subjectAltNames: string[]; fingerprint256: string };

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface BootRequest {
  transport: Transport;
  remote: { address: string; port: number };
  credentials?: Credentials;
  op: 'read' | 'write' | 'append' | 'delete' | 'stat';
  /** Exactly as received (percent-decoded once by HTTP only); the core normalises and refuses hostile paths. */
  path: string;
  /** HTTP only; FTP/TFTP phones are identified by path and address. */
  userAgent?: string;
  /** Content-Length, TFTP tsize, FTP ALLO, when given. */
  size?: number;
  /** Write and append only. */
  body?: Readable;
  /** Fires when the phone hangs up. */
  signal: AbortSignal;
  /** Login/session identity already established (FTP session, TLS connection), if any. */
  session?: { id: string };
}

export interface FileResult {
  kind: 'file';
  size: number;
  mtime: Date;
  etag: string;
  /** Opens a stream of the content (or of a byte range of it). The caller must consume or destroy it. */
  open(range?: ByteRange): Readable;
  /**
   * The whole content when the core already holds it in memory (small files, stored uploads):
   * a transport may send it directly instead of calling `open`. Never set for large files.
   */
  body?: Buffer;
  /**
   * Optional: the content (or a range) as chunks in reused buffers, cheaper than `open` for large
   * files. A chunk is valid only until the next one is asked for or the loop ends, so the caller
   * must be done with it (written out and flushed) before then.
   */
  chunks?(range?: ByteRange): AsyncIterable<Buffer>;
  /** The phone the request was identified as, when known (for the adapter's logs only). */
  mac?: string;
  /** Set on a `stat` of a directory (FTP CWD/login checks); never on a read. */
  directory?: boolean;
}

export type BootResult =
  | FileResult
  | { kind: 'stored'; bytes: number; sha256: string; created: boolean }
  | { kind: 'deleted' }
  | { kind: 'refused'; error: ProvError; challenge?: AuthChallenge };

/** What a transport must send to ask for credentials (HTTP WWW-Authenticate; FTP just 530). */
export interface AuthChallenge {
  realm: string;
  /** Ready-made WWW-Authenticate header values, strongest first. */
  headers: string[];
}

/** Called once per finished transfer by the transport, so audit records bytes and duration actually sent. */
export interface TransferOutcome {
  bytes: number;
  durationMs: number;
  /** Final status in the transport's terms (HTTP code, `tftp:ok`, `ftp:226`). */
  status: string;
  aborted: boolean;
}

export interface BootService {
  handle(req: BootRequest): Promise<BootResult>;
  /** Reports how a read actually ended (bytes sent, aborted); the core records it in the audit. */
  finish(req: BootRequest, result: BootResult, outcome: TransferOutcome): void;
  /**
   * Optional: the phone-visible files of the directory `req.path` (sent with op 'stat'), for FTP
   * LIST/NLST and CWD. The Administrator's Guide (Boot Server Security Policy) says the phone's
   * account "must also be able to list files in all directories mentioned in the <MAC-address>.cfg".
   * Absent: FTP answers LIST/NLST with 550. A refusal comes back as the ProvError itself.
   */
  list?(req: BootRequest): Promise<DirectoryEntry[] | ProvError>;
}

/** One file in a directory listing (FTP LIST/NLST). */
export interface DirectoryEntry {
  name: string;
  size: number;
  mtime: Date;
}
