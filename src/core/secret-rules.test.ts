// Issue 13 items 6, 7 and 8: which files hold a phone's secrets besides its MAC-named ones, and
// who may fetch them.
// - Item 6: a file that holds a secret and is listed only by per-phone masters (`<MAC>.cfg`) is
//   that phone's file: served only to the accounts of the phones whose master lists it, and
//   protected like their MAC files (Administrator's Guide, Boot Server Security Policy: a phone's
//   own account for its own files).
// - Item 7: a master whose URLs carry credentials (`ftp://user:pw@host/…` in CONFIG_FILES or
//   APP_FILE_PATH, which the guide allows) is a secret file: not over TFTP outside tftpSecretAllow.
// - Item 8: TFTP carries no credentials, so a phone bound to its own account is neither served nor
//   written over TFTP, even from an allow-listed network, unless `tftpBoundPhones` says so.
// The whole core over the in-memory store; every expected outcome is written literally.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac, Transport } from '../domain.ts';
import { loadServerOptions, type ServerOptions } from '../options.ts';
import { openMemoryStore } from '../../test/support/memory-store.ts';
import { createBootService } from './boot-service.ts';
import { makeAccount } from './digest.ts';
import type { BootRequest, Credentials } from './request.ts';

const MAC1 = '0004f2000001' as Mac;
const MAC2 = '0004f2000002' as Mac;
const MAC3 = '0004f2000003' as Mac;
const REALM = 'polyprov';
const silent = pino({ level: 'silent' });
const dirs: string[] = [];

const master = (configFiles: string, app = 'sip.ld') =>
  `<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="${app}" CONFIG_FILES="${configFiles}" OVERRIDES_DIRECTORY="overrides"/>\n`;

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'polyprov-secret-rules-'));
  dirs.push(root);
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
  return root;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Who = 'anonymous' | 'site' | 'p1' | 'p2' | 'p3' | 'PlcmSpIp' | 'cert1' | 'cert2';

function credentials(who: Who, t: Transport): Credentials | undefined {
  if (who === 'anonymous') return undefined;
  if (who === 'cert1' || who === 'cert2') return { kind: 'cert', subjectCN: `SEP${who === 'cert1' ? MAC1 : MAC2}`, subjectAltNames: [], fingerprint256: 'AA' };
  const password = who === 'PlcmSpIp' ? 'PlcmSpIp' : `${who}-pw`;
  return t === 'ftp' || t === 'ftps' ? { kind: 'login', user: who, password } : { kind: 'basic', user: who, password };
}

interface Setup {
  root: string;
  /** Phones bound to their own confirmed accounts (p1 → MAC1, p2 → MAC2, p3 → MAC3). */
  bound: Mac[];
  options?: Partial<ServerOptions>;
}

/** Outcome of one request: `served`, `stored`, or the refusal code. */
async function outcome(s: Setup, who: Who, transport: Transport, op: 'read' | 'write' | 'stat', path: string, address = '192.0.2.50'): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-secret-rules-data-'));
  dirs.push(data);
  const store = await openMemoryStore(join(data, 'tmp'));
  await store.accounts.put(makeAccount('site', 'site', 'site-pw', REALM));
  const accountOf: Record<string, Mac> = { p1: MAC1, p2: MAC2, p3: MAC3 };
  for (const [user, mac] of Object.entries(accountOf)) if (s.bound.includes(mac)) await store.accounts.put(makeAccount('phone', user, `${user}-pw`, REALM, mac));
  const base = loadServerOptions({ root: s.root, data }, {});
  const options = Object.freeze({ ...base, policy: 'accounts', realm: REALM, staging: true, rateLimitPerSec: 1e6, rateLimitBurst: 1e6, ...s.options } as ServerOptions);
  const core = await createBootService({ options, store, log: silent });
  try {
    const req: BootRequest = { transport, remote: { address, port: 40000 }, credentials: credentials(who, transport), op, path, signal: new AbortController().signal };
    if (op === 'write') req.body = Readable.from([Buffer.from('<PHONE_CONFIG/>\n')]);
    const r = await core.handle(req);
    if (r.kind === 'file') r.done({ bytes: r.size, durationMs: 1, status: 'ok', aborted: false });
    return r.kind === 'file' ? 'served' : r.kind === 'refused' ? r.error.code : r.kind;
  } finally {
    await core.close();
    await store.close();
  }
}

