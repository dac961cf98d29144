// SQLite's one temporary fault (issue 13 item 13, the same handling as a PostgreSQL outage):
// SQLITE_BUSY, another process (a CLI command, a second server on the same data directory)
// holding the write lock past busy_timeout. It becomes PP_STORE_UNAVAILABLE, so the phone is told
// to retry (HTTP 503 + Retry-After, FTP 421, TFTP ERROR) and the audit recorder spools, instead of
// an internal error. Anything else (a corrupt file, a full disk) stays what it is.
import { ProvError } from '../../errors.ts';

/** better-sqlite3's SqliteError codes: SQLITE_BUSY and its extended forms (SQLITE_BUSY_SNAPSHOT, …). */
const BUSY = /^SQLITE_BUSY(?:_|$)/;

/** PP_STORE_UNAVAILABLE for a busy database; any other error unchanged. */
export function sqliteFault(err: unknown): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (err instanceof ProvError || typeof code !== 'string' || !BUSY.test(code)) return err;
  return new ProvError('PP_STORE_UNAVAILABLE', `the SQLite store is busy: ${(err as Error).message}`, {
    cause: err,
    hint: 'Another process holds the database; the request can be retried.',
  });
}

/** The same section of the store, each method's SQLITE_BUSY turned into PP_STORE_UNAVAILABLE. */
export function guarded<T extends object>(section: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(section)) {
    out[name] = typeof value !== 'function' ? value : async (...args: unknown[]) => {
      try {
        return await (value as (...a: unknown[]) => unknown)(...args);
      } catch (err) {
        throw sqliteFault(err);
      }
    };
  }
  return out as T;
}
