// Issue 13 item 2: "polyprov explain shows the same" holds for a phone with overrides. The user set
// reg.1.label on the keypad and the phone uploaded its <MAC>-phone.cfg (white paper, "Default
// Configuration Parameter Values": <MAC>-phone.cfg has the highest precedence); the virtual phone
// booting from the running server and `explain --data` over the server's state both end with the
// values worked out by hand below — not "not set … built-in default".
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootPhone } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { req } from '../support/http-client.ts';
import { runCli, startServe, type ServeChild } from '../phone/serve-child.ts';

const MAC = '0004f2000061' as Mac;
const TREE: Record<string, string | Buffer> = {
  '000000000000.cfg':
    '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" MISC_FILES="" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts"/>\n',
  'site.cfg': '<polycomConfig>\n  <reg reg.1.address="1001" reg.1.label="Site label"/>\n</polycomConfig>\n',
  'sip.ld': makeImage('4.0.15.1009', 2048),
};
/** What the keypad change uploaded, as the phone writes it. */
const KEYPAD = '<PHONE_CONFIG><OVERRIDES reg.1.label="Front desk"/></PHONE_CONFIG>\n';
/** Worked out by hand: the upload (line 1) beats site.cfg (line 2). */
const EXPECTED = {
  'reg.1.address': { value: '1001', source: { file: 'site.cfg', line: 2 }, shadowed: [], applied: true },
  'reg.1.label': { value: 'Front desk', source: { file: `overrides/${MAC}-phone.cfg`, line: 1 }, shadowed: [{ value: 'Site label', source: { file: 'site.cfg', line: 2 } }], applied: true },
};

let dir: string;
let serve: ServeChild;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'layout-phone-explain-'));
  for (const [name, body] of Object.entries(TREE)) {
    await mkdir(dirname(join(dir, 'root', name)), { recursive: true });
    await writeFile(join(dir, 'root', name), body);
  }
  serve = await startServe(['--root', join(dir, 'root'), '--policy', 'open', '--data', join(dir, 'data'), '--log-level', 'error'], ['http']);
  const put = await req(`http://127.0.0.1:${serve.ports.http}/overrides/${MAC}-phone.cfg`, { method: 'PUT', body: KEYPAD });
  expect(put.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('issue 13 item 2: the virtual phone and explain --data both end with the keypad label from the stored upload', async () => {
  const rec = await bootPhone({
    server: parseServerAddress(`http://127.0.0.1:${serve.ports.http}/`),
    profile: { mac: MAC, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '3.3.0.0000' },
    state: new MemoryState(),
    settings: { tries: 1, retryWaitSec: 0 },
    env: { makeClient: clientFactory({ timeoutMs: 5000, ca: undefined, rejectUnauthorized: false }) },
  });
  expect(rec.configFrom).toBe('server');
  expect(rec.effective?.params).toEqual(EXPECTED);

  const ex = await runCli(['explain', join(dir, 'root'), '--mac', MAC, '--model', 'VVX410', '--json', '--data', join(dir, 'data')]);
  expect(ex.code, ex.stderr).toBe(0);
  const j = JSON.parse(ex.stdout) as { params: Record<string, { source: { upload?: string } }> };
  // explain names the upload as the source; otherwise it is the same record.
  expect(j.params['reg.1.label']!.source.upload).toMatch(/^upload 0004f2000061-phone\.cfg, stored \S+ from 127\.0\.0\.1$/);
  delete j.params['reg.1.label']!.source.upload;
  expect(j.params).toEqual(EXPECTED);
}, 60_000);
