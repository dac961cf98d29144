// `polyprov serve --workers 2` (issue 16, One machine, every core), as a real child process on
// loopback: two worker processes behind the same HTTP, FTP and TFTP listeners, Digest nonces bound
// to the worker that issued them (which counts their uses, wherever they arrive), one admin
// listener whose /metrics sums both workers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nonceWorker } from '../../src/core/digest-auth.ts';
import { runCli, startServe, type ServeChild } from '../phone/serve-child.ts';
import { curl, digestAuth, req } from '../support/http-client.ts';
import { requirePeer } from '../support/peers.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { childPids, Connection, digestChallenge, series, tcpListeners } from './cluster-child.ts';

const PASSWORD = 'Site-Pass-1';
let serve: ServeChild;
let http: number;
let passive: [number, number];

beforeAll(async () => {
  const data = tempDir();
  const added = await runCli(['accounts', 'add', '--kind', 'site', '--password-stdin', '--data', data, 'site1'], `${PASSWORD}\n`, 60_000);
  expect(added.code, added.stderr).toBe(0);
  // FTP passive ports from one narrow range: both workers bind their data sockets in it (exclusive).
  const config = join(data, '..', `polyprov-${process.pid}.json`);
  const base = 40_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(config, JSON.stringify({ ftpPassivePortMin: base, ftpPassivePortMax: base + 7 }));
  passive = [base, base + 7];
  serve = await startServe(['--config', config, '--root', standardTree(), '--data', data, '--workers', '2', '--log-level', 'info'], ['http', 'ftp', 'tftp', 'admin'], 90_000);
  http = serve.ports.http!;
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

/** Opens fresh connections until one lands on a worker other than `not`; its first 401 and the connection. */
async function connectionToOtherWorker(not: number): Promise<{ c: Connection; first: ReturnType<typeof digestChallenge> }> {
  for (let i = 0; i < 20; i++) {
    const c = new Connection(http);
    const first = digestChallenge(await c.get('/site.cfg'));
    if (nonceWorker(first.nonce) !== not) return { c, first };
    c.close();
  }
  throw new Error('20 new connections all reached the same worker');
}

describe('issue 16 One machine, every core: serve --workers 2', () => {
  test('two worker processes run behind the listeners; the banner says so', () => {
    expect(childPids(serve.child.pid!)).toHaveLength(2);
    expect(serve.output()).toContain('workers: 2 processes behind the same listeners');
  });

  test('HTTP and FTP: each worker accepts on the listening socket itself, no connection is passed on by the primary (SCHED_NONE; issue 16, Speed)', () => {
    // Under node's round-robin only the primary holds the listening socket (NODE_CLUSTER_SCHED_POLICY=rr).
    const workers = childPids(serve.child.pid!);
    expect(workers).toHaveLength(2);
    for (const port of [http, serve.ports.ftp!]) expect(tcpListeners(port, workers).sort()).toEqual([...workers].sort());
  });

  test('HTTP: new connections reach both workers (the nonce names the worker) and each serves the file with Digest on its connection', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const c = new Connection(http);
      try {
        const ch = digestChallenge(await c.get('/site.cfg'));
        const w = nonceWorker(ch.nonce);
        expect(w).toBeTypeOf('number');
        seen.add(w!);
        const ok = await c.get('/site.cfg', { authorization: digestAuth(ch.challenge, 'site1', PASSWORD, 'GET', '/site.cfg') });
        expect(ok.status).toBe(200);
        expect(ok.body.toString()).toContain('tcpIpApp.sntp.address');
        expect(ok.socketsUsed).toBe(1);
      } finally {
        c.close();
      }
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  test('a nonce from worker A used on worker B is counted by A: accepted once, a replay refused on either worker (not stale)', async () => {
    const a = new Connection(http);
    const fromA = digestChallenge(await a.get('/site.cfg'));
    const wA = nonceWorker(fromA.nonce)!;
    const { c: b, first } = await connectionToOtherWorker(wA);
    try {
      expect(nonceWorker(first.nonce)).not.toBe(wA);
      const authA = digestAuth(fromA.challenge, 'site1', PASSWORD, 'GET', '/site.cfg');
      const onB = await b.get('/site.cfg', { authorization: authA });
      expect(onB.status).toBe(200);
      expect(onB.body.toString()).toContain('tcpIpApp.sntp.address');
      // The same (nonce, nc) again: a replay, on the issuer and on the other worker alike.
      for (const c of [a, b, a]) {
        const replay = await c.get('/site.cfg', { authorization: authA });
        expect(replay.status).toBe(401);
        expect(replay.body.toString()).toContain('PP_DIGEST_NONCE_REPLAYED');
        expect(digestChallenge(replay).stale).toBe(false);
      }
      // The next count of A's nonce on B is a new use: accepted.
      const nc2 = digestAuth(fromA.challenge, 'site1', PASSWORD, 'GET', '/site.cfg', 2);
      expect((await b.get('/site.cfg', { authorization: nc2 })).status).toBe(200);
      expect((await a.get('/site.cfg', { authorization: nc2 })).status).toBe(401);
    } finally {
      a.close();
      b.close();
    }
  });

  test('FTP with passive data connections: every session gets its file, whichever worker holds its control connection', async () => {
    // Each worker accepts on the shared socket (SCHED_NONE, primary.ts): which one takes a control
    // connection is the kernel's pick, so sessions go on (at most 16) until both workers had one.
    const loggedIn = () => new Set([...serve.output().matchAll(/"worker":(\d+)[^\n]*"msg":"ftp login"/g)].map((m) => Number(m[1])));
    for (let i = 0; i < 16 && (i < 6 || loggedIn().size < 2); i++) {
      const c = new Client(10_000);
      try {
        await c.access({ host: '127.0.0.1', port: serve.ports.ftp!, user: 'site1', password: PASSWORD });
        // The data port the worker offers is in the configured range.
        const pasv = await c.send('EPSV');
        const port = Number(/\|\|\|(\d+)\|/.exec(pasv.message)![1]);
        expect(port).toBeGreaterThanOrEqual(passive[0]);
        expect(port).toBeLessThanOrEqual(passive[1]);
        const sink = new PassThrough();
        const chunks: Buffer[] = [];
        sink.on('data', (d: Buffer) => chunks.push(d));
        await c.downloadTo(sink, 'sip.ld');
        expect(Buffer.concat(chunks).equals(Buffer.alloc(256 * 1024, 7))).toBe(true);
      } finally {
        c.close();
      }
    }
    // The control connections went to both workers (each logs its logins with its slot).
    expect(loggedIn()).toEqual(new Set([0, 1]));
  });

  test.skipIf(!requirePeer('curl', 'curl'))('TFTP: one worker holds the socket and serves reads', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await curl([`tftp://127.0.0.1:${serve.ports.tftp}/site.cfg`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('tcpIpApp.sntp.address');
    }
  });

  test('/metrics on the one admin listener sums the requests of both workers', async () => {
    const metrics = async () => (await req(`http://127.0.0.1:${serve.ports.admin}/metrics`)).body.toString();
    const name = 'polyprov_requests_total{transport="http",status="401"}';
    // Let earlier tests' counters arrive (workers send theirs when they change, every 250 ms).
    let before = series(await metrics(), name);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const now = series(await metrics(), name);
      if (now === before) break;
      before = now;
    }
    const seen = new Set<number>();
    const n = 10;
    for (let i = 0; i < n; i++) {
      const r = await req(`http://127.0.0.1:${http}/site.cfg`); // a new connection each
      expect(r.status).toBe(401);
      seen.add(nonceWorker(digestChallenge(r).nonce)!);
    }
    expect([...seen].sort()).toEqual([0, 1]);
    let after = 0;
    for (let i = 0; i < 40 && after !== before + n; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = series(await metrics(), name);
    }
    expect(after).toBe(before + n);
  });
});
