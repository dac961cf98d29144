// The PostgreSQL connection pool and what a database fault means (issue 13 item 13: "a PostgreSQL
// outage crashes every node saving uploads"). Every query and transaction of the store goes
// through PgConnection, which
//  - listens for 'error' on the pool and on every client it checks out: node-postgres emits an
//    'error' event on a client whose server went away, and an 'error' with no listener ends the
//    process (the crash seen with `pg_ctl stop -m fast` under 10 concurrent PUT loops);
//  - hands a broken client back with its error, so the pool drops it and the next query opens a
//    fresh connection (the node recovers by itself as soon as the database answers again);
//  - turns a connection-level fault into PP_STORE_UNAVAILABLE, which every wire maps to "retry
//    later" (HTTP 503 + Retry-After, FTP 421, a TFTP ERROR saying so), never to 500.
import pg from 'pg';
import { ProvError } from '../../errors.ts';

export interface PgConnectionOptions {
  connectionString: string;
  /** `-c search_path=` for a schema of polyprov's own. */
  schema?: string;
  poolSize?: number;
  /** How long a request waits for a connection before it is refused as unavailable. */
  connectTimeoutMs?: number;
}

/**
 * SQLSTATEs that mean "the database is not there right now", not "this statement is wrong":
 * class 08 (connection exception), 57P01-57P03 (admin shutdown — what `pg_ctl stop -m fast`
 * sends —, crash shutdown, cannot connect now: starting up or shutting down) and class 53
 * (insufficient resources: too many connections, disk full, out of memory).
 */
const UNAVAILABLE_SQLSTATE = /^(?:08...|57P0[123]|53...)$/;
/** Socket errors of a server that is down, restarting or unreachable. */
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
/**
 * node-postgres raises these without a code (lib/client.js, pg-pool): the connection ended under
 * a query, a client that already failed was used, or no connection came within the timeout.
 */
const UNAVAILABLE_DRIVER_TEXT = /^(?:Connection terminated|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect|Connection terminated due to connection timeout)/;

/** True when `err` says the database is unreachable or going away (retrying later may succeed). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof ProvError) return err.code === 'PP_STORE_UNAVAILABLE';
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_ERRNO.has(e.code))) return true;
  // An AggregateError (several addresses for one host name, all refused) carries its errors.
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return typeof e.message === 'string' && UNAVAILABLE_DRIVER_TEXT.test(e.message);
}

/** PP_STORE_UNAVAILABLE for a connection-level fault; any other error unchanged. */
export function storeFault(err: unknown): unknown {
  if (err instanceof ProvError || !isUnavailable(err)) return err;
  return unavailable(err);
}

function unavailable(err: unknown): ProvError {
  return new ProvError('PP_STORE_UNAVAILABLE', `the PostgreSQL store is unavailable: ${(err as Error).message || (err as { code?: string }).code}`, {
    cause: err,
    hint: 'The request can be retried once the database answers again; polyprov reconnects by itself.',
  });
}

export class PgConnection {
  #pool: pg.Pool | undefined;
  /**
   * Why the store may not be used yet (issue 16: a node started while its database was down has
   * not migrated the schema): every query is refused as PP_STORE_UNAVAILABLE until ready() is called.
   */
  #held: string | undefined;

  hold(why: string): void {
    this.#held = why;
  }

  ready(): void {
    this.#held = undefined;
  }

  get held(): boolean {
    return this.#held !== undefined;
  }

  #gate(): void {
    if (this.#held !== undefined) throw unavailable(new Error(this.#held));
  }

  constructor(private readonly opts: PgConnectionOptions) {}

  open(): pg.Pool {
    if (this.#pool) return this.#pool;
    const cfg: pg.PoolConfig = {
      connectionString: this.opts.connectionString,
      max: this.opts.poolSize ?? 10,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 5_000,
      // A dead peer on a quiet connection is noticed by TCP keepalive, not at the next upload.
      keepAlive: true,
    };
    if (this.opts.schema) cfg.options = `-c search_path=${this.opts.schema}`;
    const pool = new pg.Pool(cfg);
    // An idle connection dropped by the server: pg-pool removes it; the next query reconnects
    // (and reports the fault, if it lasts, as PP_STORE_UNAVAILABLE).
    pool.on('error', () => undefined);
    this.#pool = pool;
    return pool;
  }

  get pool(): pg.Pool {
    if (!this.#pool) throw new ProvError('PP_INTERNAL', 'store used before init() or after close()');
    return this.#pool;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  /** One statement on any pooled connection (pg-pool guards the client while it runs). */
  async query<R extends pg.QueryResultRow>(q: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.#gate();
    try {
      return await this.pool.query<R>(q as pg.QueryConfig, values);
    } catch (err) {
      throw storeFault(err);
    }
  }

  /** A checked-out client for `fn`, guarded against 'error' events, returned (or dropped, if broken) after. */
  async withClient<T>(fn: (c: pg.PoolClient) => Promise<T>, ungated = false): Promise<T> {
    if (!ungated) this.#gate();
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw storeFault(err);
    }
    let broken: Error | undefined;
    // While checked out, pg-pool's own listener is detached: without this one, a server that goes
    // away between two statements of a transaction crashes the process.
    const onError = (err: Error) => {
      broken ??= err;
    };
    c.on('error', onError);
    try {
      return await fn(c);
    } catch (err) {
      if (isUnavailable(err)) broken ??= err as Error;
      // node-postgres emits 'error' on a client only when its connection fails: whatever the
      // statement then reported, the cause is the connection.
      throw broken && !(err instanceof ProvError) ? unavailable(broken) : storeFault(err);
    } finally {
      c.removeListener('error', onError);
      // Released with an error, the client is destroyed instead of going back to the pool.
      c.release(broken ?? false);
    }
  }

  /** `fn` inside BEGIN … COMMIT; any failure rolls back (a lost connection rolls back by itself). */
  tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        const r = await fn(c);
        await c.query('COMMIT');
        return r;
      } catch (err) {
        if (!isUnavailable(err)) await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }
}

/** A LIMIT value: finite, whole, 0..max. */
export function limitOf(n: number | undefined, max: number): number {
  if (n === undefined || !Number.isFinite(n)) return max;
  return Math.max(0, Math.min(Math.floor(n), max));
}
