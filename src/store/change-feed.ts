// The store's changes feed (issue 16, Several nodes, one PostgreSQL): who wants to know that
// something shared changed — the accounts cache, the staging switch, the fleet snapshot — calls
// Store.watch(). The embedded backends (SQLite, memory) tell their watchers in-process after each
// of their own successful writes (another process writing the same SQLite file is seen by the
// watchers' polling fallback); PostgreSQL tells every node through LISTEN/NOTIFY (postgres/feed.ts).
import type { ChangeTopic, Store, UploadSink } from './store.ts';

export type ChangeListener = (topic: ChangeTopic, key?: string) => void;

/** The watchers of one store and the fan-out to them; a watcher that throws is not the writer's problem. */
export class Watchers {
  readonly #all = new Set<ChangeListener>();

  get size(): number {
    return this.#all.size;
  }

  add(fn: ChangeListener): () => void {
    // A wrapper per call, so the same function watched twice is two watches.
    const w: ChangeListener = (t, k) => fn(t, k);
    this.#all.add(w);
    return () => void this.#all.delete(w);
  }

  emit(topic: ChangeTopic, key?: string): void {
    for (const w of [...this.#all]) {
      try {
        w(topic, key);
      } catch {
        // A watcher's fault stays its own.
      }
    }
  }
}

type Section = Record<string, unknown>;

function after<A extends unknown[], R>(section: Section, name: string, then: (args: A, result: R) => void): void {
  const f = section[name] as ((...a: A) => Promise<R>) | undefined;
  if (typeof f !== 'function') return;
  section[name] = async (...args: A) => {
    const r = await f(...args);
    then(args, r);
    return r;
  };
}

/**
 * Makes an embedded store tell `watchers` of its own writes: accounts put/remove, settings set,
 * fleet apply, tokens put/remove, an upload's commit or clear. The sections' methods are replaced
 * in place (each section is a plain object of functions); returns the store's watch().
 */
export function emitOwnWrites(store: Omit<Store, 'watch'>, watchers: Watchers): Store['watch'] {
  const s = store as unknown as Record<string, Section>;
  after<[{ user: string }], void>(s.accounts!, 'put', ([a]) => watchers.emit('accounts', a.user));
  after<[string], boolean>(s.accounts!, 'remove', ([u], removed) => removed && watchers.emit('accounts', u));
  after<[string, string | undefined], void>(s.settings!, 'set', ([name]) => watchers.emit('settings', name));
  after<[unknown], number>(s.fleet!, 'apply', () => watchers.emit('fleet'));
  after<[{ name: string }], void>(s.tokens!, 'put', ([t]) => watchers.emit('tokens', t.name));
  after<[string], boolean>(s.tokens!, 'remove', ([n], removed) => removed && watchers.emit('tokens', n));
  after<[{ path: string }], void>(s.uploads!, 'clear', ([k]) => watchers.emit('uploads', k.path));
  after<[{ path: string }, unknown], UploadSink>(s.uploads!, 'begin', ([k], sink) => {
    const commit = sink.commit.bind(sink);
    sink.commit = async (meta) => {
      const f = await commit(meta);
      watchers.emit('uploads', k.path);
      return f;
    };
  });
  return (fn) => watchers.add(fn);
}
