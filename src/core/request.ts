// The one request shape every transport builds, and the one result shape it gets back.
// Transports import only types from this file (and the error catalogue); never the store.
// Nothing here is specific to one wire: an adapter turns headers, commands or packets into a
// BootRequest and formats a BootResult (a challenge included) in its own terms.
import type { Readable } from 'node:stream';
import type { ProvError } from '../errors.ts';

import type { Transport } from '../domain.ts';
import type { DigestAlgorithm } from './digest.ts';
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

/**
 * What the wire asked for: `read` a file, `write` one (`append`: a log uploaded in append mode,
 * FTP APPE), `delete` an upload, `list` a directory (FTP LIST/NLST/CWD), `stat` a file or
 * directory without reading it (FTP SIZE/MDTM, the login check).
 */
export type BootOp = 'read' | 'write' | 'append' | 'delete' | 'list' | 'stat';

export interface BootRequest {
  transport: Transport;
  remote: { address: string; port: number };
  credentials?: Credentials;
  op: BootOp;
  /**
   * Exactly as received (HTTP percent-decodes it once; a target that does not decode is passed
   * as sent, and the core refuses it); the core normalises and refuses hostile paths.
   */
  path: string;
  /** HTTP only; FTP/TFTP phones are identified by path and address. */
  userAgent?: string;
  /** Content-Length, TFTP tsize, FTP ALLO, when given. */
  size?: number;
  /** Write and append only. */
  body?: Readable;
  /** Fires when the phone hangs up. */
  signal: AbortSignal;
}

/** How a transfer ended, reported once by the adapter so the audit records what was really sent. */
export interface TransferOutcome {
  bytes: number;
  durationMs: number;
  /** Final status in the transport's terms (HTTP code, `tftp:ok`, `ftp:226`). */
  status: string;
  aborted: boolean;
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
   * Large files only: the content (or a range) as chunks in two reused buffers, read ahead while
   * the previous chunk is written. Kept beside `open` because a fresh buffer per chunk cost twice
   * the CPU per GB (README, Design notes; `npm run bench -- http`, firmware CPU-s/GB). A chunk is
   * valid only until the next one is asked for, so the caller must be done with it by then.
   */
  chunks?(range?: ByteRange): AsyncIterable<Buffer>;
  /** The phone the request was identified as, when known (for the adapter's logs only). */
  mac?: string;
  /** Set on a `stat` of a directory (FTP CWD/login checks); never on a read. */
  directory?: boolean;
  /**
   * The adapter calls this once when the transfer ends (sent, refused by a conditional, or the
   * phone hung up); the core counts and audits the transfer then. A `stat` needs no call.
   */
  done(outcome: TransferOutcome): void;
}

/** One file in a directory listing (FTP LIST/NLST). */
export interface DirectoryEntry {
  name: string;
  size: number;
  mtime: Date;
}

export type BootResult =
  | FileResult
  /** op `list`: the phone-visible files of a directory, or the one file the path names. */
  | { kind: 'listing'; entries: DirectoryEntry[] }
  | { kind: 'stored'; bytes: number; sha256: string; created: boolean }
  | { kind: 'deleted' }
  | { kind: 'refused'; error: ProvError; challenge?: AuthChallenge };

/**
 * What a transport needs to ask for credentials, as data: HTTP formats WWW-Authenticate headers
 * from it (RFC 7616 §3.3, one challenge per algorithm, strongest first, then Basic); FTP just
 * answers 530.
 */
export interface AuthChallenge {
  realm: string;
  nonce: string;
  opaque: string;
  /** Strongest first. */
  algorithms: readonly DigestAlgorithm[];
  qop: 'auth';
  /** RFC 7616 §3.3: the nonce was old but the response was right; retry without asking the user. */
  stale: boolean;
  /** Basic is offered too (after Digest). */
  basic: boolean;
}

export interface BootService {
  /** The one entry point: every operation of every transport. */
  handle(req: BootRequest): Promise<BootResult>;
  /**
   * Counts wire-level garbage that never became a request (a malformed HTTP head, a junk UDP
   * datagram, a method the boot server does not speak): metrics only, no audit record.
   */
  wireGarbage?(transport: Transport): void;
}
