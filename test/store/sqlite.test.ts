import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { makeAccount } from '../../src/core/digest.ts';
import { openStore } from '../../src/store/open.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { SPOOL_MEMORY_BYTES } from '../../src/store/upload-temp.ts';
import { storeTests } from './conformance.ts';
import { checkUploadsPerPath, TENANT_UPLOAD_ROWS } from './migration-9.ts';
import { checkSelfCheckingBody, KEY } from './upload-child.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function makeStore() {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-sqlite-'));
  dirs.push(data);
  return { store: await openStore({ data, storeUrl: 'sqlite' }), tmpDir: join(data, 'tmp') };
}

storeTests(makeStore, 'sqlite');

// ---- SQLite-specific checks ------------------------------------------------------------------

const CHILD = fileURLToPath(new URL('./upload-child.ts', import.meta.url));

/** Starts the child, waits until its stdout satisfies `ready`, kills it with SIGKILL, waits for exit. */
async function killChildWhen(mode: string, data: string, ready: (out: string) => boolean, size = 0): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, data, String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, sig) => res(sig ?? code)));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`child never got ready; stdout=${out} stderr=${err}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready(out)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        res();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (!ready(out)) rej(new Error(`child exited early; stdout=${out} stderr=${err}`));
    });
  });
  expect(await exited).toBe('SIGKILL');
  return out;
}

async function seeded(): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-kill-'));
  dirs.push(data);
  const store = await openStore({ data, storeUrl: 'sqlite' });
  const sink = await store.uploads.begin(KEY, { mode: 'replace', address: '192.0.2.1', maxBytes: 1 << 20, keepVersions: 3 });
  await sink.write(Buffer.from('previous version'));
  await sink.commit();
  await store.close();
  return data;
}

describe('sqlite: crash safety (issue 4, Uploads: "a crash, kill -9 … leaves the previous version intact")', () => {
  // Large uploads spill to a temp file (what init() must clean); small ones stay in memory.
  const cases = [
    { mode: 'between-writes', size: 8 * SPOOL_MEMORY_BYTES, temps: 1 },
    { mode: 'before-commit', size: 8 * SPOOL_MEMORY_BYTES, temps: 1 },
    { mode: 'before-commit', size: 4096, temps: 0 },
  ];
  for (const { mode, size, temps } of cases) {
    test(`kill -9 ${mode.replace('-', ' ')} of a ${size}-byte upload leaves the previous version current and no temp file`, async () => {
      const data = await seeded();
      await killChildWhen(mode, data, (out) => out.includes('READY'), size);
      expect(readdirSync(join(data, 'tmp')).length).toBe(temps); // the dead child's temp file, if it spilled
      const store = await openStore({ data, storeUrl: 'sqlite' });
      try {
        const cur = await store.uploads.current(KEY);
        expect(cur!.version).toBe(1);
        expect((await cur!.read()).toString()).toBe('previous version');
        expect((await store.uploads.history(KEY, 10)).length).toBe(1);
        expect(readdirSync(join(data, 'tmp'))).toEqual([]);
      } finally {
        await store.close();
      }
    });
  }

  test('kill -9 at an arbitrary point of a stream of commits leaves one complete version current', async () => {
    const data = await seeded();
    // Kill as soon as a few versions are in: the child is then somewhere inside the next upload or commit.
    const out = await killChildWhen('commit-loop', data, (o) => /COMMITTED 5\n/.test(o));
    const reported = Math.max(...[...out.matchAll(/COMMITTED (\d+)/g)].map((m) => Number(m[1])));
    const store = await openStore({ data, storeUrl: 'sqlite' });
    try {
      const cur = await store.uploads.current(KEY);
      const content = await cur!.read();
      const n = checkSelfCheckingBody(content);
      expect(n).toBeDefined();
      expect(n).toBeGreaterThanOrEqual(reported); // a reported commit is never lost
      expect(cur!.sha256).toBe(createHash('sha256').update(content).digest('hex'));
      expect(cur!.size).toBe(content.length);
      for (const f of await store.uploads.history(KEY, 10)) {
        const b = await f.read();
        expect(checkSelfCheckingBody(b) !== undefined || b.toString() === 'previous version').toBe(true);
      }
      expect(readdirSync(join(data, 'tmp'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  test('a live process’s temp files survive another process opening the same data directory', async () => {
    const data = await seeded();
    const a = await openStore({ data, storeUrl: 'sqlite' });
    try {
      const sink = await a.uploads.begin(KEY, { mode: 'replace', address: '192.0.2.1', maxBytes: 1 << 20, keepVersions: 3 });
      const body = Buffer.alloc(2 * SPOOL_MEMORY_BYTES, 0x71); // large enough to spill to a temp file
      await sink.write(body);
      expect(readdirSync(join(data, 'tmp')).length).toBe(1);
      const b = await openStore({ data, storeUrl: 'sqlite' }); // same pid, same process: must not clean a live upload
      await b.close();
      const f = await sink.commit();
      expect((await f.read()).equals(body)).toBe(true);
    } finally {
      await a.close();
    }
  });
});

describe('sqlite: several processes on one data directory (the server and CLI commands)', () => {
  test('processes opening a fresh store at once all migrate, record and append without losing anything', async () => {
    const data = mkdtempSync(join(tmpdir(), 'polyprov-multi-'));
    dirs.push(data);
    const n = 4;
    const runs = Array.from({ length: n }, (_, i) =>
      new Promise<string>((res, rej) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'open-record', data, String(i + 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => {
          clearTimeout(timer);
          if (code === 0) res(out);
          else rej(new Error(`child ${i + 1} exited ${code}: ${out}`));
        });
      }),
    );
    expect(await Promise.all(runs)).toEqual(Array(n).fill('DONE\n'));
    const store = await openStore({ data, storeUrl: 'sqlite' });
    try {
      const phones = await store.phones.list();
      expect(phones.length).toBe(n);
      expect(phones.every((p) => p.fetchedCount === 20)).toBe(true);
      const log = (await (await store.uploads.current(KEY))!.read()).toString();
      for (let i = 1; i <= n; i++) expect(log).toContain(`line from ${i}\n`);
    } finally {
      await store.close();
    }
    const db = new Database(join(data, 'polyprov.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS c FROM schema_version').get()).toEqual({ c: MIGRATIONS.length });
    } finally {
      db.close();
    }
  });
});

describe('sqlite: database settings', () => {
  test('WAL journal mode is on, the schema version is recorded once, and reopening migrates nothing twice', async () => {
    const { store, tmpDir } = await makeStore();
    await store.close();
    const data = join(tmpDir, '..');
    await (await openStore({ data, storeUrl: 'sqlite' })).close();
    const db = new Database(join(data, 'polyprov.db'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version FROM schema_version ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
      const idx = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
      expect(idx).toContain('audit_by_mac_at');
    } finally {
      db.close();
    }
  });

  test('a store written by an older schema is migrated in place and keeps its rows', async () => {
    const data = mkdtempSync(join(tmpdir(), 'polyprov-migrate-'));
    dirs.push(data);
    const old = new Database(join(data, 'polyprov.db'));
    old.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    old.exec(MIGRATIONS[0]!.sql);
    old.prepare('INSERT INTO schema_version (version) VALUES (1)').run();
    old.prepare("INSERT INTO phones (mac, model, app_version, first_seen, last_seen) VALUES ('0004f2000001', 'SPIP650', '3.1.3.0439', 1000, 2000)").run();
    old.close();
    const store = await openStore({ data, storeUrl: 'sqlite' });
    try {
      expect(await store.phones.get('0004f2000001' as never)).toMatchObject({ model: 'SPIP650', appVersion: '3.1.3.0439', fetchedCount: 0 });
      await store.phones.recordSighting({ mac: '0004f2000001' as never, at: new Date(3000), source: 'http', address: '192.0.2.1', stage: 'application', appVersion: '4.0.4.2906' });
      expect((await store.phones.get('0004f2000001' as never))!.appVersion).toBe('4.0.4.2906');
    } finally {
      await store.close();
    }
    const db = new Database(join(data, 'polyprov.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM schema_version ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    } finally {
      db.close();
    }
  });

  test('issue 14 Model: a version-5 store with accounts gains the fleet (generation 0, empty), accounts.tenant (absent) and tokens and jobs', async () => {
    const data = mkdtempSync(join(tmpdir(), 'polyprov-migrate6-'));
    dirs.push(data);
    const old = new Database(join(data, 'polyprov.db'));
    old.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
    }
    const a = makeAccount('phone', 'p1', 'pw', 'polyprov', '0004f2000001' as never);
    old.prepare(`INSERT INTO accounts (user_name, kind, realm, ha1_md5, ha1_sha256, mac, created_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`)
      .run(a.user, a.kind, a.realm, a.ha1Md5, a.ha1Sha256, a.mac, a.createdAt.getTime());
    old.close();
    const store = await openStore({ data, storeUrl: 'sqlite' });
    try {
      expect(await store.accounts.get('p1')).toEqual(a);
      expect(await store.fleet.load()).toEqual({ generation: 0, tenants: [], sites: [], groups: [], phones: [], settings: [] });
      expect(await store.fleet.apply([{ op: 'putTenant', tenant: { name: 'default', createdAt: new Date(5000) } }])).toBe(1);
      await store.accounts.put({ ...a, tenant: 'acme' });
      expect((await store.accounts.get('p1'))!.tenant).toBe('acme');
      expect(await store.tokens.list()).toEqual([]);
      expect(await store.jobs.list(10)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  test('issue 14 Tenants: migration 9 keeps a version-8 store\'s uploads under the paths they were stored at, each now its own key', async () => {
    const data = mkdtempSync(join(tmpdir(), 'polyprov-migrate9-'));
    dirs.push(data);
    const old = new Database(join(data, 'polyprov.db'));
    old.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 8)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
    }
    const ins = old.prepare(`INSERT INTO upload_versions (mac, kind, path, version, size, sha256, stored_at, address, locked, tree_version, content)
      VALUES ('0004f2000001', 'override-phone', ?, ?, ?, ?, ?, '192.0.2.1', 0, NULL, ?)`);
    for (const [path, version, body] of TENANT_UPLOAD_ROWS) {
      ins.run(path, version, body.length, createHash('sha256').update(body).digest('hex'), 1000 * version, Buffer.from(body));
    }
    old.close();
    const store = await openStore({ data, storeUrl: 'sqlite' });
    try {
      await checkUploadsPerPath(store);
    } finally {
      await store.close();
    }
  });

  test('RFC 7616: no plain password reaches the database file or its WAL', async () => {
    const { store, tmpDir } = await makeStore();
    const password = 'Plain-Password-Canary-7431';
    await store.accounts.put(makeAccount('site', 'admin', password, 'polyprov'));
    await store.close();
    const data = join(tmpDir, '..');
    for (const f of readdirSync(data).filter((n) => n.startsWith('polyprov.db'))) {
      expect(readFileSync(join(data, f)).includes(Buffer.from(password)), f).toBe(false);
    }
  });
});
