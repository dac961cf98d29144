// Transfers of the same file at once share one copy of it (src/transports/tftp/shared-content.ts):
// a boot storm reads the image once. Real atftp clients on 127.0.0.1 against the real core; the
// test counts how often the core's content stream is opened. Only files the core streams (over
// its 256 KiB memory-cache limit, tree-source.ts) are shared, so every file here is larger.
// Issue 5: every copy byte-identical.
import { createHash } from 'node:crypto';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import type { BootRequest, BootResult } from '../../src/core/request.ts';
import { run, startFixture, waitFor, type Fixture } from './helpers.ts';
import { requirePeer } from '../support/peers.ts';
import { seededBytes } from '../support/prng.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const atftpGet = (f: Fixture, name: string, local: string, options = ['blksize 1468']) =>
  run('atftp', [...options.flatMap((o) => ['--option', o]), '-g', '-r', name, '-l', local, '127.0.0.1', String(f.port)], f.out, 30_000);

/**
 * Counts open() calls on the real core's file results. With `fail`, the streams break halfway:
 * a fault injected around the real core (the only fake left here), as a disk that goes away would.
 */
function countOpens(f: Fixture, fail = false): { opens: number } {
  const counter = { opens: 0 };
  const handle = f.service.handle.bind(f.service);
  f.service.handle = async (req: BootRequest): Promise<BootResult> => {
    const r = await handle(req);
    if (r.kind !== 'file') return r;
    const open = r.open.bind(r);
    r.open = (range) => {
      counter.opens++;
      if (!fail) return open(range);
      const half = Math.floor(r.size / 2);
      let sent = false;
      return new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(Buffer.alloc(half));
            return;
          }
          this.destroy(new Error('disk gone'));
        },
      });
    };
    return r;
  };
  return counter;
}

describe.skipIf(!requirePeer('atftp', 'atftp')).each([0, 2])('shared content (%i read workers)', (workers) => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  test('issue 5: 20 clients at once get the same 1 MB file byte-identical, and the file is opened once', async () => {
    f = await startFixture({}, undefined, workers, { sharedContent: { graceMs: 1000 } });
    const data = seededBytes(1024 * 1024, 5);
    await writeFile(join(f.dir, 'storm.ld'), data);
    const counter = countOpens(f);
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => atftpGet(f!, 'storm.ld', `c${i}.bin`)));
    expect(runs.every((r) => r.code === 0)).toBe(true);
    for (let i = 0; i < 20; i++) expect(sha(await readFile(join(f.out, `c${i}.bin`)))).toBe(sha(data));
    expect(counter.opens).toBe(1);
    // The worker runs were really on workers: none died and fell back to the main thread.
    expect(f.server.workersAlive()).toBe(workers);
    // Every transfer is still reported to the core on its own.
    expect(f.service.finished.filter((x) => x.path === 'storm.ld' && x.outcome.status === 'tftp:ok')).toHaveLength(20);
    // Dropped once the grace period after the last reader is over.
    expect(f.server.sharedBytes()).toBeGreaterThan(0);
    expect(await waitFor(() => f!.server.sharedBytes() === 0, 3000)).toBe(true);
    // A later wave loads it again (workers drop their mirror of the old copy and get the new one).
    const again = await Promise.all(Array.from({ length: 3 }, (_, i) => atftpGet(f!, 'storm.ld', `d${i}.bin`)));
    expect(again.every((r) => r.code === 0)).toBe(true);
    for (let i = 0; i < 3; i++) expect(sha(await readFile(join(f.out, `d${i}.bin`)))).toBe(sha(data));
    expect(counter.opens).toBe(2);
  }, 60_000);

  test('a file over the sharing limit is streamed per transfer, byte-identical', async () => {
    f = await startFixture({}, undefined, workers, { sharedContent: { maxFileBytes: 100_000 } });
    const data = seededBytes(300_000, 6);
    await writeFile(join(f.dir, 'big.ld'), data);
    const counter = countOpens(f);
    const runs = await Promise.all(Array.from({ length: 4 }, (_, i) => atftpGet(f!, 'big.ld', `b${i}.bin`)));
    expect(runs.every((r) => r.code === 0)).toBe(true);
    for (let i = 0; i < 4; i++) expect(sha(await readFile(join(f.out, `b${i}.bin`)))).toBe(sha(data));
    expect(counter.opens).toBe(4);
    expect(f.server.sharedBytes()).toBe(0);
  }, 60_000);

  test('RFC 9110 §8.8.3: a changed file (new ETag) is not served from the copy of the old one', async () => {
    f = await startFixture({}, undefined, workers, { sharedContent: { graceMs: 10_000 } });
    const path = join(f.dir, 'cfg.ld');
    const v1 = seededBytes(300_000, 7);
    const v2 = seededBytes(300_000, 8); // same size: only the ETag's mtime part tells them apart
    await writeFile(path, v1);
    await utimes(path, new Date(1_000_000), new Date(1_000_000));
    expect((await atftpGet(f, 'cfg.ld', 'v1.bin')).code).toBe(0);
    await writeFile(path, v2);
    await utimes(path, new Date(2_000_000), new Date(2_000_000));
    expect((await atftpGet(f, 'cfg.ld', 'v2.bin')).code).toBe(0);
    expect(sha(await readFile(join(f.out, 'v1.bin')))).toBe(sha(v1));
    expect(sha(await readFile(join(f.out, 'v2.bin')))).toBe(sha(v2));
  }, 60_000);

  test('a stream that fails halfway fails every transfer sharing it with an ERROR, and the next request reads again', async () => {
    f = await startFixture({ tftpTimeoutMs: 200, tftpRetries: 2 }, undefined, workers, { sharedContent: { graceMs: 10_000 } });
    await writeFile(join(f.dir, 'bad.ld'), seededBytes(400_000, 9));
    const counter = countOpens(f, true);
    const runs = await Promise.all(Array.from({ length: 3 }, (_, i) => atftpGet(f!, 'bad.ld', `x${i}.bin`)));
    expect(runs.every((r) => r.code !== 0)).toBe(true);
    // A failed copy is dropped at once (not kept for its grace period), so the next request reads again.
    expect(await waitFor(() => f!.server.sessionCount() === 0 && f!.server.sharedBytes() === 0, 5000)).toBe(true);
    const before = counter.opens;
    expect(before).toBeGreaterThanOrEqual(1);
    expect((await atftpGet(f, 'bad.ld', 'y.bin')).code).not.toBe(0);
    expect(counter.opens).toBe(before + 1);
  }, 60_000);
});
