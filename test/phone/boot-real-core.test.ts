// The virtual phone against the real boot service (src/server.ts in-process, policy open), where
// the recording server of boot-http.test.ts accepts anything: here the core decides, so an upload
// path the phone gets wrong, or a file the core would not serve back, fails the test. The
// recording server stays for what a test must control on the wire (Basic, Digest SHA-256, chosen
// failures, a dead address, the exact User-Agent).
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootPhone, COULD_NOT_CONTACT, type BootInput } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { addContact, setLocalParam } from '../../src/phone/local-edits.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState, type PhoneStateStore } from '../../src/phone/state.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { makeTree } from '../support/tree.ts';

const MAC = '0004f2000001' as Mac;

/** White paper, Master Configuration File: the starter tree's shape, the per-phone file not written yet. */
function tree(extra: Record<string, string | Buffer> = {}): string {
  return makeTree({
    '000000000000.cfg':
      '<?xml version="1.0" standalone="yes"?>\n<!-- white paper, Master Configuration File -->\n' +
      '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="phones/[PHONE_MAC_ADDRESS].cfg, site.cfg" MISC_FILES="" ' +
      'LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>\n',
    'site.cfg': '<polycomConfig>\n  <reg reg.1.label="Site label"/>\n  <tcpIpApp tcpIpApp.sntp.address="pool.ntp.org"/>\n</polycomConfig>\n',
    'sip.ld': makeImage('4.0.15.1009', 4096),
    '000000000000-directory.xml': '<directory><item_list><item><fn>Front</fn><ln>Desk</ln><ct>1000</ct></item></item_list></directory>\n',
    'logs/.keep': '',
    'overrides/.keep': '',
    'contacts/.keep': '',
    'phones/.keep': '',
    ...extra,
  });
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function serve(root: string, contactsReadOnly = false): Promise<TestServer> {
  const s = await startTestServer(root, { policy: 'open', contactsReadOnly });
  cleanup.push(() => s.close(), () => rm(root, { recursive: true, force: true }));
  return s;
}

function input(url: string, state: PhoneStateStore): BootInput {
  return {
    server: parseServerAddress(url + '/'),
    profile: { mac: MAC, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '3.3.0.0000' },
    state,
    settings: { tries: 1, retryWaitSec: 0 },
    env: { makeClient: clientFactory({ timeoutMs: 3000 }) },
  };
}

describe('the virtual phone against the real boot service', () => {
  test('SEED-AG BootROM and Application: every request answered as the documents expect; both logs stored in LOG_FILE_DIRECTORY', async () => {
    const s = await serve(tree());
    const rec = await bootPhone(input(s.url, new MemoryState()));
    const got = rec.requests.map((r) => `${r.stage === 'bootrom' ? 'boot' : 'app'} ${r.method} ${r.url.slice(s.url.length + 1)} ${r.status}`);
    expect(got).toEqual([
      `boot GET ${MAC}.cfg not-found`,
      'boot GET 000000000000.cfg ok',
      'boot GET 3111-46162-001.sip.ld not-found',
      'boot GET sip.ld ok',
      'boot GET sip.ld ok',
      `boot PUT logs/${MAC}-boot.log ok`,
      `app GET ${MAC}.cfg not-found`,
      'app GET 000000000000.cfg ok',
      `app GET phones/${MAC}.cfg not-found`,
      'app GET site.cfg ok',
      `app GET overrides/${MAC}-phone.cfg not-found`,
      `app GET overrides/${MAC}-web.cfg not-found`,
      'app GET 000000000000-license.cfg not-found',
      `app GET ${MAC}-license.cfg not-found`,
      `app GET contacts/${MAC}-directory.xml not-found`,
      'app GET contacts/000000000000-directory.xml not-found',
      'app GET 000000000000-directory.xml ok',
      `app PUT logs/${MAC}-app.log ok`,
    ]);
    expect(rec.image.action).toBe('downloaded');
  });

  test('white paper, OVERRIDES_DIRECTORY and Configuring Your Local Contact Directory: keypad edits are stored by the core and served back to a phone with an empty flash', async () => {
    const s = await serve(tree());
    const state = new MemoryState();
    await bootPhone(input(s.url, state));
    const d = await state.load();
    setLocalParam(d, 'reg.1.label', 'From keypad');
    addContact(d, { fn: 'Ada', ln: 'Lovelace', ct: '1815' });
    await state.save(d);
    const rec = await bootPhone(input(s.url, state));
    expect(rec.uploads.filter((u) => !u.file.endsWith('.log')).map((u) => `${u.file} ${u.status}`)).toEqual([`overrides/${MAC}-phone.cfg ok`, `contacts/${MAC}-directory.xml ok`]);
    // A factory-fresh flash: everything now comes from what the core stored.
    const fresh = new MemoryState();
    const again = await bootPhone(input(s.url, fresh));
    expect(again.effective?.params['reg.1.label']).toMatchObject({ value: 'From keypad', source: { file: `overrides/${MAC}-phone.cfg` } });
    expect((await fresh.load()).directory?.toString()).toContain('<ct>1815</ct>');
  });

  test('issue 13 item 3, white paper CONTACT_DIRECTORY: with contactsReadOnly the phone\'s directory upload is refused and the phone keeps its own copy, boot after boot', async () => {
    const s = await serve(tree({ [`contacts/${MAC}-directory.xml`]: '<directory><item_list><item><fn>Tree</fn><ln>Copy</ln><ct>2000</ct></item></item_list></directory>\n' }), true);
    const state = new MemoryState();
    await bootPhone(input(s.url, state));
    const d = await state.load();
    addContact(d, { fn: 'Ada', ln: 'Lovelace', ct: '1815' });
    await state.save(d);
    const rec = await bootPhone(input(s.url, state));
    expect(rec.uploads.filter((u) => u.file.endsWith('-directory.xml')).map((u) => u.status)).not.toContain('ok');
    expect(rec.messages.some((m) => m.includes('keeps its local copy'))).toBe(true);
    const again = await bootPhone(input(s.url, state));
    const kept = (await state.load()).directory?.toString() ?? '';
    expect(kept).toContain('<ct>1815</ct>');
    expect(again.uploads.filter((u) => u.file.endsWith('-directory.xml')).map((u) => u.status)).not.toContain('ok');
    // The server still serves the tree's directory: the refused upload stored nothing.
    const served = await fetch(`${s.url}/contacts/${MAC}-directory.xml`);
    expect(await served.text()).toContain('<ct>2000</ct>');
  });

  test('issue 13 item 16, white paper Stage 4: with phones/<MAC>.cfg missing, site.cfg is cached and the phone boots from it when the server is gone', async () => {
    const s = await serve(tree());
    const state = new MemoryState();
    const first = await bootPhone(input(s.url, state));
    expect(first.configFrom).toBe('server');
    await s.close();
    const second = await bootPhone(input(s.url, state));
    expect(second.contacted).toBe(false);
    expect(second.messages.some((m) => m.startsWith(COULD_NOT_CONTACT))).toBe(true);
    expect(second.configFrom).toBe('cache');
    expect(second.effective?.params['tcpIpApp.sntp.address']).toMatchObject({ value: 'pool.ntp.org', source: { file: 'site.cfg', line: 3 } });
  });
});
