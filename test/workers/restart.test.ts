// `serve --workers 2` losing a worker (issue 16, One machine, every core: "A worker that dies is
// restarted and its in-flight uploads leave the previous version intact"). Two uploads in flight,
// one on each worker; one worker is SIGKILLed: its upload leaves the previous version served, the
// other worker's upload completes, the primary forks the dead worker again, which serves, and the
// one /metrics keeps the dead worker's counts.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nonceWorker } from '../../src/core/digest-auth.ts';
import { runCli, startServe, type ServeChild } from '../phone/serve-child.ts';
import { digestAuth, req } from '../support/http-client.ts';
import { MAC1, MAC2, standardTree, tempDir } from '../support/tree.ts';
import { childPids, Connection, digestChallenge, series } from './cluster-child.ts';

const PASSWORD = 'Site-Pass-1';
const override = (v: string, size?: number) => {
  const head = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="${v}"/>`;
  const tail = '</PHONE_CONFIG>\n';
  if (size === undefined) return head + tail;
  const pad = size - head.length - tail.length - '<!--  -->'.length;
  return `${head}<!-- ${'z'.repeat(pad)} -->${tail}`;
};

let serve: ServeChild;
let http: number;

beforeAll(async () => {
  const data = tempDir();
  const added = await runCli(['accounts', 'add', '--kind', 'site', '--password-stdin', '--data', data, 'site1'], `${PASSWORD}\n`, 60_000);
  expect(added.code, added.stderr).toBe(0);
  serve = await startServe(['--root', standardTree(), '--data', data, '--workers', '2', '--log-level', 'warn'], ['http', 'admin'], 90_000);
  http = serve.ports.http!;
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

/** A raw connection: what it has received so far, and whether the server closed it. */
interface Raw {
  sock: Socket;
  received(): string;
  closed(): boolean;
}

function rawConnection(): Promise<Raw> {
  return new Promise((resolve, reject) => {
    let data = '';
    let closed = false;
    const sock = connect(http, '127.0.0.1', () => resolve({ sock, received: () => data, closed: () => closed }));
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('close', () => (closed = true));
    sock.on('error', (e) => (closed ? undefined : reject(e)));
  });
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends an unauthenticated GET on the connection and returns its Digest challenge (naming the worker). */
async function challengeOn(c: Raw): Promise<{ challenge: string; worker: number }> {
  const start = c.received().length;
  c.sock.write('GET /site.cfg HTTP/1.1\r\nHost: x\r\n\r\n');
  // The whole 401: its head, then a chunked body's last chunk or Content-Length bytes.
  const whole = () => {
    const got = c.received().slice(start);
    const h = got.indexOf('\r\n\r\n');
    if (h < 0) return false;
    const len = /content-length: (\d+)/i.exec(got.slice(0, h));
    return len ? got.length - h - 4 >= Number(len[1]) : got.endsWith('\r\n0\r\n\r\n');
  };
  await until('a whole 401', whole);
  const challenges = [...c.received().slice(start).matchAll(/^www-authenticate: (.*)$/gim)].map((m) => m[1]!.trim());
  const d = digestChallenge({ status: 401, headers: {}, body: Buffer.alloc(0), challenges });
  return { challenge: d.challenge, worker: nonceWorker(d.nonce)! };
}

const SIZE = 100_000;

/**
 * A Digest request as a phone makes it: without credentials, then with the challenge's nonce. A
 * 401 to a PUT closes the connection (the body is not read), so the retry reaches the next worker
 * (round-robin): that worker has the issuer count the nonce's use, and the retry succeeds.
 */
async function authed(method: string, uri: string, body?: string) {
  const c = new Connection(http);
  try {
    const first = await c.get(uri, {}, method, body);
    expect(first.status).toBe(401);
    return await c.get(uri, { authorization: digestAuth(digestChallenge(first).challenge, 'site1', PASSWORD, method, uri) }, method, body);
  } finally {
    c.close();
  }
}

describe('issue 16 One machine, every core: a worker that dies', () => {
  test('SIGKILL of a worker mid-upload: its upload leaves the previous version, the other worker\'s completes, the worker is forked again and serves, /metrics keeps its counts', async () => {
    const primary = serve.child.pid!;
    const auth = (ch: string, uri: string, method = 'PUT') => digestAuth(ch, 'site1', PASSWORD, method, uri);
    // The first versions, stored whole.
    for (const mac of [MAC1, MAC2]) {
      const put = await authed('PUT', `/overrides/${mac}-phone.cfg`, override('1'));
      expect([200, 201, 204]).toContain(put.status);
    }
    // One connection on each worker.
    const conns: { c: Raw; worker: number; challenge: string }[] = [];
    for (let i = 0; i < 20 && new Set(conns.map((x) => x.worker)).size < 2; i++) {
      const c = await rawConnection();
      const { challenge, worker } = await challengeOn(c);
      if (conns.some((x) => x.worker === worker)) c.sock.destroy();
      else conns.push({ c, worker, challenge });
    }
    expect(conns.map((x) => x.worker).sort()).toEqual([0, 1]);
    const macOf = (i: number) => (i === 0 ? MAC1 : MAC2);
    const metricsText = async () => (await req(`http://127.0.0.1:${serve.ports.admin}/metrics`)).body.toString();
    const name = 'polyprov_requests_total{transport="http",status="401"}';
    // Every 401 so far, as /metrics sums them (the workers send theirs every 250 ms).
    let before = 0;
    const endSettle = Date.now() + 10_000;
    while (Date.now() < endSettle) {
      const v = series(await metricsText(), name);
      if (v >= 4) {
        before = v;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(before).toBeGreaterThanOrEqual(4);
    // Half of a second version on each, then SIGKILL one worker.
    conns.forEach(({ c, challenge }, i) => {
      const uri = `/overrides/${macOf(i)}-phone.cfg`;
      const body = override('2', SIZE);
      c.sock.write(`PUT ${uri} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth(challenge, uri)}\r\nContent-Length: ${SIZE}\r\n\r\n`);
      c.sock.write(body.slice(0, SIZE / 2));
    });
    await new Promise((r) => setTimeout(r, 300));
    const before2 = childPids(primary);
    expect(before2).toHaveLength(2);
    const victim = before2[0]!;
    process.kill(victim, 'SIGKILL');
    await until('the killed worker\'s connection to close', () => conns.some((x) => x.c.closed()));
    const dead = conns.findIndex((x) => x.c.closed());
    const alive = 1 - dead;
    expect(conns[alive]!.c.closed()).toBe(false);
    // The surviving worker's upload completes.
    const start = conns[alive]!.c.received().length;
    conns[alive]!.c.sock.write(override('2', SIZE).slice(SIZE / 2));
    await until('the completed upload\'s answer', () => /^HTTP\/1\.1 (\d+)/.test(conns[alive]!.c.received().slice(start)));
    expect(conns[alive]!.c.received().slice(start)).toMatch(/^HTTP\/1\.1 20[014]/);
    conns[alive]!.c.sock.destroy();
    // The primary is alive and forks the worker again into its slot.
    expect(() => process.kill(primary, 0)).not.toThrow();
    await until('a new worker', () => {
      const now = childPids(primary);
      return now.length === 2 && !now.includes(victim);
    }, 60_000);
    // Both slots serve again (the restarted one's nonces name its slot).
    const seen = new Set<number>();
    const ready = Date.now() + 60_000; // the new process loads and opens the store before it listens
    while (seen.size < 2 && Date.now() < ready) {
      const r = await req(`http://127.0.0.1:${http}/site.cfg`);
      if (r.status === 401) seen.add(nonceWorker(digestChallenge(r).nonce)!);
      await new Promise((res) => setTimeout(res, 50));
    }
    expect([...seen].sort()).toEqual([0, 1]);
    // A nonce of the killed worker (its counts died with it) is stale on every worker; the phone's
    // retry with the fresh nonce of the stale answer, on the same connection, succeeds.
    for (let i = 0; i < 2; i++) {
      const c = new Connection(http);
      try {
        const old = await c.get('/site.cfg', { authorization: digestAuth(conns[dead]!.challenge, 'site1', PASSWORD, 'GET', '/site.cfg', 7) });
        expect(old.status).toBe(401);
        const stale = digestChallenge(old);
        expect(stale.stale).toBe(true);
        const retry = await c.get('/site.cfg', { authorization: digestAuth(stale.challenge, 'site1', PASSWORD, 'GET', '/site.cfg') });
        expect(retry.status).toBe(200);
      } finally {
        c.close();
      }
    }
    // The killed worker's upload left the previous version; the other one's is the new version.
    const get = (mac: string) => authed('GET', `/overrides/${mac}-phone.cfg`);
    const deadGot = await get(macOf(dead));
    expect(deadGot.status).toBe(200);
    expect(deadGot.body.toString()).toBe(override('1'));
    const aliveGot = await get(macOf(alive));
    expect(aliveGot.body.toString()).toContain('idleIntensity="2"');
    expect(aliveGot.body.length).toBe(SIZE);
    // The dead worker's counts are still in the sum (counters never go back).
    let after = 0;
    const end = Date.now() + 20_000;
    while (Date.now() < end && after < before) {
      try {
        after = series(await metricsText(), name);
      } catch {
        // the admin listener moves to the surviving worker when its holder is killed: down for that moment
      }
      if (after < before) await new Promise((r) => setTimeout(r, 200));
    }
    expect(after).toBeGreaterThanOrEqual(before);
    conns[dead]!.c.sock.destroy();
  }, 180_000);
});
