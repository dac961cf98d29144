// Issue 13 item 1: a peer test is skipped with one line naming the Debian package when its peer is absent
// (as under ../shared/tools/without-peers), and fails under POLYPROV_REQUIRE_PEERS=1. Runs vitest as a
// child on test/fixtures/peers/curl-peer.fixture.ts with a PATH that holds only node.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { requirePeer } from './peers.ts';

const REPO = join(import.meta.dirname, '../..');
const VITEST = join(REPO, 'node_modules/vitest/vitest.mjs');
const CONFIG = join(REPO, 'test/fixtures/peers/vitest.config.ts');
const bare = mkdtempSync(join(tmpdir(), 'polyprov-bare-path-'));
symlinkSync(process.execPath, join(bare, 'node'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

function runFixture(env: Record<string, string | undefined>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const base = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: undefined, POLYPROV_REQUIRE_PEERS: undefined };
    const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG], { cwd: REPO, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('peer guards (issue 13 item 1: npm test on a machine with only Node.js and npm)', () => {
  test('curl absent: the peer test is skipped with one line naming the Debian package, and the run passes', async () => {
    const r = await runFixture({ PATH: bare });
    expect(r.code).toBe(0);
    expect(r.err.split('\n').filter((l) => l.startsWith('skipped:'))).toEqual(['skipped: curl not installed (apt-get install curl)']);
    expect(r.out).toMatch(/Tests\s+1 skipped/);
    expect(r.err + r.out).not.toMatch(/ENOENT/);
  });

  test('curl absent and POLYPROV_REQUIRE_PEERS=1: the run fails, naming the package', async () => {
    const r = await runFixture({ PATH: bare, POLYPROV_REQUIRE_PEERS: '1' });
    expect(r.code).not.toBe(0);
    expect(r.out + r.err).toContain('curl not installed (apt-get install curl)');
  });

  test.skipIf(!requirePeer('curl'))('curl present and POLYPROV_REQUIRE_PEERS=1: the peer test runs and passes', async () => {
    const r = await runFixture({ POLYPROV_REQUIRE_PEERS: '1' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Tests\s+1 passed/);
  });
});
