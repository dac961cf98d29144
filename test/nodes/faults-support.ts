// Issue 16, Behaviour under faults: what the fault tests share — serve nodes on given loopback
// addresses and one port (the redundant boot servers of one name: SEED-AG, Server Menu, "one DNS
// name → up to 8 IPs", File Transmit Tries and Retry Wait; facts §3.1), a fleet of virtual phones
// booting against that name with the documented retries (src/phone/transfer.ts tries every
// address in turn), each holding a local override edit to upload, and the store read back with pg
// (uploads, audit, inventory) to compare with the phones' own request logs.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';
import { bootPhone, type BootRecord } from '../../src/phone/boot.ts';
import { clientFactory, type ClientFactory } from '../../src/phone/clients.ts';
import type { FetchResult, FileClient } from '../../src/phone/file-client.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { emptyCache, MemoryState } from '../../src/phone/state.ts';
import { phoneSourceAddress, stormMac } from '../../src/phone/storm-tree.ts';
import type { Mac } from '../../src/domain.ts';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { cli, sleep, type Site } from './nodes-support.ts';

/** The three nodes' addresses: one port on each, the name's redundant boot servers. */
export const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

/** A port free on every address of HOSTS. */
export async function commonPort(): Promise<number> {
  const tryListen = (port: number, host: string) =>
    new Promise<number | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, host, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  for (let n = 0; n < 20; n++) {
    const port = await tryListen(0, HOSTS[0]!);
    if (port === undefined) continue;
    const others = await Promise.all(HOSTS.slice(1).map((h) => tryListen(port, h)));
    if (others.every((p) => p === port)) return port;
  }
  throw new Error(`no port free on every one of ${HOSTS.join(', ')}`);
}

export const STORM_PHONES = Math.max(3, Number(process.env.POLYPROV_TEST_STORM_PHONES ?? 300));
/** A storm test's bound: 3 min for the suite's 300 phones, longer for a run by hand with more. */
export const TEST_MS = Math.max(180_000, STORM_PHONES * 250);

/** `polyprov serve --workers 1 --http HOST:PORT` for node i of the site; waits for its listener. */
export async function startNodeAt(site: Site, i: number, host: string, port: number): Promise<ServeChild> {
  const c = await startServe(['--config', site.config(i), '--workers', '1', '--http', `${host}:${port}`], [], 60_000);
  const end = Date.now() + 60_000;
  while (!/http\s+listening on /m.test(c.output())) {
    if (c.child.exitCode !== null) throw new Error(`node ${i} exited ${c.child.exitCode}:\n${c.output()}`);
    if (Date.now() > end) {
      await c.stop();
      throw new Error(`node ${i} did not listen within 60 s:\n${c.output()}`);
    }
    await sleep(50);
  }
  return c;
}

/**
 * The faults tests' set-up: the site account (site / site-pass), then node i on HOSTS[i] for each
 * address, one common port; each node is pushed onto `nodes` as it starts (so afterAll stops those
 * that did). Returns the port.
 */
export async function startStormNodes(site: Site, nodes: ServeChild[]): Promise<number> {
  await cli(site, 0, ['accounts', 'add', 'site', '--kind', 'site', '--password-stdin'], 'site-pass\n');
  const port = await commonPort();
  for (let i = 0; i < HOSTS.length; i++) nodes.push(await startNodeAt(site, i, HOSTS[i]!, port));
  return port;
}

/** A phone's override body: its MAC, a serial and 6 KB of filler, so a half-written version shows. */
export function overrideBody(mac: string, serial: number): Buffer {
  return Buffer.from(`<PHONE_CONFIG><OVERRIDES up.note="${mac}-${serial}" up.filler="${'x'.repeat(6000)}"/></PHONE_CONFIG>\n`);
}

export interface Phone {
  i: number;
  mac: Mac;
  state: MemoryState;
  body: Buffer;
  records: BootRecord[];
  /** When each of the phone's requests ended (Date.now()), at which server address, what it was (`GET path`, `PUT path`), and whether a server answered it. */
  timeline: Array<{ address: string; at: number; key: string; answered: boolean }>;
}

export function makePhones(n: number, serial = 1): Phone[] {
  return Array.from({ length: n }, (_, i) => {
    const mac = stormMac(i);
    const cache = emptyCache();
    const body = overrideBody(mac, serial);
    cache.overrides.phone = body;
    cache.pending.phone = true;
    return { i, mac, state: new MemoryState(cache), body, records: [], timeline: [] };
  });
}

/** A new local override edit on a phone (keypad change: white paper, OVERRIDES_DIRECTORY), pending upload. */
export async function editOverride(p: Phone, serial: number): Promise<void> {
  const d = await p.state.load();
  p.body = overrideBody(p.mac, serial);
  d.overrides.phone = p.body;
  d.pending.phone = true;
  await p.state.save(d);
}

/**
 * Boots the phones, `concurrency` at a time, against http://site:PASS@NAME:PORT/ where NAME has
 * every address of `hosts` (rotated per phone, as round-robin DNS hands them out). The documents'
 * defaults: File Transmit Tries 3, Retry Wait 1 s. `onBooted(done)` after each boot.
 */
