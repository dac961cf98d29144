// The pieces of `serve --workers N` on their own (issue 16, One machine, every core): the worker
// role from the environment, nonces naming their worker and counted by their issuer, each worker's
// share of the rate limit, the TFTP thread budget, and the sum of the workers' metrics.
import { describe, expect, test } from 'vitest';
import { Admission, rateShare } from '../../src/core/admit.ts';
import { challengeOf } from '../../src/core/authenticate.ts';
import { newContext } from '../../src/core/context.ts';
import { DigestClient, makeAccount, parseAuthorization } from '../../src/core/digest.ts';
import { DigestAuthority, newEpoch, nonceWorker, type NonceSiblings } from '../../src/core/digest-auth.ts';
import { mergeSnapshots, Metrics, renderSnapshot } from '../../src/core/metrics.ts';
import { loadServerOptions } from '../../src/options.ts';
import { tftpThreads } from '../../src/transports/tftp/worker-pool.ts';
import { workerRole } from '../../src/util/worker-role.ts';

const secret = Buffer.alloc(32, 7);
const account = makeAccount('site', 'site', 'pw', 'polyprov');

function answer(auth: DigestAuthority, nc = 1) {
  const c = challengeOf(auth, false);
  const ch = { realm: c.realm, nonce: c.nonce, opaque: c.opaque, algorithm: c.algorithms[0]!, qop: [c.qop], stale: c.stale };
  const client = new DigestClient();
  let h = '';
  for (let i = 0; i < nc; i++) h = client.authorize(ch, { user: 'site', password: 'pw' }, 'GET', '/site.cfg')!;
  return parseAuthorization(h)!.params;
}

/** Two workers' authorities wired as the primary wires them: a sibling's nonce is counted by its issuer. */
function twoWorkers() {
  const w = [0, 1].map((slot) => new DigestAuthority('polyprov', secret, 60_000, Date.now, newEpoch({ slot, count: 2 })));
  const asked: number[] = [];
  for (const a of w) {
    a.siblings = {
      consume: async (slot, nonce, nc) => {
        asked.push(slot);
        return w[slot]!.consume(nonce, nc);
      },
    } satisfies NonceSiblings;
  }
  return { w: w as [DigestAuthority, DigestAuthority], asked };
}

describe('issue 16 One machine, every core: the worker role', () => {
  test('read from the variables the primary sets; absent or out of range, one process', () => {
    expect(workerRole({ POLYPROV_WORKER_SLOT: '1', POLYPROV_WORKER_COUNT: '4' })).toEqual({ slot: 1, count: 4 });
    expect(workerRole({})).toBeUndefined();
    expect(workerRole({ POLYPROV_WORKER_SLOT: '4', POLYPROV_WORKER_COUNT: '4' })).toBeUndefined();
    expect(workerRole({ POLYPROV_WORKER_SLOT: 'x', POLYPROV_WORKER_COUNT: '2' })).toBeUndefined();
  });

  test('option workers: 0 (one per core) by default, 1 a single process, refused outside 0–256', () => {
    expect(loadServerOptions({}, {}).workers).toBe(0);
    expect(loadServerOptions({ workers: '1' }, {}).workers).toBe(1);
    expect(() => loadServerOptions({ workers: '-1' }, {})).toThrow(/PP_OPT_INVALID|outside/);
  });
});

