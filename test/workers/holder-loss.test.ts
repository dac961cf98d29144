// `serve --workers 2` losing worker 0, which holds TFTP and the admin listener (issue 16, One
// machine, every core: "A worker that dies is restarted"; "The admin listener (metrics, API) runs
// once and its metrics cover every worker"). Worker 0 is SIGKILLed and its replacement frozen
// (SIGSTOP) the moment it is forked, so it is certainly not back: the surviving worker answers a
// TFTP read, /metrics (the dead worker's counts kept) and an API call on the same ports. Let go,
// the replacement serves again without taking them back, and /metrics counts its requests too;
// then the survivor is killed in turn and the replacement takes them over.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nonceWorker } from '../../src/core/digest-auth.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { TftpFileClient } from '../../src/phone/tftp-client.ts';
import { runCli, startServe, type ServeChild } from '../phone/serve-child.ts';
import { req } from '../support/http-client.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { childPids, digestChallenge, series, slotOf, udpOwner } from './cluster-child.ts';

let serve: ServeChild;
let token: string;

beforeAll(async () => {
  const data = tempDir();
  const added = await runCli(['tokens', 'add', 'ops', '--role', 'operator', '--data', data], undefined, 60_000);
  expect(added.code, added.stderr).toBe(0);
  token = added.stdout.trim();
  serve = await startServe(['--root', standardTree(), '--data', data, '--workers', '2', '--log-level', 'info'], ['http', 'tftp', 'admin'], 90_000);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` (a throw counts as not yet) until it gives a value; bounded by `ms`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; i < 100_000; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) break;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The process state letter from /proc (T: stopped). */
const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];

describe('issue 16 One machine, every core: losing the worker that holds TFTP and the admin listener', () => {
  test('SIGKILL of worker 0: before it is back a survivor answers TFTP, /metrics (every worker\'s counts) and the API on the same ports; back, it serves without taking them back, and takes them when the survivor is lost in turn', async () => {
    const primary = serve.child.pid!;
    const { http, tftp: tftpPort, admin } = serve.ports as { http: number; tftp: number; admin: number };
    const name = 'polyprov_requests_total{transport="http",status="401"}';
    // Each try bounded (a connection node:cluster handed to the worker at the moment it died is never answered).
    const adminGet = (path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${admin}${path}`, { headers, signal: AbortSignal.timeout(2000) });
    const metrics = async () => {
      const r = await adminGet('/metrics');
      return r.status === 200 ? await r.text() : undefined;
    };
    const api = async () => {
      const r = await adminGet('/api/v1/staging', { authorization: `Bearer ${token}` });
      return r.status === 200 ? ((await r.json()) as { on: boolean }) : undefined;
    };
    const tftpRead = async () => {
      const r = await new TftpFileClient(parseServerAddress(`tftp://127.0.0.1:${tftpPort}/`), { address: '127.0.0.1', timeoutMs: 250, retries: 0 }).get('site.cfg');
      return r.status === 'ok' ? r.body!.toString() : undefined;
    };
    // New connections until both workers have answered: every answer is a 401 (no account), counted by its worker.
    let answered = 0;
    const seen = new Set<number>();
    const reachBoth = (label: string) =>
      eventually(
        label,
        async () => {
          const r = await req(`http://127.0.0.1:${http}/site.cfg`);
          expect(r.status).toBe(401);
          answered++;
          seen.add(nonceWorker(digestChallenge(r).nonce)!);
          return seen.size === 2 ? true : undefined;
        },
        60_000,
      );
    await reachBoth('both workers serving');
    // /metrics sums both workers' 401s; then a moment for worker 0 to have sent its own (every 250 ms).
    const counted = async () => {
      const t = await metrics();
      return t !== undefined && series(t, name) === answered ? true : undefined;
    };
    await eventually('/metrics to count every 401', counted, 20_000);
    await sleep(1000);
    const before = answered;

    // Worker 0 holds the TFTP socket (and the admin listener); the API answers.
    const workers = childPids(primary);
    expect(workers).toHaveLength(2);
    const holder = udpOwner(tftpPort, workers)!;
    expect(holder).toBeDefined();
    expect(slotOf(holder)).toBe(0);
    const survivor = workers.find((p) => p !== holder)!;
    expect(slotOf(survivor)).toBe(1);
    expect(await tftpRead()).toContain('tcpIpApp.sntp.address');
    expect(await api()).toMatchObject({ on: false });

    // SIGKILL it; its replacement is frozen as soon as the primary forks it (it needs far longer
    // than one poll to load and open the store), so every answer below comes from the survivor.
    let replacement: number | undefined;
    const freeze = setInterval(() => {
      if (replacement !== undefined) return;
      for (const p of childPids(primary)) {
        if (p === holder || p === survivor || replacement !== undefined) continue;
        replacement = p;
        process.kill(p, 'SIGSTOP');
      }
    }, 5);
    process.kill(holder, 'SIGKILL');
    try {
      const [read, text, staging] = await Promise.all([
        eventually('a TFTP read after the kill', tftpRead, 30_000),
        eventually('/metrics after the kill', metrics, 30_000),
        eventually('the API after the kill', api, 30_000),
      ]);
      expect(read).toContain('tcpIpApp.sntp.address');
      // Both workers' 401s, the dead one's included (it had answered some): counters never go back.
      expect(series(text, name)).toBe(before);
      expect(staging).toMatchObject({ on: false });
      // Not back: its replacement, if forked yet, is stopped; the survivor holds the TFTP socket.
      if (replacement !== undefined) expect(stateOf(replacement)).toBe('T');
      expect(udpOwner(tftpPort, childPids(primary))).toBe(survivor);
      expect(serve.output()).toContain('worker 1 takes over TFTP and the admin listener (worker 0 is gone)');
    } finally {
      // Let the replacement go (waiting for its fork if it has not happened yet).
      await eventually('the replacement worker', async () => replacement, 30_000).catch(() => undefined);
      clearInterval(freeze);
      if (replacement !== undefined) process.kill(replacement, 'SIGCONT');
    }

    // Back: the replacement serves again in slot 0 (its nonces name it) …
    expect(slotOf(replacement!)).toBe(0);
    seen.clear();
    await reachBoth('both workers serving again');
    // … without taking TFTP back, and the survivor's /metrics counts its requests too.
    expect(udpOwner(tftpPort, childPids(primary))).toBe(survivor);
    expect(await tftpRead()).toContain('tcpIpApp.sntp.address');
    await eventually('/metrics to count every 401 since', counted, 20_000);
    expect(answered).toBeGreaterThan(before);
    expect(await api()).toMatchObject({ on: false });

    // Losing the survivor in turn: the replacement (the standby since it serves) takes them over,
    // and /metrics still counts every 401 of the three worker processes.
    await sleep(1000);
    process.kill(survivor, 'SIGKILL');
    expect(await eventually('a TFTP read after the second kill', tftpRead, 30_000)).toContain('tcpIpApp.sntp.address');
    expect(udpOwner(tftpPort, childPids(primary))).toBe(replacement);
    await eventually('/metrics after the second kill', counted, 30_000);
    expect(await eventually('the API after the second kill', api, 30_000)).toMatchObject({ on: false });
    expect(serve.output()).toContain('worker 0 takes over TFTP and the admin listener (worker 1 is gone)');
  }, 180_000);
});
