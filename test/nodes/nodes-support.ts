// Issue 16 (Several nodes, one PostgreSQL): what the multi-node tests share — the machine's
// PostgreSQL (POLYPROV_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test, a fresh schema
// per site, dropped afterwards, as test/store/postgres.test.ts isolates), a small provisioning tree,
// one options file per node (own data directory, the same storeUrl and the same secret key), the
// CLI against a node's options, and plain HTTP requests with Basic credentials.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli, startServe, type ServeChild } from '../phone/serve-child.ts';
import { pgUnreachable, TEST_PG_URL as PG_URL } from '../support/peers.ts';

// The machine's PostgreSQL and the check that it answers: test/support/peers.ts's, under this file's names.
export { pgUnreachable, PG_URL };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Site {
  dir: string;
  root: string;
  /** The storeUrl every node shares. */
  storeUrl: string;
  schema?: string;
  /** Options file of node i (own data directory), written on first use. */
  config(i: number, extra?: Record<string, unknown>): string;
  cleanup(): Promise<void>;
}

/** A tree, a secret key and (without `storeUrl`) a fresh schema on the machine's PostgreSQL. */
export function makeSite(o: { storeUrl?: string; options?: Record<string, unknown> } = {}): Site {
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-nodes-'));
  const root = join(dir, 'site');
  mkdirSync(join(root, 'overrides'), { recursive: true });
  writeFileSync(join(root, '000000000000.cfg'), '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" OVERRIDES_DIRECTORY="overrides" LOG_FILE_DIRECTORY="" CONTACTS_DIRECTORY=""/>\n');
  writeFileSync(join(root, 'site.cfg'), '<PHONE_CONFIG><ALL up.backlight.idleIntensity="1"/></PHONE_CONFIG>\n');
  writeFileSync(join(root, 'sip.ld'), Buffer.alloc(4096, 7));
  const keyFile = join(dir, 'secret.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  let schema: string | undefined;
  let storeUrl = o.storeUrl;
  if (!storeUrl) {
    schema = `pp_nodes_${process.pid}_${randomBytes(3).toString('hex')}`;
    const u = new URL(PG_URL);
    u.searchParams.set('schema', schema);
    storeUrl = u.toString();
  }
  return {
    dir,
    root,
    storeUrl,
    ...(schema ? { schema } : {}),
    config(i, extra = {}) {
      const data = join(dir, `data${i}`);
      mkdirSync(data, { recursive: true, mode: 0o700 });
      const file = join(dir, `node${i}.json`);
      writeFileSync(file, JSON.stringify({ root, data, storeUrl, secretKeyFile: keyFile, policy: 'accounts', logLevel: 'warn', rateLimitPerSec: 100_000, rateLimitBurst: 100_000, ...o.options, ...extra }));
      return file;
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
      if (!schema) return;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => c.end());
    },
  };
}

export async function startNode(site: Site, i: number, listeners = ['http']): Promise<ServeChild> {
  return startServe(['--config', site.config(i)], listeners, 60_000);
}

/** `polyprov ARGS --config <node i's options>`; throws with the output unless it exits 0. */
export async function cli(site: Site, i: number, args: string[], input?: string): Promise<string> {
  const r = await runCli([...args, '--config', site.config(i)], input, 60_000);
  if (r.code !== 0) throw new Error(`polyprov ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export function http(port: number, method: string, path: string, o: { auth?: string; body?: string; host?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (o.auth) headers.authorization = o.auth;
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const req = request({ host: o.host ?? '127.0.0.1', port, method, path, agent: false, timeout: 10_000, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Polls `check` every 20 ms until it holds or `boundMs` passes; returns the time it took (or Infinity). */
export async function within(boundMs: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (let n = 0; n < 10_000; n++) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > boundMs) return Infinity;
    await sleep(20);
  }
  return Infinity;
}
