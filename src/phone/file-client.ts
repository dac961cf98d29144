// One interface for the phone's file transfers, whatever the protocol. The boot sequence
// (boot.ts) knows nothing of HTTP, FTP or TFTP: it asks for a path and gets bytes, "not found",
// "denied" or an error, and records what the wire said.
import type { Protocol } from './server-address.ts';

export type FetchStatus = 'ok' | 'not-found' | 'denied' | 'error';

export interface FetchResult {
  status: FetchStatus;
  body?: Buffer;
  /** Bytes moved on the data path (received for reads, sent for writes). */
  bytes: number;
  /** What the wire said: '200', '404', 'ftp:550', 'tftp:1', 'ECONNREFUSED', 'timeout'. */
  wire: string;
  /** Total size when the server announced it (Content-Length, tsize, SIZE). */
  size?: number;
  /** Human detail for errors. */
  error?: string;
}

export interface GetOptions {
  /** HTTP User-Agent of the current stage (bootROM Updater or Application). */
  userAgent?: string;
  signal?: AbortSignal;
}

export interface PutOptions extends GetOptions {
  /** Append rather than replace (FTP APPE; HTTP and TFTP replace the whole file). */
  append?: boolean;
}

export interface FileClient {
  readonly protocol: Protocol;
  /** The IP address (or name) this client talks to. */
  readonly address: string;
  get(path: string, opts?: GetOptions): Promise<FetchResult>;
  /**
   * Reads the first `bytes` bytes of a file and hangs up, as a phone does when it only needs an
   * image's header to see that the image is unchanged (SEED-AG, BootROM step 6).
   */
  headThenHangUp(path: string, bytes: number, opts?: GetOptions): Promise<FetchResult>;
  put(path: string, body: Buffer, opts?: PutOptions): Promise<FetchResult>;
  close(): Promise<void>;
}

const PLAIN_PATH = /^[A-Za-z0-9\-_.!~*'()]+(?:\/[A-Za-z0-9\-_.!~*'()]+)*$/;

/** Joins a relative path onto the URL path root, escaping each segment (RFC 3986 §3.3). */
export function urlPath(path: string): string {
  // Segments of characters encodeURIComponent leaves alone, none empty: nothing to escape.
  if (PLAIN_PATH.test(path)) return '/' + path;
  return '/' + path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

export function errorResult(err: unknown): FetchResult {
  const e = err as { code?: string; message?: string };
  return { status: 'error', bytes: 0, wire: e.code ?? 'error', error: e.message ?? String(err) };
}
