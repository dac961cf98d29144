// Issue 16, Several nodes: "Every node answers the same bytes and the same validators for the
// same file, so validators are derived from content, not from inode and mtime". Two real boot
// servers on 127.0.0.1 read two copies of one tree (other inodes, other mtimes), as two nodes
// reading an rsync'd copy or an NFS share would; and the stat cache's bound on how stale a
// lookup may be on a shared tree where no inotify reaches (a TreeFiles without the watch).
import { cpSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TreeFiles } from '../../src/config/tree-source.ts';
import { req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, standardTree, tempDir } from '../support/tree.ts';

const IMAGE = Buffer.alloc(3 << 20);
for (let i = 0; i < IMAGE.length; i++) IMAGE[i] = (i * 7919) >>> 5;

let a: TestServer;
let b: TestServer;
let rootA: string;
let rootB: string;

beforeAll(async () => {
  rootA = standardTree({ 'big.sip.ld': IMAGE, 'edit.cfg': '<polycomConfig x="old"/>\n' });
  rootB = join(tempDir('polyprov-copy-'), 'site');
  cpSync(rootA, rootB, { recursive: true }); // new inodes; mtimes set apart below
  const old = new Date('2020-01-02T03:04:05Z');
  for (const f of ['site.cfg', `${MAC1}-line.cfg`, 'big.sip.ld']) utimesSync(join(rootB, f), old, old);
  a = await startTestServer(rootA, { policy: 'open' });
  b = await startTestServer(rootB, { policy: 'open' });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

describe('issue 16 Several nodes: validators from content', () => {
  test('two nodes on two copies of the tree (other inodes and mtimes) give the same ETag, and a phone moving between them gets 304', async () => {
    for (const path of ['site.cfg', `${MAC1}-line.cfg`, 'big.sip.ld']) {
      const ra = await req(`${a.url}/${path}`);
      const rb = await req(`${b.url}/${path}`);
      expect(ra.status).toBe(200);
      expect(rb.body.equals(ra.body)).toBe(true);
      expect(ra.headers['last-modified']).not.toBe(rb.headers['last-modified']);
      expect(ra.headers.etag).toMatch(/^"t-[A-Za-z0-9_-]{22}"$/);
      expect(rb.headers.etag).toBe(ra.headers.etag);
      const cond = await req(`${b.url}/${path}`, { headers: { 'if-none-match': ra.headers.etag! } });
      expect(cond.status).toBe(304);
    }
  });

  test('different bytes give different ETags, and a conditional read with the old one gets the new bytes', async () => {
    const before = await req(`${a.url}/${MAC1}-line.cfg`);
    writeFileSync(join(rootB, `${MAC1}-line.cfg`), '<polycomConfig reg.1.address="1009"/>\n');
    const rb = await req(`${b.url}/${MAC1}-line.cfg`, { headers: { 'if-none-match': before.headers.etag! } });
    expect(rb.status).toBe(200);
    expect(rb.body.toString()).toContain('1009');
    expect(rb.headers.etag).not.toBe(before.headers.etag);
  });

  test('If-Modified-Since decides only on the exact Last-Modified: another node\'s copy with an older date and other bytes is sent in full', async () => {
    // Node B's copy of edit.cfg differs and is dated before node A's: by date alone it would be "not modified".
    writeFileSync(join(rootB, 'edit.cfg'), '<polycomConfig x="other"/>\n');
    const old = new Date('2020-01-02T03:04:05Z');
    utimesSync(join(rootB, 'edit.cfg'), old, old);
    const ra = await req(`${a.url}/edit.cfg`);
    const rb = await req(`${b.url}/edit.cfg`, { headers: { 'if-modified-since': ra.headers['last-modified']! } });
    expect(rb.status).toBe(200);
    expect(rb.body.toString()).toContain('other');
    // On the node that sent it, its own date still gives 304 (RFC 9110 §13.1.3).
    const same = await req(`${a.url}/edit.cfg`, { headers: { 'if-modified-since': ra.headers['last-modified']! } });
    expect(same.status).toBe(304);
  });

  test('an image (streamed, over the memory-cache limit) is hashed in full: one byte changed deep inside gives another ETag', async () => {
    const first = await req(`${a.url}/big.sip.ld`);
    const changed = Buffer.from(IMAGE);
    changed[2_500_000] ^= 0xff;
    writeFileSync(join(rootA, 'big.sip.ld'), changed);
    const again = await req(`${a.url}/big.sip.ld`);
    expect(again.body.equals(changed)).toBe(true);
    expect(again.headers.etag).not.toBe(first.headers.etag);
    const back = await req(`${b.url}/big.sip.ld`);
    expect(back.headers.etag).toBe(first.headers.etag);
  });
});

describe('issue 16 Several nodes: a shared tree without inotify', () => {
  test('an edit is seen within the recheck bound (1 s) and not before; a new file and a removed one too', async () => {
    const root = standardTree({ 'shared.cfg': '<polycomConfig v="1"/>\n' });
    const tree = new TreeFiles(root, { recheckMs: 1000, watch: false });
    const read = async (p: string) => (await tree.read(p))?.toString();
    expect(await read('shared.cfg')).toContain('v="1"');
    expect(await read('new.cfg')).toBeUndefined();
    const t0 = Date.now();
    writeFileSync(join(root, 'shared.cfg'), '<polycomConfig v="2"/>\n');
    writeFileSync(join(root, 'new.cfg'), '<polycomConfig n="1"/>\n');
    rmSync(join(root, 'site.cfg'));
    // Within the bound the lookup is not made again: the version found is the version served.
    if (Date.now() - t0 < 800) {
      expect(await read('shared.cfg')).toContain('v="1"');
      expect(await read('new.cfg')).toBeUndefined();
    }
    let seen = false;
    for (let i = 0; i < 30 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await read('shared.cfg'))?.includes('v="2"') ?? false;
    }
    expect(seen).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(await read('new.cfg')).toContain('n="1"');
    expect(await read('site.cfg')).toBeUndefined();
  });

  test('with the watch (a local tree, as the serving tree uses it) the edit is seen at once', async () => {
    const root = standardTree({ 'local.cfg': '<polycomConfig v="1"/>\n' });
    const tree = new TreeFiles(root, { recheckMs: 60_000, watch: true });
    try {
      expect((await tree.read('local.cfg'))?.toString()).toContain('v="1"');
      writeFileSync(join(root, 'local.cfg'), '<polycomConfig v="22"/>\n');
      let seen = false;
      for (let i = 0; i < 50 && !seen; i++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = (await tree.read('local.cfg'))?.toString().includes('v="22"') ?? false;
      }
      expect(seen).toBe(true);
    } finally {
      tree.close();
    }
  });
});
