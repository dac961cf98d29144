// The changes feed of the PostgreSQL store (issue 16, Several nodes, one PostgreSQL): one
// dedicated connection LISTENs on polyprov_<schema>, where migration 7's triggers announce every
// committed change to accounts, settings, the fleet, tokens and uploads, whoever wrote it. The
// connection is opened with the first watcher (a CLI command that watches nothing opens none), is
// pinged every few seconds, and is reopened by itself after any fault, with a short backoff. Each
// (re)connection tells the watchers "every topic may have changed" (no key): what was written
// while this node was not listening is caught up then, never lost.
import pg from 'pg';
import type { ChangeTopic } from '../store.ts';
import { Watchers, type ChangeListener } from '../change-feed.ts';

const TOPICS: readonly ChangeTopic[] = ['fleet', 'accounts', 'settings', 'uploads', 'tokens'];
/** How often an idle listening connection is proven alive (a silent network loss is noticed by this). */
const PING_MS = 5_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2_000;

export interface PgFeedOptions {
  connectionString: string;
  schema?: string;
  connectTimeoutMs?: number;
}

export class PgFeed {
  readonly #watchers = new Watchers();
  #client: pg.Client | undefined;
  #started = false;
  #closed = false;
  #live = false;
  #backoff = BACKOFF_MIN_MS;
  #retry: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;
  /** Connections made (the first included): a test and the metrics see reconnects. */
  connects = 0;

  constructor(private readonly opts: PgFeedOptions) {}

  /** Whether the listening connection is up now (else watchers rely on their polling). */
  get live(): boolean {
    return this.#live;
  }

  watch(fn: ChangeListener): () => void {
    const off = this.#watchers.add(fn);
    if (!this.#started && !this.#closed) {
      this.#started = true;
      void this.#connect();
    }
    return off;
  }

  /** Tells every watcher that every topic may have changed (the store became usable: catch up). */
  announceAll(): void {
    for (const t of TOPICS) this.#watchers.emit(t);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#live = false;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#ping) clearInterval(this.#ping);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const cfg: pg.ClientConfig = { connectionString: this.opts.connectionString, connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 5_000, keepAlive: true };
    if (this.opts.schema) cfg.options = `-c search_path=${this.opts.schema}`;
    const c = new pg.Client(cfg);
    this.#client = c;
    let failed = false;
    const fail = () => {
      if (failed) return;
      failed = true;
      this.#lost(c);
    };
    // Without these listeners a server going away would end the process.
    c.on('error', fail);
    c.on('end', fail);
    c.on('notification', (n) => {
      const payload = n.payload ?? '';
      const at = payload.indexOf(':');
      const topic = (at < 0 ? payload : payload.slice(0, at)) as ChangeTopic;
      if (TOPICS.includes(topic)) this.#watchers.emit(topic, at < 0 ? undefined : payload.slice(at + 1));
    });
    try {
      await c.connect();
      const ch = (await c.query<{ ch: string }>(`SELECT left('polyprov_' || current_schema(), 63) AS ch`)).rows[0]!.ch;
      await c.query(`LISTEN "${ch.replace(/"/g, '""')}"`);
    } catch {
      fail();
      return;
    }
    if (this.#closed || failed) return;
    this.#live = true;
    this.connects++;
    this.#backoff = BACKOFF_MIN_MS;
    this.#ping = setInterval(() => {
      c.query('SELECT 1').catch(fail);
    }, PING_MS);
    this.#ping.unref();
    // Caught up: whatever changed while nobody listened.
    for (const t of TOPICS) this.#watchers.emit(t);
  }

  #lost(c: pg.Client): void {
    if (this.#client !== c) return;
    this.#live = false;
    if (this.#ping) clearInterval(this.#ping);
    this.#ping = undefined;
    this.#client = undefined;
    c.end().catch(() => undefined);
    if (this.#closed) return;
    this.#retry = setTimeout(() => void this.#connect(), this.#backoff);
    this.#retry.unref();
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
  }
}