describe('issue 16 One machine, every core: Digest nonces bound to the worker that issued them', () => {
  test('a worker\'s nonce names its slot; a single process\'s names none', () => {
    const { w } = twoWorkers();
    expect(nonceWorker(w[1].nonce())).toBe(1);
    expect(nonceWorker(new DigestAuthority('polyprov', secret, 60_000).nonce())).toBeUndefined();
  });

  test('a nonce of worker 0 used on worker 1 is counted by worker 0: once, then a replay on either', async () => {
    const { w, asked } = twoWorkers();
    const f = answer(w[0]);
    expect(await w[1].verify(f, 'GET', '/site.cfg', account)).toEqual({ ok: true, user: 'site' });
    expect(asked).toEqual([0]);
    expect(await w[1].verify(f, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'replayed' });
    expect(await w[0].verify(f, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'replayed' });
    // A fresh nonce of the issuer, used there: counted there as before.
    expect(await w[0].verify(answer(w[0], 1), 'GET', '/site.cfg', account)).toEqual({ ok: true, user: 'site' });
  });

  test('the issuer gone (a restarted worker: another epoch in its slot) or silent: stale, never accepted', async () => {
    const { w } = twoWorkers();
    const f = answer(w[0]);
    const restarted = new DigestAuthority('polyprov', secret, 60_000, Date.now, newEpoch({ slot: 0, count: 2 }));
    w[1].siblings = { consume: async (_slot, nonce, nc) => restarted.consume(nonce, nc) };
    expect(await w[1].verify(f, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'stale' });
    w[1].siblings = { consume: () => Promise.reject(new Error('no answer')) };
    expect(await w[1].verify(f, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'stale' });
  });

  test('a wrong response is refused before any sibling is asked (a forger cannot burn a phone\'s count)', async () => {
    const { w, asked } = twoWorkers();
    const f = { ...answer(w[0]), response: '0'.repeat(32) };
    expect(await w[1].verify(f, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'bad-response' });
    expect(asked).toEqual([]);
  });
});

describe('issue 16 One machine, every core: rate limit and thread budget', () => {
  test('each of N workers gets 1/N of the rate and of the burst, so all together never exceed the limit', () => {
    expect(rateShare({ rateLimitPerSec: 200, rateLimitBurst: 400 }, undefined)).toEqual({ perSec: 200, burst: 400 });
    expect(rateShare({ rateLimitPerSec: 200, rateLimitBurst: 400 }, { slot: 0, count: 4 })).toEqual({ perSec: 50, burst: 100 });
    expect(rateShare({ rateLimitPerSec: 1, rateLimitBurst: 1 }, { slot: 0, count: 8 }).burst).toBe(1);
    const o = loadServerOptions({ rateLimitPerSec: '10', rateLimitBurst: '10' }, {});
    const admitted = (role?: { slot: number; count: number }) => {
      const a = new Admission(o, role);
      let n = 0;
      for (let i = 0; i < 30; i++) if (!a.admit(newContext({ transport: 'http', op: 'read', path: '/site.cfg', remote: { address: '10.0.0.9', port: 1 } } as never, '10.0.0.9', undefined as never))) n++;
      return n;
    };
    expect(admitted()).toBe(10);
    expect(admitted({ slot: 1, count: 2 })).toBe(5);
  });

  test('TFTP read threads: as configured; one process alone one per core (2+ cores); N processes the cores left', () => {
    expect(tftpThreads(3, 8, 8)).toBe(3);
    expect(tftpThreads(-1, 2, 1)).toBe(2);
    expect(tftpThreads(-1, 1, 1)).toBe(0);
    expect(tftpThreads(-1, 2, 2)).toBe(0);
    expect(tftpThreads(-1, 8, 6)).toBe(2);
  });
});

describe('issue 16 One machine, every core: /metrics sums the workers', () => {
  test('counters and the active gauge add up, the fleet generation is the highest', () => {
    const a = new Metrics();
    const b = new Metrics();
    a.request('http', '200', 10);
    b.request('http', '200', 5);
    b.request('ftp', 'ftp:226', 7);
    b.refusal('http', 'PP_RATE_LIMITED');
    a.active = 1;
    b.active = 2;
    a.fleet = { stats: { renders: 1, storeReads: 2, generation: 5 } };
    b.fleet = { stats: { renders: 3, storeReads: 0, generation: 7 } };
    const text = renderSnapshot(mergeSnapshots([a.snapshot(), undefined, b.snapshot()]));
    expect(text).toContain('polyprov_requests_total{transport="http",status="200"} 2');
    expect(text).toContain('polyprov_requests_total{transport="ftp",status="ftp:226"} 1');
    expect(text).toContain('polyprov_bytes_sent_total{transport="http"} 15');
    expect(text).toContain('polyprov_refusals_total{transport="http",code="PP_RATE_LIMITED"} 1');
    expect(text).toContain('polyprov_active_transfers 3');
    expect(text).toContain('polyprov_fleet_renders_total 4');
    expect(text).toContain('polyprov_fleet_generation 7');
    // One process alone renders exactly what it always did.
    expect(a.render()).toBe(renderSnapshot(a.snapshot()));
  });
});