export async function bootPhones(phones: Phone[], o: { hosts: string[]; port: number; auth: string; concurrency: number; timeoutMs?: number; onBooted?: (done: number) => void }): Promise<void> {
  const server = parseServerAddress(`http://${o.auth}@pp-nodes.test:${o.port}/`, { serverType: 'http' });
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const k = next++;
      if (k >= phones.length) return;
      const p = phones[k]!;
      const order = orderFor(p.i, o.hosts);
      const rec = await bootPhone({
        server,
        profile: { mac: p.mac, model: 'VVX400', bootromVersion: '5.0.0.0001', appVersion: '4.0.0.0000' },
        state: p.state,
        kind: 'restart',
        settings: { tries: 3, retryWaitSec: 1, computeEffective: false, uploadLogs: false },
        env: { makeClient: timed(clientFactory({ timeoutMs: o.timeoutMs ?? 5000, rawHttp: true, localAddress: phoneSourceAddress(p.i) }), p), lookup: async () => order },
      });
      p.records.push(rec);
      o.onBooted?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, phones.length) }, worker));
}

/** A server answered: any HTTP status (the raw client's errors are "HTTP 503"), not a refused, reset or timed-out connection. */
export function wasAnswered(r: FetchResult): boolean {
  return r.status !== 'error' || /^HTTP \d/.test(r.error ?? '');
}

/** The factory's clients, with the end of every request put on the phone's timeline. */
function timed(make: ClientFactory, p: Phone): ClientFactory {
  return (server, address) => {
    const c = make(server, address);
    const note = async (key: string, r: Promise<FetchResult>) => {
      const x = await r;
      p.timeline.push({ address, at: Date.now(), key, answered: wasAnswered(x) });
      return x;
    };
    const key = (method: string, path: string) => `${method} ${path.replace(/^\/+/, '')}`;
    return {
      protocol: c.protocol,
      address: c.address,
      get: (path, opts) => note(key('GET', path), c.get(path, opts)),
      headThenHangUp: (path, bytes, opts) => note(key('GET', path), c.headThenHangUp(path, bytes, opts)),
      put: (path, body, opts) => note(key('PUT', path), c.put(path, body, opts)),
      close: () => c.close(),
    } satisfies FileClient;
  };
}

/** The addresses phone i is given, in its order (round-robin DNS rotated per phone). */
export const orderFor = (i: number, hosts: string[] = HOSTS) => hosts.map((_, j) => hosts[(i + j) % hosts.length]!);

/**
 * Where a boot's transfers did not retry as the documents say: each transfer (a run of requests
 * for one file) goes to the name's addresses in order, a try being one pass over all of them,
 * tries 1..3; only the last request of a transfer may have an answer other than an error.
 */
export function retryProblems(rec: BootRecord, order: string[]): string[] {
  const problems: string[] = [];
  const rs = rec.requests;
  for (let a = 0; a < rs.length; ) {
    let b = a + 1;
    while (b < rs.length && rs[b]!.method === rs[a]!.method && rs[b]!.url === rs[a]!.url && rs[b - 1]!.status === 'error' && !(rs[b]!.attempt === 1 && rs[b]!.address === order[0])) b++;
    for (let k = a; k < b; k++) {
      const r = rs[k]!;
      const want = `${Math.floor((k - a) / order.length) + 1}@${order[(k - a) % order.length]}`;
      if (`${r.attempt}@${r.address}` !== want) problems.push(`${rec.mac} ${r.method} ${r.url}: request ${k - a + 1} went ${r.attempt}@${r.address}, expected ${want}`);
    }
    if (b - a > order.length * 3) problems.push(`${rec.mac} ${rs[a]!.url}: ${b - a} requests, more than File Transmit Tries 3 × ${order.length} addresses`);
    a = b;
  }
  return problems;
}

/** A boot that reached its server, read its configuration there and uploaded its edit. */
export function bootComplete(r: BootRecord): boolean {
  return r.contacted && r.configFrom === 'server' && r.uploads.length > 0 && r.uploads.every((u) => u.status === 'ok');
}

export async function withPg<T>(storeUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(storeUrl);
  const schema = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    if (schema) await c.query(`SET search_path TO ${schema}`);
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface StoredOverride {
  mac: string;
  version: number;
  size: number;
  sha256: string;
  content: Buffer;
  versions: number;
}

/** Every phone's current override-phone version (the highest), with its version count. */
export async function currentOverrides(storeUrl: string): Promise<Map<string, StoredOverride>> {
  return withPg(storeUrl, async (c) => {
    const r = await c.query(
      `SELECT u.mac, u.version, u.size, u.sha256, u.content, n.versions FROM upload_versions u
       JOIN (SELECT mac, max(version) AS v, count(*)::int AS versions FROM upload_versions WHERE kind = 'override-phone' GROUP BY mac) n
         ON n.mac = u.mac AND n.v = u.version WHERE u.kind = 'override-phone'`,
    );
    return new Map(r.rows.map((x: StoredOverride) => [x.mac, x]));
  });
}

/** True when a stored version is whole: its bytes are the size and digest it was stored with. */
export function wholeVersion(v: StoredOverride): boolean {
  return v.content.length === v.size && createHash('sha256').update(v.content).digest('hex') === v.sha256;
}

/** The audit journals (src/core/audit-journal.ts) in a node's spool directory, by name. */
export function journalsIn(spoolDir: string): string[] {
  return existsSync(spoolDir) ? readdirSync(spoolDir).filter((n) => n.startsWith('journal-')).sort() : [];
}