/** The names an FTP LIST of the root shows this account. */
async function listing(s: Setup, who: Who): Promise<string[]> {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-secret-rules-data-'));
  dirs.push(data);
  const store = await openMemoryStore(join(data, 'tmp'));
  await store.accounts.put(makeAccount('site', 'site', 'site-pw', REALM));
  for (const [user, mac] of [['p1', MAC1], ['p2', MAC2], ['p3', MAC3]] as const) if (s.bound.includes(mac)) await store.accounts.put(makeAccount('phone', user, `${user}-pw`, REALM, mac));
  const options = Object.freeze({ ...loadServerOptions({ root: s.root, data }, {}), policy: 'accounts', realm: REALM, staging: true } as ServerOptions);
  const core = await createBootService({ options, store, log: silent });
  try {
    const r = await core.handle({ transport: 'ftp', remote: { address: '192.0.2.50', port: 1 }, credentials: credentials(who, 'ftp'), op: 'list', path: '/', signal: new AbortController().signal });
    if (r.kind !== 'listing') throw new Error(`not a listing: ${r.kind === 'refused' ? r.error.code : r.kind}`);
    return r.entries.map((e) => e.name);
  } finally {
    await core.close();
    await store.close();
  }
}

describe('issue 13 item 6: a secret listed only by per-phone masters belongs to those phones', () => {
  let root: string;
  beforeAll(() => {
    root = tree({
      '000000000000.cfg': master('site.cfg'),
      // Phone 1's own master lists bob.cfg, which holds line 2's SIP password.
      [`${MAC1}.cfg`]: master('bob.cfg, notes.cfg, site.cfg'),
      // Phones 2 and 3 share one file with a secret (a shared-line password).
      [`${MAC2}.cfg`]: master('pair.cfg, site.cfg'),
      [`${MAC3}.cfg`]: master('pair.cfg, site.cfg'),
      'bob.cfg': '<polycomConfig reg.2.address="2002" reg.2.auth.userId="bob" reg.2.auth.password="bobs-secret"/>\n',
      'notes.cfg': '<polycomConfig reg.2.label="Bob"/>\n',
      'pair.cfg': '<polycomConfig reg.3.address="3003" reg.3.auth.password="pair-secret"/>\n',
      'site.cfg': '<polycomConfig tcpIpApp.sntp.address="pool.ntp.org"/>\n',
      // Also listed by the default master: every phone reads it (lint's PP_SEC_SHARED_SECRET), so not one phone's.
      'common.cfg': '<polycomConfig device.auth.localAdminPassword="Zx9-site"/>\n',
    });
  });
  const bound = () => ({ root, bound: [MAC1, MAC2, MAC3] });
  const unbound = () => ({ root, bound: [MAC2, MAC3] });

  // [who, transport, bound?, path, expected]
  const cases: Array<[Who, Transport, 'bound' | 'unbound', string, string]> = [
    ['p1', 'http', 'bound', 'bob.cfg', 'served'],
    ['p1', 'ftp', 'bound', 'bob.cfg', 'served'],
    ['cert1', 'https', 'bound', 'bob.cfg', 'served'],
    ['p2', 'http', 'bound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['p2', 'ftp', 'bound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['p2', 'ftps', 'bound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['cert2', 'https', 'bound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['site', 'http', 'bound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['site', 'ftp', 'bound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['PlcmSpIp', 'http', 'bound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['anonymous', 'http', 'bound', 'bob.cfg', 'PP_AUTH_REQUIRED'],
    // Unbound phone 1: its file is protected like its MAC files — no other phone's account, anyone else as before.
    ['p2', 'http', 'unbound', 'bob.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['site', 'http', 'unbound', 'bob.cfg', 'served'],
    ['PlcmSpIp', 'ftp', 'unbound', 'bob.cfg', 'served'],
    // Listed by two phones' masters: both phones' accounts, nobody else's.
    ['p2', 'http', 'bound', 'pair.cfg', 'served'],
    ['p3', 'ftp', 'bound', 'pair.cfg', 'served'],
    ['p1', 'http', 'bound', 'pair.cfg', 'PP_AUTH_WRONG_PHONE'],
    ['site', 'http', 'bound', 'pair.cfg', 'PP_AUTH_WRONG_PHONE'],
    // No secret in it: any account, as before.
    ['p2', 'http', 'bound', 'notes.cfg', 'served'],
    // A secret every phone reads is not one phone's: unchanged (lint reports it).
    ['p2', 'http', 'bound', 'site.cfg', 'served'],
  ];
  for (const [who, t, b, path, expected] of cases) {
    test(`${who} over ${t}, phone 1 ${b}: read ${path} → ${expected}`, async () => {
      expect(await outcome(b === 'bound' ? bound() : unbound(), who, t, 'read', path)).toBe(expected);
    });
  }

  test('FTP LIST of the directory shows bob.cfg to its phone only (Boot Server Security Policy: each account lists what it may read)', async () => {
    expect(await listing(bound(), 'p1')).toEqual(expect.arrayContaining(['bob.cfg', 'notes.cfg', 'site.cfg']));
    const other = await listing(bound(), 'p2');
    expect(other).toEqual(expect.arrayContaining(['pair.cfg', 'notes.cfg', 'site.cfg']));
    expect(other).not.toContain('bob.cfg');
    expect(await listing(bound(), 'site')).not.toContain('bob.cfg');
    expect(await listing(unbound(), 'site')).toContain('bob.cfg');
  });

  test('stat (FTP SIZE/MDTM) follows the same rule as read', async () => {
    expect(await outcome(bound(), 'p2', 'ftp', 'stat', 'bob.cfg')).toBe('PP_AUTH_WRONG_PHONE');
    expect(await outcome(bound(), 'p1', 'ftp', 'stat', 'bob.cfg')).toBe('served');
  });

  test('over TFTP the file holds secrets: refused outside tftpSecretAllow, and refused to an allow-listed network while phone 1 has its own account (item 8)', async () => {
    expect(await outcome(unbound(), 'anonymous', 'tftp', 'read', 'bob.cfg', '192.0.2.50')).toBe('PP_SECRET_TRANSPORT');
    expect(await outcome(unbound(), 'anonymous', 'tftp', 'read', 'bob.cfg', '127.0.0.1')).toBe('served');
    expect(await outcome(bound(), 'anonymous', 'tftp', 'read', 'bob.cfg', '127.0.0.1')).toBe('PP_AUTH_REQUIRED');
  });
});

describe('issue 13 item 7: credentials in master-file URLs make that master a secret file', () => {
  let root: string;
  beforeAll(() => {
    root = tree({
      '000000000000.cfg': master('site.cfg, ftp://prov:Pr0v-pw@10.0.0.5/site-extra.cfg'),
      // A tenant's master (a server address with a directory): not MAC-named, so only its URL makes it secret.
      'tenant/000000000000.cfg': master('site.cfg', 'https://img:Im4ge-pw@10.0.0.6/sip.ld'),
      'plain/000000000000.cfg': master('site.cfg, https://10.0.0.7/extra.cfg'),
      'site.cfg': '<polycomConfig tcpIpApp.sntp.address="pool.ntp.org"/>\n',
    });
  });
  const setup = () => ({ root, bound: [] as Mac[] });

  test('CONFIG_FILES with ftp://user:pw@: not over TFTP outside tftpSecretAllow, served inside it', async () => {
    expect(await outcome(setup(), 'anonymous', 'tftp', 'read', '000000000000.cfg', '192.0.2.50')).toBe('PP_SECRET_TRANSPORT');
    expect(await outcome(setup(), 'anonymous', 'tftp', 'read', '000000000000.cfg', '127.0.0.1')).toBe('served');
  });

  test('APP_FILE_PATH with https://user:pw@: likewise', async () => {
    expect(await outcome(setup(), 'anonymous', 'tftp', 'read', 'tenant/000000000000.cfg', '192.0.2.50')).toBe('PP_SECRET_TRANSPORT');
    expect(await outcome(setup(), 'anonymous', 'tftp', 'read', 'tenant/000000000000.cfg', '127.0.0.1')).toBe('served');
  });

  test('a URL without credentials keeps the master an ordinary file (its MAC name aside)', async () => {
    expect(await outcome({ root, bound: [], options: { tftpSecretAllow: [] } }, 'anonymous', 'tftp', 'read', 'plain/000000000000.cfg', '192.0.2.50')).toBe('served');
    expect(await outcome(setup(), 'site', 'http', 'read', '000000000000.cfg')).toBe('served');
  });
});

describe('issue 13 item 8: TFTP and phones bound to their own account', () => {
  let root: string;
  beforeAll(() => {
    root = tree({
      '000000000000.cfg': master('[PHONE_MAC_ADDRESS]-line.cfg, site.cfg'),
      [`${MAC1}-line.cfg`]: '<polycomConfig reg.1.address="1001" reg.1.auth.password="line-one-secret"/>\n',
      [`${MAC2}-line.cfg`]: '<polycomConfig reg.1.address="1002" reg.1.auth.password="line-two-secret"/>\n',
      'site.cfg': '<polycomConfig tcpIpApp.sntp.address="pool.ntp.org"/>\n',
      'overrides/.keep': '',
    });
  });
  const s = (options: Partial<ServerOptions> = {}) => ({ root, bound: [MAC1], options });

  const cases: Array<[string, 'read' | 'write', string, Partial<ServerOptions>, string]> = [
    ['bound phone, allow-listed network: its SIP password is not served', 'read', `${MAC1}-line.cfg`, {}, 'PP_AUTH_REQUIRED'],
    ['bound phone, allow-listed network: its override cannot be overwritten', 'write', `overrides/${MAC1}-phone.cfg`, {}, 'PP_AUTH_REQUIRED'],
    ['unbound phone, allow-listed network: served as before', 'read', `${MAC2}-line.cfg`, {}, 'served'],
    ['unbound phone, allow-listed network: upload stored as before', 'write', `overrides/${MAC2}-phone.cfg`, {}, 'stored'],
    ['shared file: served as before', 'read', 'site.cfg', {}, 'served'],
    ['tftpBoundPhones on: the bound phone is served', 'read', `${MAC1}-line.cfg`, { tftpBoundPhones: true }, 'served'],
    ['tftpBoundPhones on: the bound phone uploads', 'write', `overrides/${MAC1}-phone.cfg`, { tftpBoundPhones: true }, 'stored'],
  ];
  for (const [title, op, path, options, expected] of cases) {
    test(`${title} (${op} ${path} from 127.0.0.1 → ${expected})`, async () => {
      expect(await outcome(s(options), 'anonymous', 'tftp', op, path, '127.0.0.1')).toBe(expected);
    });
  }

  test('tftpBoundPhones never opens a bound phone to a network outside tftpSecretAllow', async () => {
    expect(await outcome(s({ tftpBoundPhones: true }), 'anonymous', 'tftp', 'read', `${MAC1}-line.cfg`, '192.0.2.50')).toBe('PP_AUTH_REQUIRED');
    expect(await outcome(s({ tftpBoundPhones: true }), 'anonymous', 'tftp', 'write', `overrides/${MAC1}-phone.cfg`, '192.0.2.50')).toBe('PP_SECRET_TRANSPORT');
  });

  test('the default is off (src/options.ts)', () => {
    expect(loadServerOptions({ root: '.' }, {}).tftpBoundPhones).toBe(false);
  });
});
