// Store.watch (issue 16, Several nodes, one PostgreSQL: "changes reach every node"): every backend
// tells its watchers of a committed change to accounts, settings, the fleet, tokens and uploads,
// with the key when there is one, and stops telling once unwatched. PostgreSQL hears them through
// LISTEN/NOTIFY (its own writes included), so the checks wait, with a bound, instead of expecting
// the call to have happened synchronously.
import { describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { makeAccount } from '../../src/core/digest.ts';
import type { ChangeTopic, Store } from '../../src/store/store.ts';

const MAC = '0004f2000077' as Mac;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function watchTests(fresh: () => Promise<{ store: Store }>, name: string): void {
  describe(`${name}: changes feed (issue 16, Several nodes: changes reach every node)`, () => {
    async function watching(store: Store) {
      const seen: string[] = [];
      const off = store.watch((topic: ChangeTopic, key?: string) => seen.push(key === undefined ? topic : `${topic}:${key}`));
      /** Waits (at most 5 s) until `want` was heard; returns how long it took. */
      const heard = async (want: string, bound = 5000) => {
        const t0 = Date.now();
        while (!seen.includes(want) && Date.now() - t0 < bound) await sleep(5);
        expect(seen).toContain(want);
        return Date.now() - t0;
      };
      // PostgreSQL listens from the first watch on: a write is heard once the feed is up.
      for (let i = 0; i < 50 && !seen.includes('settings:warm'); i++) {
        await store.settings.set('warm', String(i));
        await sleep(100);
      }
      await heard('settings:warm');
      // (PostgreSQL's catch-up on connecting, every topic without a key, is behind us.)
      seen.length = 0;
      return { seen, off, heard };
    }

    test('accounts, settings, fleet, tokens and uploads are heard with their key, each within a second', async () => {
      const { store } = await fresh();
      const w = await watching(store);
      await store.accounts.put(makeAccount('phone', 'watch-a', 'pw', 'polyprov', MAC));
      expect(await w.heard('accounts:watch-a')).toBeLessThan(1000);
      await store.settings.set('staging', 'on');
      expect(await w.heard('settings:staging')).toBeLessThan(1000);
      await store.fleet.apply([{ op: 'putTenant', tenant: { name: 'default', createdAt: new Date(0) } }]);
      expect(await w.heard('fleet')).toBeLessThan(1000);
      await store.tokens.put({ name: 'watch-t', role: 'operator', hash: 'a'.repeat(64), createdAt: new Date(0) });
      expect(await w.heard('tokens:watch-t')).toBeLessThan(1000);
      const path = `overrides/${MAC}-phone.cfg`;
      const sink = await store.uploads.begin({ mac: MAC, kind: 'override-phone', path }, { mode: 'replace', address: '192.0.2.1', maxBytes: 1000, keepVersions: 3 });
      await sink.write(Buffer.from('<PHONE_CONFIG/>'));
      await sink.commit();
      expect(await w.heard(`uploads:${path}`)).toBeLessThan(1000);
      expect(await store.accounts.remove('watch-a')).toBe(true);
      w.seen.length = 0;
      await store.accounts.put(makeAccount('phone', 'watch-b', 'pw', 'polyprov', MAC));
      await w.heard('accounts:watch-b');
      w.off();
    });

    test('issue 14 Tenants: an upload and a clear are heard with their own path (tenant prefix), one key each', async () => {
      const { store } = await fresh();
      const w = await watching(store);
      const opts = { mode: 'replace' as const, address: '192.0.2.1', maxBytes: 1000, keepVersions: 3 };
      const acme = { mac: MAC, kind: 'override-phone' as const, path: `acme/overrides/${MAC}-phone.cfg` };
      const beta = { mac: MAC, kind: 'override-phone' as const, path: `beta/overrides/${MAC}-phone.cfg` };
      for (const key of [acme, beta]) {
        const sink = await store.uploads.begin(key, opts);
        await sink.write(Buffer.from('<PHONE_CONFIG/>'));
        await sink.commit();
        await w.heard(`uploads:${key.path}`);
      }
      w.seen.length = 0;
      await store.uploads.clear(acme);
      await w.heard(`uploads:${acme.path}`);
      // Settle, then: the clear of acme's path told nothing about beta's.
      await store.settings.set('after-clear', '1');
      await w.heard('settings:after-clear');
      expect(w.seen.filter((s) => s.startsWith('uploads'))).toEqual([`uploads:${acme.path}`]);
      w.off();
    });

    test('an aborted upload and a removal of nothing tell nobody; unwatched, nothing is heard', async () => {
      const { store } = await fresh();
      const w = await watching(store);
      const sink = await store.uploads.begin({ mac: MAC, kind: 'override-phone', path: 'x.cfg' }, { mode: 'replace', address: '192.0.2.1', maxBytes: 1000, keepVersions: 3 });
      await sink.write(Buffer.from('x'));
      await sink.abort();
      expect(await store.accounts.remove('nobody')).toBe(false);
      await store.settings.set('marker', '1');
      await w.heard('settings:marker');
      expect(w.seen.filter((s) => s.startsWith('uploads') || s.startsWith('accounts'))).toEqual([]);
      w.off();
      await store.settings.set('after', '1');
      await sleep(300);
      expect(w.seen).not.toContain('settings:after');
    });
  });
}
