// The virtual phone's boot sequence against a recording HTTP server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { parseUserAgent } from '../../src/config/models.ts';
import type { Mac } from '../../src/config/types.ts';
import type { Clock } from '../../src/domain.ts';
import { bootPhone, COULD_NOT_CONTACT, type BootInput } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { addContact, setLocalParam } from '../../src/phone/local-edits.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { DirState, MemoryState, type PhoneStateStore } from '../../src/phone/state.ts';
import { startRecordingServer, type RecordingServer } from './recording-server.ts';

const MAC = '0004f2000001' as Mac;

// Tree written from the white paper's Master Configuration File section and facts §1.3/§3.2.
export function sampleTree(): Record<string, string | Buffer> {
  return {
    '000000000000.cfg': `<?xml version="1.0" standalone="yes"?>
<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, site.cfg" MISC_FILES=""
  LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>
`,
    [`${MAC}-user.cfg`]: `<polycomConfig><reg reg.1.address="1001" reg.1.auth.userId="1001" reg.1.auth.password="s3cret" reg.1.label="Desk"/></polycomConfig>\n`,
    'site.cfg': `<polycomConfig><reg reg.1.label="Site label"/><voIpProt voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/><tcpIpApp tcpIpApp.sntp.address="pool.ntp.org"/></polycomConfig>\n`,
    'sip.ld': makeImage('4.0.15.1009', 4096),
    '000000000000-directory.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<directory><item_list><item><fn>Front</fn><ln>Desk</ln><ct>1000</ct></item></item_list></directory>
`,
  };
}

const servers: RecordingServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function serve(files: Record<string, string | Buffer>, opts?: Parameters<typeof startRecordingServer>[1]): Promise<RecordingServer> {
  const s = await startRecordingServer(files, opts);
  servers.push(s);
  return s;
}

function input(url: string, state: PhoneStateStore = new MemoryState(), extra: Partial<BootInput> = {}): BootInput {
  return {
    server: parseServerAddress(url),
    profile: { mac: MAC, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '3.3.0.0000' },
    state,
    settings: { tries: 1, retryWaitSec: 0 },
    env: { makeClient: clientFactory({ timeoutMs: 2000 }) },
    ...extra,
  };
}

describe('boot sequence over HTTP', () => {
  test('SEED-AG BootROM and Application: master, image, CONFIG_FILES, overrides, licences, directory, logs in order', async () => {
    const s = await serve(sampleTree());
    const rec = await bootPhone(input(s.url));
    const got = s.requests.map((r) => `${r.method} ${r.path}`);
    expect(got).toEqual([
      // bootROM stage
      `GET ${MAC}.cfg`,
      'GET 000000000000.cfg',
      'GET 3111-46162-001.sip.ld',
      'GET sip.ld',
      'GET sip.ld',
      `PUT logs/${MAC}-boot.log`,
      // application stage
      `GET ${MAC}.cfg`,
      'GET 000000000000.cfg',
      `GET ${MAC}-user.cfg`,
      'GET site.cfg',
      `GET overrides/${MAC}-phone.cfg`,
      `GET overrides/${MAC}-web.cfg`,
      'GET 000000000000-license.cfg',
      `GET ${MAC}-license.cfg`,
      `GET contacts/${MAC}-directory.xml`,
      'GET contacts/000000000000-directory.xml',
      'GET 000000000000-directory.xml',
      `PUT logs/${MAC}-app.log`,
    ]);
    expect(rec.image.action).toBe('downloaded');
    expect(rec.appVersion).toBe('4.0.15.1009');
    expect(rec.configFrom).toBe('server');
    expect(rec.effective?.params['reg.1.label']?.value).toBe('Desk');
    expect(rec.effective?.params['reg.1.auth.password']?.value).not.toBe('s3cret');
  });

  test('facts §3.4: bootROM requests say Type/Updater with the bootROM version, application ones Type/Application', async () => {
    const s = await serve(sampleTree());
    await bootPhone(input(s.url));
    const boot = s.requests.find((r) => r.path === `logs/${MAC}-boot.log`)!;
    const app = s.requests.find((r) => r.path === 'site.cfg')!;
    expect(boot.userAgent).toBe('FileTransport PolycomVVX-VVX_410-UA/5.0.0.0001 Type/Updater');
    expect(app.userAgent).toBe('FileTransport PolycomVVX-VVX_410-UA/4.0.15.1009 Type/Application');
    expect(parseUserAgent(app.userAgent!)?.stage).toBe('application');
  });

  test('SEED-AG BootROM step 6: an unchanged image is identified by its header and not downloaded again', async () => {
    const s = await serve(sampleTree());
    const state = new MemoryState();
    await bootPhone(input(s.url, state));
    const before = s.requests.length;
    const rec = await bootPhone(input(s.url, state));
    expect(rec.image.action).toBe('unchanged');
    const imageRequests = rec.requests.filter((r) => r.url.endsWith('/sip.ld'));
    expect(imageRequests).toHaveLength(1);
    expect(imageRequests[0]!.hangUp).toBe(true);
    expect(s.requests.slice(before).filter((r) => r.path === 'sip.ld')).toHaveLength(1);
    // a new version on the server is fetched whole
    s.files.set('sip.ld', makeImage('4.0.16.0001', 4096));
    const third = await bootPhone(input(s.url, state));
    expect(third.image).toMatchObject({ action: 'downloaded', serverVersion: '4.0.16.0001', cachedVersion: '4.0.15.1009' });
  });

  test('facts §3.5: Digest (qop=auth) on 401, then every request authenticated', async () => {
    const s = await serve(sampleTree(), { auth: { scheme: 'digest', user: 'phone1', password: 'p@ss:w/rd' } });
    const rec = await bootPhone(input('http://phone1:p%40ss%3Aw%2Frd@127.0.0.1:' + s.port + '/'));
    expect(rec.configFrom).toBe('server');
    expect(rec.requests.every((r) => r.status !== 'denied')).toBe(true);
    const authed = s.requests.filter((r) => r.authorization?.startsWith('Digest '));
    expect(authed.length).toBeGreaterThan(10);
    expect(authed[0]!.authorization).toMatch(/qop=auth/);
  });

  test('facts §3.5: Digest SHA-256 and Basic are answered too; a wrong password is denied, not retried forever', async () => {
    const s1 = await serve(sampleTree(), { auth: { scheme: 'digest', user: 'u', password: 'p', algorithm: 'SHA-256' } });
    const r1 = await bootPhone(input(`http://u:p@127.0.0.1:${s1.port}/`));
    expect(r1.configFrom).toBe('server');
    expect(s1.requests.find((r) => r.authorization)?.authorization).toMatch(/algorithm=SHA-256/);
    const s2 = await serve(sampleTree(), { auth: { scheme: 'basic', user: 'u', password: 'p' } });
    const r2 = await bootPhone(input(`http://u:p@127.0.0.1:${s2.port}/`));
    expect(r2.configFrom).toBe('server');
    const s3 = await serve(sampleTree(), { auth: { scheme: 'digest', user: 'u', password: 'p' } });
    const r3 = await bootPhone(input(`http://u:wrong@127.0.0.1:${s3.port}/`));
    expect(r3.master).toBeNull();
    expect(s3.requests.length).toBeLessThan(40);
  });

  test('white paper, Default Configuration Parameter Values: one unreadable CONFIG_FILES entry means cached copies for all', async () => {
    const s = await serve(sampleTree());
    const state = new MemoryState();
    await bootPhone(input(s.url, state));
    s.files.set('site.cfg', Buffer.from('<polycomConfig><reg reg.1.label="Changed"/></polycomConfig>'));
    s.files.set(`${MAC}-user.cfg`, Buffer.from('<polycomConfig><reg reg.1.address="2002"/></polycomConfig>'));
    s.files.delete('site.cfg');
    const rec = await bootPhone(input(s.url, state));
    expect(rec.configFrom).toBe('cache');
    // the readable file's new value is not used either: the cached copies are used for all
    expect(rec.effective?.params['reg.1.address']?.value).toBe('1001');
    expect(rec.messages.join('\n')).toMatch(/cached copies of all configuration files/);
  });

  test('issue 13 item 16, white paper Stage 4: with one CONFIG_FILES entry always missing, the files read are still cached and the phone boots from them', async () => {
    // The starter tree's shape: the per-phone file is listed before the administrator writes it.
    const tree = sampleTree();
    tree['000000000000.cfg'] = String(tree['000000000000.cfg']).replace('[PHONE_MAC_ADDRESS]-user.cfg', 'phones/[PHONE_MAC_ADDRESS].cfg');
    const s = await serve(tree);
    const dir = await mkdtemp(join(tmpdir(), 'phone-state-'));
    dirs.push(dir);
    const first = await bootPhone(input(s.url, new DirState(dir)));
    expect(first.requests.filter((r) => r.url.endsWith(`/phones/${MAC}.cfg`)).map((r) => r.status)).toEqual(['not-found']);
    expect(first.configFrom).toBe('server');
    expect(first.effective?.params['tcpIpApp.sntp.address']?.value).toBe('pool.ntp.org');
    expect([...(await new DirState(dir).load()).configFiles.keys()]).toEqual(['site.cfg']);
    const url = s.url;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const second = await bootPhone(input(url, new DirState(dir)));
    expect(second.contacted).toBe(false);
    expect(second.configFrom).toBe('cache');
    expect(second.effective?.params['tcpIpApp.sntp.address']).toMatchObject({ value: 'pool.ntp.org', source: { file: 'site.cfg' } });
    expect(second.effective?.params['reg.1.label']?.value).toBe('Site label');
  });

  test('white paper, Stage 4: no reachable server means the cached configuration and "Could not contact boot server"', async () => {
    const s = await serve(sampleTree());
    const state = new MemoryState();
    await bootPhone(input(s.url, state));
    const url = s.url;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const rec = await bootPhone(input(url, state));
    expect(rec.contacted).toBe(false);
    expect(rec.messages.some((m) => m.startsWith(COULD_NOT_CONTACT))).toBe(true);
    expect(rec.configFrom).toBe('cache');
    expect(rec.master?.from).toBe('cache');
    expect(rec.effective?.params['reg.1.label']?.value).toBe('Desk');
  });

  test('SEED-AG Server Menu: File Transmit Tries and Retry Wait measured from the start of an attempt', async () => {
    const s = await serve(sampleTree());
    const url = s.url;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    let now = 0;
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => now,
      // A wait passes at once: the clock jumps by it.
      setTimeout: (fn, ms) => {
        sleeps.push(ms);
        now += ms;
        fn();
      },
      clearTimeout: () => {},
    };
    // Each attempt "takes" 400 ms of the fake clock; Retry Wait 1 s leaves 600 ms to wait.
    const factory = clientFactory({ timeoutMs: 1000 });
    const rec = await bootPhone(
      input(url, new MemoryState(), {
        settings: { tries: 3, retryWaitSec: 1, uploadLogs: false },
        env: {
          clock,
          makeClient: (server, address) => {
            const c = factory(server, address);
            const get = c.get.bind(c);
            c.get = async (p, o) => {
              now += 400;
              return get(p, o);
            };
            return c;
          },
        },
      }),
    );
    // bootROM and application each try the master file three times
    const masterTries = rec.requests.filter((r) => r.stage === 'bootrom');
    expect(masterTries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(sleeps).toEqual([600, 600, 600, 600]);
  });

  test('SEED-AG Deploying Phones From the Boot Server: every address of the name is tried in order', async () => {
    const s = await serve(sampleTree());
    const rec = await bootPhone(
      input(`http://boot.example:${s.port}/`, new MemoryState(), {
        env: { makeClient: clientFactory({ timeoutMs: 1000 }), lookup: async () => ['127.0.0.1'] },
      }),
    );
    expect(rec.configFrom).toBe('server');
    const dead = await serve({});
    const deadUrlPort = dead.port;
    await dead.close();
    servers.splice(servers.indexOf(dead), 1);
    // first address refuses connections, second answers
    const rec2 = await bootPhone(
      input(`http://boot.example:${s.port}/`, new MemoryState(), {
        env: {
          makeClient: (server, address) => clientFactory({ timeoutMs: 1000 })({ ...server, port: address === '127.0.0.3' ? deadUrlPort : server.port }, '127.0.0.1'),
          lookup: async () => ['127.0.0.3', '127.0.0.1'],
        },
      }),
    );
    expect(rec2.configFrom).toBe('server');
    const first = rec2.requests[0]!;
    const second = rec2.requests[1]!;
    expect([first.address, first.status, second.address, second.status]).toEqual(['127.0.0.3', 'error', '127.0.0.1', 'not-found']);
  });

  test('white paper, OVERRIDES_DIRECTORY and Configuring Your Local Contact Directory: local edits are uploaded', async () => {
    const s = await serve(sampleTree());
    const dir = await mkdtemp(join(tmpdir(), 'phone-state-'));
    dirs.push(dir);
    const state = new DirState(dir);
    await bootPhone(input(s.url, state));
    const d = await state.load();
    setLocalParam(d, 'reg.1.label', 'From keypad');
    addContact(d, { fn: 'Ada', ln: 'Lovelace', ct: '1815' });
    await state.save(d);
    const rec = await bootPhone(input(s.url, state));
    expect(rec.uploads.map((u) => `${u.file} ${u.status}`)).toEqual(
      expect.arrayContaining([`overrides/${MAC}-phone.cfg ok`, `contacts/${MAC}-directory.xml ok`]),
    );
    expect(s.files.get(`overrides/${MAC}-phone.cfg`)!.toString()).toContain('reg.1.label="From keypad"');
    const directory = s.files.get(`contacts/${MAC}-directory.xml`)!.toString();
    expect(directory).toContain('<ct>1815</ct>');
    expect(directory).toContain('<ct>1000</ct>'); // seeded from 000000000000-directory.xml
    expect(rec.effective?.params['reg.1.label']).toMatchObject({ value: 'From keypad', source: { file: `overrides/${MAC}-phone.cfg` } });
    const after = await state.load();
    expect(after.pending).toEqual({ phone: false, directory: false });
    // a third boot reads the uploaded copies and uploads nothing more
    const third = await bootPhone(input(s.url, state));
    expect(third.uploads.filter((u) => !u.file.endsWith('.log'))).toEqual([]);
  });
});
