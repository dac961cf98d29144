import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { pgTestSchemas } from '../../test/support/pg-schema.ts';
import { openMemoryStore, type MemoryStore } from '../../test/support/memory-store.ts';
import { randomFleetCommands } from '../../test/support/fleet-commands.ts';
import { prng } from '../../test/support/prng.ts';
import type { Mac, Scope } from '../domain.ts';
import { isProvError } from '../errors.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { FleetService } from './fleet-service.ts';
import { parseScope } from './scope.ts';
import { SecretBox } from './secret-box.ts';
import { generateKey } from './secret-key.ts';
import type { FleetCommand } from './types.ts';

const A = '0004f2000001' as Mac;
const B = '0004f2000002' as Mac;
const C = '0004f2000003' as Mac;
const sc = (text: string): Scope => parseScope(text);

const pgs = await pgTestSchemas('pp_refresh');
afterAll(() => pgs.dropAll());

let dir: string;
let key: Buffer;
const closers: Array<() => Promise<void>> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-fleet-refresh-'));
  mkdirSync(join(dir, 'root'));
  key = generateKey();
});
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  rmSync(dir, { recursive: true, force: true });
});

const view = (s: FleetService, macs: readonly Mac[]) => ({
  generation: s.generation,
  tenants: s.tenants().map((t) => t.name),
  sites: s.tenants().map((t) => s.sites(t.name)),
  groups: s.tenants().map((t) => s.groups(t.name)),
  phones: s.phones(),
  effective: s.phones().map((p) => s.effective(p.mac)),
  files: macs.map((m) => s.managedFile(m).etag),
});

async function stores(): Promise<Array<[string, Store]>> {
  const mem: MemoryStore = await openMemoryStore(join(dir, 'mem'));
  closers.push(() => mem.close());
  const sq = await openStore({ storeUrl: 'sqlite', data: join(dir, 'sqlite') });
  closers.push(() => sq.close());
  const out: Array<[string, Store]> = [['memory', mem], ['sqlite', sq]];
  if (!pgs.why) {
    const p = await openStore({ storeUrl: pgs.fresh(), data: join(dir, 'pg') });
    closers.push(() => p.close());
    out.push(['postgres', p]);
  }
  return out;
}

describe('fleet refresh reads only what changed (issue 14 Scale: a change visible to the next request in under 1 s)', () => {
  test('issue 14 Scale: a global change on another node is read as one scope, not the whole fleet; only its phones lose their files', async () => {
    for (const [name, store] of await stores()) {
      const writer = await FleetService.open(store, new SecretBox(key));
      const phones: FleetCommand[] = [];
      for (let i = 0; i < 500; i++) phones.push({ op: 'phone.put', phone: { mac: `0004f21${i.toString(16).padStart(5, '0')}` as Mac, ...(i % 2 ? { site: 'hq' } : {}) } });
      await writer.apply([...phones, { op: 'settings.set', scope: sc('site:hq'), values: { 'tcpIpApp.sntp.address': 'hq.example' } }], { create: true });
      const node = await FleetService.open(store, new SecretBox(key));
      for (const p of node.phones()) node.managedFile(p.mac);
      const cached = node.phones().length;
      const before = { ...node.stats };
      await writer.apply([{ op: 'settings.set', scope: sc('global'), values: { 'tcpIpApp.sntp.address': 'g.example' } }]);
      expect(await node.refresh(), name).toBe(true);
      expect(node.stats.storeReads, name).toBe(before.storeReads); // no whole load
      expect(node.stats.changeReads, name).toBe(before.changeReads + 1);
      // Phones of site hq keep their cached file (their site value shadows global); the others render anew.
      const renders = node.stats.renders;
      for (const p of node.phones()) node.managedFile(p.mac);
      expect(node.stats.renders - renders, name).toBe(cached / 2);
      expect(node.effective('0004f2100000' as Mac).find((e) => e.name === 'tcpIpApp.sntp.address')?.value, name).toBe('g.example');
      expect(node.effective('0004f2100001' as Mac).find((e) => e.name === 'tcpIpApp.sntp.address')?.value, name).toBe('hq.example');
      // A removed site cascades over phones: the node loads the whole fleet.
      await writer.apply([{ op: 'site.remove', tenant: 'default', name: 'hq' }]);
      expect(await node.refresh(), name).toBe(true);
      expect(node.stats.storeReads, name).toBe(before.storeReads + 1);
      expect(node.phone('0004f2100001')?.site, name).toBeUndefined();
    }
  });

  test('issue 14 Scale: 300 seeded random command batches (100 on PostgreSQL) — a second node refreshing after each equals a fresh load of the store', async () => {
    for (const [name, store] of await stores()) {
      const svc = await FleetService.open(store, new SecretBox(key), { root: join(dir, 'root') });
      const node = await FleetService.open(store, new SecretBox(key), { root: join(dir, 'root') });
      const r = prng(1414);
      const macs = [A, B, C, '0004f2000004' as Mac, '0004f2000005' as Mac];
      const command = randomFleetCommands(r, { put: 3, set: 5 });
      let applied = 0;
      const rounds = name === 'postgres' ? 100 : 300;
      for (let i = 0; i < rounds; i++) {
        // Now and then the node lags a few writes behind.
        const batches = r.int(4) === 0 ? 3 : 1;
        for (let b = 0; b < batches; b++) {
          try {
            await svc.apply(Array.from({ length: 1 + r.int(3) }, command), { create: r.int(2) === 1 });
            applied++;
          } catch (e) {
            if (!isProvError(e)) throw e;
          }
        }
        for (const m of macs) node.managedFile(m); // cache files, so stale ones would show
        await node.refresh();
        const fresh = await FleetService.open(store, new SecretBox(key));
        expect(view(node, macs), `${name}: after batch ${i}`).toEqual(view(fresh, macs));
      }
      expect(applied, name).toBeGreaterThan(rounds / 3);
      expect(node.stats.changeReads, name).toBeGreaterThan(rounds / 3);
    }
  }, 300_000);
});
