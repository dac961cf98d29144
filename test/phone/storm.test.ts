// The boot-storm harness: a generated tree, `polyprov serve` as a child, N virtual phones.
// Figures (speed) belong in bench/results; this only checks the harness counts honestly.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { generateStormTree, percentiles, phoneSourceAddress, runStorm, stormMarkdown } from '../../src/phone/storm.ts';
import { runCli, startServe } from './serve-child.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('bench boot-storm', () => {
  test('percentiles: nearest-rank p50/p95/p99 over a known set', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(p).toMatchObject({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
    expect(percentiles([])).toMatchObject({ count: 0 });
    expect(new Set(Array.from({ length: 70000 }, (_, i) => phoneSourceAddress(i))).size).toBe(70000);
  });

  test('SEED-AG BootROM step 6: every phone of the storm reads the image header and hangs up (HTTP)', async () => {
    const r = await runStorm({ phones: 12, concurrency: 4, transport: 'http', imageSizeMb: 1, stages: 'full', uploadLogs: true, model: 'VVX410', keepAlive: true, timeoutMs: 10_000 });
    expect(r.failedBoots).toBe(0);
    expect(r.errors).toEqual({});
    expect(r.imageDecisions).toEqual({ unchanged: 12 });
    // two header reads each: <part>.sip.ld (404: the generated tree has only sip.ld), then sip.ld
    expect(r.requestsByKind['image-header']?.count).toBe(24);
    expect(r.statusCounts['200']).toBeGreaterThan(0);
    expect(r.requestsByKind.upload?.count).toBe(24);
    expect(r.boots.count).toBe(12);
    expect(r.serverPeakRssMb).toBeGreaterThan(0);
    expect(r.serverCpuSeconds).toBeGreaterThan(0);
    expect(stormMarkdown(r)).toContain('| per boot | 12 |');
  }, 60_000);

  test('RFC 4217 explicit FTPS: AUTH TLS on the FTP listener (an implicit client would fail there), header read and hang-up', async () => {
    const r = await runStorm({ phones: 4, concurrency: 2, transport: 'ftps', ftpsMode: 'explicit', imageSizeMb: 0.1, stages: 'full', uploadLogs: true, model: 'VVX410', keepAlive: true, timeoutMs: 10_000 });
    expect(r).toMatchObject({ transport: 'ftps', ftpsMode: 'explicit', failedBoots: 0, imageDecisions: { unchanged: 4 } });
    expect(r.errors).toEqual({});
    expect(r.requestsByKind['image-header']?.count).toBe(8);
    expect(stormMarkdown(r)).toContain('over FTPS (explicit)');
  }, 60_000);

  test('HTTP: the raw client and node:http make the same requests per phone, with the same answers', async () => {
    const base = { phones: 6, concurrency: 3, transport: 'http' as const, imageSizeMb: 0.1, stages: 'full' as const, uploadLogs: true, model: 'VVX410', keepAlive: true, timeoutMs: 10_000 };
    const raw = await runStorm({ ...base, httpClient: 'raw' });
    const viaNode = await runStorm({ ...base, httpClient: 'node' });
    expect(raw.httpClient).toBe('raw');
    expect(viaNode.httpClient).toBe('node');
    expect(raw).toMatchObject({ failedBoots: 0, errors: {}, imageDecisions: { unchanged: 6 } });
    expect(raw.statusCounts).toEqual(viaNode.statusCounts);
    expect(Object.fromEntries(Object.entries(raw.requestsByKind).map(([k, p]) => [k, p.count]))).toEqual(Object.fromEntries(Object.entries(viaNode.requestsByKind).map(([k, p]) => [k, p.count])));
  }, 60_000);

  test('CLI: polyprov bench boot-storm over TFTP writes JSON and Markdown reports', async () => {
    const out = await mkdtemp(join(tmpdir(), 'storm-out-'));
    dirs.push(out);
    const r = await runCli(['bench', 'boot-storm', '--phones', '6', '--concurrency', '3', '--transport', 'tftp', '--image-size', '0.1', '--out', out, '--no-progress'], undefined, 60_000);
    expect(r.code, r.stderr).toBe(0);
    const files = (await readdir(out)).sort();
    expect(files.map((f) => f.replace(/-\d.*\./, '.'))).toEqual(['boot-storm-tftp.json', 'boot-storm-tftp.md']);
    const report = JSON.parse(await readFile(join(out, files[0]!), 'utf8')) as { phones: number; failedBoots: number; imageDecisions: Record<string, number> };
    expect(report).toMatchObject({ phones: 6, failedBoots: 0, imageDecisions: { unchanged: 6 } });
  }, 60_000);

  test('--server: a running server is targeted as it is, its CPU and RSS read from --server-pid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storm-server-'));
    dirs.push(dir);
    await generateStormTree(join(dir, 'root'), 5, 0.1);
    const serve = await startServe(['--root', join(dir, 'root'), '--policy', 'open', '--data', join(dir, 'data'), '--log-level', 'error'], ['http']);
    try {
      const r = await runStorm({ phones: 5, concurrency: 5, transport: 'http', server: `http://127.0.0.1:${serve.ports.http}/`, serverPid: serve.child.pid, imageSizeMb: 0, stages: 'application', uploadLogs: false, model: 'VVX410', keepAlive: true, timeoutMs: 10_000 });
      expect(r.serverStartedByBench).toBe(false);
      expect(r).toMatchObject({ failedBoots: 0, imageDecisions: { unchanged: 5 } });
      expect(r.requestsByKind.upload).toBeUndefined();
      expect(r.serverPeakRssMb).toBeGreaterThan(0);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
