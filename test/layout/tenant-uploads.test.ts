// Issue 13 item 4: a master file in a sub-directory. The Administrator's Guide lets the boot-server
// address carry a directory ("Master Configuration Files": http://usr:pwd@server/dir/example1.cfg),
// and hosted services put one tenant per directory; a phone whose address is `…/tenant1/` reads
// tenant1/000000000000.cfg and uploads to the directories that master names, relative to it
// (white paper, "Master Configuration File"). Real server on 127.0.0.1 port 0, HTTP and TFTP.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { req } from '../support/http-client.ts';
import { requirePeer } from '../support/peers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const TENANTS = fileURLToPath(new URL('../fixtures/trees/tenants', import.meta.url));
const MAC1 = '0004f2000031' as Mac;
const MAC2 = '0004f2000032' as Mac;
const override = '<?xml version="1.0" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES reg.1.label="Front desk"/></PHONE_CONFIG>\n';

let srv: TestServer;
let tftpPort: number;
let out: string;
let data: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'polyprov-tenant-'));
  data = mkdtempSync(join(tmpdir(), 'polyprov-tenant-data-'));
  srv = await startTestServer(TENANTS, { data, policy: 'open', tftp: '127.0.0.1:0' });
  tftpPort = srv.listening.find((l) => l.transport === 'tftp')!.port;
});
afterAll(async () => {
  await srv.close();
  rmSync(out, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

function tftp(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile('tftp', ['127.0.0.1', String(tftpPort), '-m', 'binary', '-c', ...args], { cwd: out, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('issue 13 item 4: uploads under a master file in a sub-directory', () => {
  test('HTTP: tenant1/000000000000.cfg puts logs, overrides and contacts under tenant1/; the root is refused', async () => {
    // Administrator's Guide, "Master Configuration Files": <MAC>.cfg first, then 000000000000.cfg.
    expect((await req(`${srv.url}/tenant1/${MAC1}.cfg`)).status).toBe(404);
    expect((await req(`${srv.url}/tenant1/000000000000.cfg`)).status).toBe(200);
    const put = await req(`${srv.url}/tenant1/overrides/${MAC1}-phone.cfg`, { method: 'PUT', body: override });
    expect(put.status).toBe(201);
    expect((await req(`${srv.url}/tenant1/overrides/${MAC1}-phone.cfg`)).body.toString()).toBe(override);
    expect((await req(`${srv.url}/tenant1/logs/${MAC1}-app.log`, { method: 'PUT', body: 'booted\n' })).status).toBeLessThan(300);
    expect((await req(`${srv.url}/tenant1/contacts/${MAC1}-directory.xml`, { method: 'PUT', body: '<directory><item_list/></directory>\n' })).status).toBe(201);
    const stored = await srv.store.uploads.current({ mac: MAC1, kind: 'override-phone', path: `tenant1/overrides/${MAC1}-phone.cfg` });
    expect(stored?.size).toBe(override.length);
    // The phone's master is tenant1's, so the root (and the other tenant) is not where its uploads go.
    const root = await req(`${srv.url}/${MAC1}-phone.cfg`, { method: 'PUT', body: override });
    expect(root.status).toBe(403);
    expect(root.body.toString()).toContain('PP_READ_ONLY');
    expect(root.body.toString()).toContain('tenant1/overrides');
  });

  test('explain --data follows the master the inventory says this phone read, and prints the paths the server accepted', async () => {
    await srv.core.audit.flush(); // the sightings (the inventory's master) reach the store
    const bin = fileURLToPath(new URL('../../bin/polyprov', import.meta.url));
    const r = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, 'explain', TENANTS, '--mac', MAC1, '--json', '--data', data], { timeout: 30_000 }, (_e, stdout, stderr) => resolve({ stdout, stderr })),
    );
    const j = JSON.parse(r.stdout) as { master: { file: string }; uploads: Record<string, string>; params: Record<string, { value: string; source: { upload?: string } }> };
    expect(j.master.file).toBe('tenant1/000000000000.cfg');
    expect(j.uploads).toMatchObject({ 'override-phone': `tenant1/overrides/${MAC1}-phone.cfg`, 'log-app': `tenant1/logs/${MAC1}-app.log`, directory: `tenant1/contacts/${MAC1}-directory.xml` });
    expect(j.params['reg.1.label']).toMatchObject({ value: 'Front desk', source: { upload: expect.stringMatching(/^upload /) } });
  }, 60_000);

  test.skipIf(!requirePeer('tftp', 'tftp-hpa'))('TFTP: tenant2/000000000000.cfg (CONTACT_DIRECTORY="dir", LOG_FILE_DIRECTORY="") takes uploads in tenant2/', async () => {
    await tftp(['get', `tenant2/${MAC2}.cfg`, 'own.cfg']); // not there: the phone moves on
    expect((await tftp(['get', 'tenant2/000000000000.cfg', 'master.cfg'])).code).toBe(0);
    writeFileSync(join(out, 'app.log'), 'application started\n');
    writeFileSync(join(out, 'dir.xml'), '<directory><item_list><item><fn>Ada</fn><ct>1002</ct></item></item_list></directory>\n');
    writeFileSync(join(out, 'phone.cfg'), override);
    const log = await tftp(['put', 'app.log', `tenant2/${MAC2}-app.log`]);
    const dir = await tftp(['put', 'dir.xml', `tenant2/dir/${MAC2}-directory.xml`]);
    const ovr = await tftp(['put', 'phone.cfg', `tenant2/phone-overrides/${MAC2}-phone.cfg`]);
    expect([log.stderr, dir.stderr, ovr.stderr].join('')).not.toMatch(/Error/i);
    expect((await srv.store.uploads.current({ mac: MAC2, kind: 'log-app', path: `tenant2/${MAC2}-app.log` }))?.size).toBeGreaterThan(0);
    expect((await srv.store.uploads.current({ mac: MAC2, kind: 'directory', path: `tenant2/dir/${MAC2}-directory.xml` }))?.size).toBeGreaterThan(0);
    expect((await srv.store.uploads.current({ mac: MAC2, kind: 'override-phone', path: `tenant2/phone-overrides/${MAC2}-phone.cfg` }))?.size).toBe(override.length);
    // tenant1's directory names are not tenant2's.
    const wrong = await tftp(['put', 'phone.cfg', `tenant2/overrides/${MAC2}-phone.cfg`]);
    expect(wrong.stdout + wrong.stderr).toMatch(/Error|denied|violation/i);
  });
});
