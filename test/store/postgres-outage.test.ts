// Issue 13 item 13: the server outlives its database. `polyprov serve` runs as a child process on a
// private PostgreSQL cluster this test creates (initdb as user postgres in a temp directory, on a
// free loopback port; never the machine's shared cluster at 5432). Ten PUT loops (each phone
// uploading its override, as a phone does when its user changes a setting) and two GET loops
// run while the cluster is stopped with `pg_ctl stop -m fast` and started again.
// Skipped, with one line naming the package, when initdb or pg_ctl is absent (test/support/peers.ts).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as FtpClient, FTPError } from 'basic-ftp';
import pg from 'pg';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { requirePeer } from '../support/peers.ts';
import { canRunPrivateCluster, privateCluster, type PrivateCluster } from '../support/private-cluster.ts';

const LOOPS = 10;
/** Bounds: each loop stops at this many requests, and every phase has a fixed length. */
const MAX_REQUESTS_PER_LOOP = 3000;
const PAUSE_MS = 2;

/** initdb and pg_ctl (Debian: postgresql), run as user postgres through runuser (so as root). */
const HAVE_CLUSTER = canRunPrivateCluster();
const HAVE_TFTP = HAVE_CLUSTER && requirePeer('tftp');
interface Outcome {
  loop: string;
  method: 'PUT' | 'GET';
  path: string;
  started: number;
  ended: number;
  status?: number;
  retryAfter?: string;
  error?: string;
  /** PUT bodies, to check what became a version. */
  body?: string;
}

function send(port: number, method: 'PUT' | 'GET', path: string, body?: string): Promise<Omit<Outcome, 'loop'>> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, timeout: 10_000, headers: body ? { 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ method, path, started, ended: Date.now(), status: res.statusCode, retryAfter: res.headers['retry-after'] as string | undefined, body }));
      res.on('error', (err) => resolve({ method, path, started, ended: Date.now(), error: (err as NodeJS.ErrnoException).code ?? err.message, body }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err) => resolve({ method, path, started, ended: Date.now(), error: (err as NodeJS.ErrnoException).code ?? err.message, body }));
    req.end(body);
  });
}

/** An FTP upload (basic-ftp) as a phone makes it; resolves to the reply code of the refusal, or 226. */
async function ftpPut(port: number, path: string, body: string): Promise<{ code: number; message: string }> {
  const c = new FtpClient(10_000);
  try {
    await c.access({ host: '127.0.0.1', port, user: 'PlcmSpIp', password: 'PlcmSpIp' });
    const r = await c.uploadFrom(Readable.from([Buffer.from(body)]), path);
    return { code: r.code, message: r.message };
  } catch (err) {
    if (err instanceof FTPError) return { code: err.code, message: err.message };
    throw err;
  } finally {
    c.close();
  }
}

