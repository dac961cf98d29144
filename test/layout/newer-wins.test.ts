// Issue 13 item 3: a tree file and a stored upload of the same name (`<MAC>-phone.cfg`): the newer
// wins. A tree edit made after the upload supersedes it; an upload after the edit supersedes the
// edit — over HTTP, FTP and TFTP alike (one overlay, src/core/live-tree.ts). And the option the
// white paper recommends: contact directories read-only for phones ("Polycom recommends that you
// set the directory file with read-only permissions"; the phone then "will use the internally
// cached version of this file", CONTACT_DIRECTORY).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { req } from '../support/http-client.ts';
import { requirePeer } from '../support/peers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { standardTree } from '../support/tree.ts';

const MACS = { http: '0004f2000051', ftp: '0004f2000052', tftp: '0004f2000053' } as const;
type Via = keyof typeof MACS;
const cfg = (v: string) => `<?xml version="1.0" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="${v}"/></PHONE_CONFIG>\n`;

let root: string;
let out: string;
let data: string;
let srv: TestServer;
let port: { tftp: number; ftp: number };

beforeAll(async () => {
  root = standardTree(Object.fromEntries(Object.values(MACS).map((m) => [`overrides/${m}-phone.cfg`, cfg('tree-1')])));
  out = mkdtempSync(join(tmpdir(), 'polyprov-newer-'));
  data = mkdtempSync(join(tmpdir(), 'polyprov-newer-data-'));
  srv = await startTestServer(root, { data, policy: 'open', tftp: '127.0.0.1:0', ftp: '127.0.0.1:0' });
  const of = (t: string) => srv.listening.find((l) => l.transport === t)!.port;
  port = { tftp: of('tftp'), ftp: of('ftp') };
});
afterAll(async () => {
  await srv.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: out, timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

/** The phone's read and write of its override, in each transport's own client. */
const wire: Record<Via, { get(path: string): Promise<string>; put(path: string, body: string): Promise<void> }> = {
  http: {
    get: async (p) => (await req(`${srv.url}/${p}`)).body.toString(),
    put: async (p, body) => expect((await req(`${srv.url}/${p}`, { method: 'PUT', body })).status).toBeLessThan(300),
  },
  ftp: {
    get: async (p) => (await run('curl', ['-sS', '--max-time', '10', `ftp://127.0.0.1:${port.ftp}/${p}`])).stdout,
    put: async (p, body) => {
      writeFileSync(join(out, 'ftp-up.cfg'), body);
      expect((await run('curl', ['-sS', '--max-time', '10', '-T', 'ftp-up.cfg', `ftp://127.0.0.1:${port.ftp}/${p}`])).code).toBe(0);
    },
  },
  tftp: {
    get: async (p) => {
      await run('tftp', ['127.0.0.1', String(port.tftp), '-m', 'binary', '-c', 'get', p, 'tftp-got.cfg']);
      return readFileSync(join(out, 'tftp-got.cfg'), 'utf8');
    },
    put: async (p, body) => {
      writeFileSync(join(out, 'tftp-up.cfg'), body);
      const r = await run('tftp', ['127.0.0.1', String(port.tftp), '-m', 'binary', '-c', 'put', 'tftp-up.cfg', p]);
      expect(r.stdout + r.stderr).not.toMatch(/Error/i);
    },
  },
};
const peer: Record<Via, boolean> = { http: true, ftp: requirePeer('curl', 'curl'), tftp: requirePeer('tftp', 'tftp-hpa') };

describe('issue 13 item 3: the newer of the tree file and the stored upload is served', () => {
  for (const via of ['http', 'ftp', 'tftp'] as const) {
    test.skipIf(!peer[via])(`${via}: upload, then a tree edit, then an upload again`, async () => {
      const mac = MACS[via];
      const path = `overrides/${mac}-phone.cfg`;
      await wire[via].put(path, cfg('upload-1'));
      expect(await wire[via].get(path)).toBe(cfg('upload-1'));
      // The administrator edits the tree file after the upload: the edit is what the phone gets.
      writeFileSync(join(root, path), cfg('tree-2'));
      expect(await wire[via].get(path)).toBe(cfg('tree-2'));
      // The phone uploads again (a keypad change): now the upload is newer.
      await wire[via].put(path, cfg('upload-2'));
      expect(await wire[via].get(path)).toBe(cfg('upload-2'));
    });
  }

  test('overrides show says which is served and why: the upload, then the tree file edited after it', async () => {
    const mac = '0004f2000054';
    const path = `overrides/${mac}-phone.cfg`;
    writeFileSync(join(root, path), cfg('tree-1'));
    await wire.http.put(path, cfg('upload-1'));
    const show = async () => {
      const r = await run(process.execPath, [fileURLToPath(new URL('../../bin/polyprov', import.meta.url)), 'overrides', 'show', mac, '--json', '--data', data, '--root', root]);
      return JSON.parse(r.stdout).served.phone as { served: boolean; why: string };
    };
    expect(await show()).toMatchObject({ served: true, why: expect.stringContaining('newer than the tree file') });
    writeFileSync(join(root, path), cfg('tree-2'));
    expect(await show()).toMatchObject({ served: false, why: expect.stringContaining('edited after this upload') });
  }, 60_000);

  test('overrides clear --kind directory removes the stored contact directory, so the tree\'s is served again', async () => {
    const mac = '0004f2000055';
    const path = `contacts/${mac}-directory.xml`;
    writeFileSync(join(root, path), '<directory><item_list><item><fn>Tree</fn><ct>1</ct></item></item_list></directory>\n');
    await wire.http.put(path, '<directory><item_list><item><fn>Phone</fn><ct>2</ct></item></item_list></directory>\n');
    expect(await wire.http.get(path)).toContain('<fn>Phone</fn>');
    const r = await run(process.execPath, [fileURLToPath(new URL('../../bin/polyprov', import.meta.url)), 'overrides', 'clear', mac, '--kind', 'directory', '--json', '--data', data, '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).cleared).toEqual([path]);
    expect(await wire.http.get(path)).toContain('<fn>Tree</fn>');
  }, 60_000);

  test('white paper, CONTACT_DIRECTORY: with contactsReadOnly a phone\'s directory upload is refused and the tree\'s directory stays served', async () => {
    const ro = await startTestServer(root, { policy: 'open', contactsReadOnly: true });
    try {
      const mac = MACS.http;
      writeFileSync(join(root, 'contacts', `${mac}-directory.xml`), '<directory><item_list><item><fn>Ada</fn><ct>1002</ct></item></item_list></directory>\n');
      const put = await req(`${ro.url}/contacts/${mac}-directory.xml`, { method: 'PUT', body: '<directory><item_list/></directory>\n' });
      expect(put.status).toBe(403);
      expect(put.body.toString()).toContain('PP_READ_ONLY');
      expect((await req(`${ro.url}/contacts/${mac}-directory.xml`)).body.toString()).toContain('<fn>Ada</fn>');
      // Without the option the same upload is stored.
      expect((await req(`${srv.url}/contacts/${mac}-directory.xml`, { method: 'PUT', body: '<directory><item_list/></directory>\n' })).status).toBe(201);
    } finally {
      await ro.close();
    }
  });
});
