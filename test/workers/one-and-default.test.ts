// `serve --workers 1` is the single process it always was; `serve` with no --workers runs one
// worker per core, and the per-address rate limit holds across them (issue 16, One machine, every core).
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nonceWorker } from '../../src/core/digest-auth.ts';
import { startServe } from '../phone/serve-child.ts';
import { req } from '../support/http-client.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { childPids, digestChallenge } from './cluster-child.ts';

describe('issue 16 One machine, every core: --workers 1 and the default', () => {
  test('--workers 1: one process (no worker), no workers line, nonces name no worker', async () => {
    const s = await startServe(['--root', standardTree(), '--data', tempDir(), '--workers', '1', '--log-level', 'warn'], ['http', 'admin'], 90_000);
    try {
      expect(childPids(s.child.pid!)).toEqual([]);
      expect(s.output()).not.toContain('workers:');
      const r = await req(`http://127.0.0.1:${s.ports.http}/site.cfg`);
      expect(r.status).toBe(401);
      expect(nonceWorker(digestChallenge(r).nonce)).toBeUndefined();
      expect((await req(`http://127.0.0.1:${s.ports.admin}/metrics`)).body.toString()).toContain('polyprov_requests_total{transport="http",status="401"} 1');
    } finally {
      await s.stop();
    }
  }, 120_000);

  test.skipIf(availableParallelism() < 2)('no --workers: one worker per core; an address gets the configured rate limit from all of them together, not per worker', async () => {
    const dir = tempDir();
    const config = join(dir, 'polyprov.json');
    writeFileSync(config, JSON.stringify({ rateLimitPerSec: 4, rateLimitBurst: 8, policy: 'open', logLevel: 'warn' }));
    // The suite runs serve children as one process (POLYPROV_WORKERS=1 in vitest.config.ts): not this one.
    const { POLYPROV_WORKERS: _single, ...env } = process.env;
    const s = await startServe(['--config', config, '--root', standardTree(), '--data', join(dir, 'data')], ['http'], 90_000, env);
    try {
      expect(childPids(s.child.pid!)).toHaveLength(availableParallelism());
      const started = Date.now();
      let ok = 0;
      let limited = 0;
      for (let i = 0; i < 40; i++) {
        const r = await req(`http://127.0.0.1:${s.ports.http}/site.cfg`); // a new connection each: every worker in turn
        if (r.status === 200) ok++;
        else if (r.status === 429) limited++;
      }
      const seconds = (Date.now() - started) / 1000;
      expect(ok + limited).toBe(40);
      // The burst (8) and what the rate refilled meanwhile, for all workers together; each worker
      // with the whole limit would let through about N × 8.
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThanOrEqual(8 + Math.ceil(4 * seconds) + 1);
    } finally {
      await s.stop();
    }
  }, 120_000);
});