/** A TFTP upload with tftp-hpa's client (RFC 1350 WRQ); resolves to what the client printed. */
function tftpPut(port: number, local: string, remote: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('tftp', ['127.0.0.1', String(port), '-m', 'binary', '-c', 'put', local, remote], { timeout: 20_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}

const macOf = (i: number) => `0004f2ab${i.toString(16).padStart(4, '0')}`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!HAVE_CLUSTER)('issue 13 item 13: a PostgreSQL outage under upload load', () => {
  let dir: string;
  let cluster: PrivateCluster | undefined;
  let serve: ServeChild | undefined;
  let data: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'polyprov-pg-outage-'));
    cluster = await privateCluster();

    // A starter tree (white paper, "Master Configuration File": OVERRIDES_DIRECTORY is where a
    // phone uploads <MAC>-phone.cfg).
    const site = join(dir, 'site');
    mkdirSync(join(site, 'overrides'), { recursive: true });
    writeFileSync(join(site, '000000000000.cfg'), '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" OVERRIDES_DIRECTORY="overrides" LOG_FILE_DIRECTORY="" CONTACTS_DIRECTORY=""/>\n');
    writeFileSync(join(site, 'site.cfg'), '<PHONE_CONFIG><ALL up.backlight.idleIntensity="1"/></PHONE_CONFIG>\n');
    data = join(dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    const options = join(dir, 'polyprov.json');
    writeFileSync(options, JSON.stringify({
      root: site, data, storeUrl: cluster.url, policy: 'open', logLevel: 'warn',
      // Every version kept, so every acknowledged upload can be looked for afterwards.
      uploadKeepVersions: 1000, rateLimitPerSec: 100_000, rateLimitBurst: 100_000,
    }));
    serve = await startServe(['--config', options], HAVE_TFTP ? ['http', 'ftp', 'tftp'] : ['http', 'ftp'], 60_000);
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the node stays up, answers 503 + Retry-After (never 500), recovers within a second, spools its audit, loses nothing', async () => {
    const http = serve!.ports.http!;
    // Stored before the load starts; never touched again.
    const kept = [1, 2, 3].map((i) => ({ mac: `0004f2cd${i.toString(16).padStart(4, '0')}`, body: `<PHONE_CONFIG><OVERRIDES up.note="kept ${i}"/></PHONE_CONFIG>` }));
    for (const k of kept) expect((await send(http, 'PUT', `/overrides/${k.mac}-phone.cfg`, k.body)).status).toBe(201);

    const outcomes: Outcome[] = [];
    let stop = false;
    const loop = async (name: string, next: (n: number) => [method: 'PUT' | 'GET', path: string, body?: string]) => {
      for (let n = 0; n < MAX_REQUESTS_PER_LOOP && !stop; n++) {
        const [method, path, body] = next(n);
        outcomes.push({ loop: name, ...(await send(http, method, path, body)) });
        await sleep(PAUSE_MS);
      }
    };
    const loops = [
      ...Array.from({ length: LOOPS }, (_, i) => loop(`put${i}`, (n) => ['PUT', `/overrides/${macOf(i)}-phone.cfg`, `<PHONE_CONFIG><OVERRIDES up.note="loop ${i} upload ${n}"/></PHONE_CONFIG>`])),
      loop('get-upload', (n) => ['GET', `/overrides/${macOf(n % LOOPS)}-phone.cfg`]),
      loop('get-tree', () => ['GET', '/000000000000.cfg']),
    ];

    await sleep(1500);
    const stopping = Date.now();
    await cluster!.stop();
    const stopped = Date.now();
    // The other wires, once, during the outage: FTP 421 (RFC 959 "service not available"), TFTP an
    // ERROR whose text says to retry.
    const ftpDuring = await ftpPut(serve!.ports.ftp!, `overrides/${macOf(90)}-phone.cfg`, '<PHONE_CONFIG/>');
    let tftpDuring: string | undefined;
    if (HAVE_TFTP) {
      const local = join(dir, 'tftp-upload.cfg');
      writeFileSync(local, '<PHONE_CONFIG/>');
      tftpDuring = await tftpPut(serve!.ports.tftp!, local, `overrides/${macOf(91)}-phone.cfg`);
    }
    await sleep(Math.max(0, stopped + 2000 - Date.now()));
    expect(serve!.child.exitCode).toBe(null);
    expect(serve!.child.signalCode).toBe(null);
    const restarting = Date.now();
    await cluster!.start();
    const up = Date.now();
    await sleep(1500);
    stop = true;
    await Promise.all(loops);
    expect(serve!.child.exitCode).toBe(null);

    expect(ftpDuring.code).toBe(421);
    if (HAVE_TFTP) expect(tftpDuring).toMatch(/PP_STORE_UNAVAILABLE .*retry/);
    // Every answer is a success or "retry later"; none is an internal error.
    // (A GET of a phone's override before that phone's first upload is a plain 404.)
    const firstUpload = outcomes.filter((o) => o.method === 'PUT' && o.status === 201).reduce((t, o) => Math.max(t, o.ended), 0);
    const statuses = new Set(outcomes.filter((o) => o.status && !(o.status === 404 && o.loop === 'get-upload' && o.started <= firstUpload)).map((o) => o.status));
    const why500 = () => serve!.output().split('\n').filter((l) => /internal error|PP_UPLOAD_FAILED|PP_INTERNAL/.test(l)).slice(0, 5).join('\n');
    expect([...statuses].filter((s) => ![200, 201, 204, 503].includes(s!)), why500()).toEqual([]);
    const refused = outcomes.filter((o) => o.status === 503);
    expect(refused.length).toBeGreaterThan(LOOPS);
    expect(refused.every((o) => o.retryAfter === '1')).toBe(true);
    // During the outage: uploads and stored uploads are "retry later", tree files are still served.
    const during = outcomes.filter((o) => o.started >= stopped && o.ended <= restarting);
    expect(during.filter((o) => o.method === 'PUT').every((o) => o.status === 503)).toBe(true);
    expect(during.filter((o) => o.loop === 'get-tree').length).toBeGreaterThan(0);
    expect(during.filter((o) => o.loop === 'get-tree').every((o) => o.status === 200)).toBe(true);
    // No reset but those in flight when the database went.
    const resets = outcomes.filter((o) => o.error);
    expect(resets.filter((o) => !(o.started <= stopped && o.ended >= stopping))).toEqual([]);
    expect(resets.length).toBeLessThanOrEqual(LOOPS + 2);

    // Back within a second of the database accepting connections (pg_ctl -w returned).
    const firstOk = outcomes.filter((o) => o.method === 'PUT' && o.started >= up && (o.status === 201 || o.status === 204)).sort((a, b) => a.ended - b.ended)[0];
    expect(firstOk).toBeDefined();
    const recoveryMs = firstOk!.ended - up;
    process.stderr.write(`[postgres-outage] ${outcomes.length} requests, ${refused.length} answered 503 during a ${restarting - stopped} ms outage; first upload stored ${recoveryMs} ms after the database was back\n`);
    expect(recoveryMs).toBeLessThan(1000);
    const puts = outcomes.filter((o) => o.method === 'PUT');
    expect(puts.filter((o) => o.started >= up + 1000).every((o) => o.status === 201 || o.status === 204)).toBe(true);

    const db = new pg.Client({ connectionString: cluster!.url });
    await db.connect();
    try {
      // The audit of the outage arrives after it: one row per refusal, from the spool.
      const end = Date.now() + 10_000;
      let audited = 0;
      while (Date.now() < end) {
        audited = Number((await db.query(`SELECT count(*) AS n FROM audit WHERE status = 'PP_STORE_UNAVAILABLE' AND transport = 'http'`)).rows[0].n);
        if (audited >= refused.length) break;
        await sleep(100);
      }
      expect(audited).toBe(refused.length);
      const otherWires = await db.query<{ transport: string }>(`SELECT DISTINCT transport FROM audit WHERE status = 'PP_STORE_UNAVAILABLE' AND transport <> 'http'`);
      expect(otherWires.rows.map((r) => r.transport).sort()).toEqual(HAVE_TFTP ? ['ftp', 'tftp'] : ['ftp']);
      const treeReadsDuringOutage = Number((await db.query(`SELECT count(*) AS n FROM audit WHERE path = '000000000000.cfg' AND at > $1 AND at < $2`, [stopped, restarting])).rows[0].n);
      expect(treeReadsDuringOutage).toBeGreaterThan(0);
      // The spool is empty (the running node's own write-ahead journal, audit-journal.ts, is not spool).
      expect(readdirSync(join(data, 'audit-spool')).filter((n) => n.endsWith('.jsonl') && !n.startsWith('journal-'))).toEqual([]);

      // Nothing stored before is lost; every acknowledged upload is a version; no refused or
      // interrupted upload left anything behind (the previous version stayed current).
      const versions = await db.query<{ mac: string; sha256: string }>('SELECT mac, sha256 FROM upload_versions');
      const shas = new Set(versions.rows.map((r) => r.sha256));
      for (const k of kept) {
        expect(versions.rows.filter((r) => r.mac === k.mac).map((r) => r.sha256)).toEqual([sha(k.body)]);
        const got = await send(http, 'GET', `/overrides/${k.mac}-phone.cfg`);
        expect(got.status).toBe(200);
      }
      const acked = puts.filter((o) => o.status === 201 || o.status === 204);
      expect(acked.filter((o) => !shas.has(sha(o.body!)))).toEqual([]);
      expect(puts.filter((o) => o.status === 503).filter((o) => shas.has(sha(o.body!)))).toEqual([]);
      expect(versions.rows.length).toBeLessThanOrEqual(acked.length + kept.length + resets.length);
    } finally {
      await db.end();
    }
  }, 120_000);
});
