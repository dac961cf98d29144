// Issue 14, Tenants, over FTP and TFTP on 127.0.0.1: the real core with a fleet (a small fake
// ManagedFiles, test/support/fake-fleet.ts) behind the real FTP and TFTP listeners. FTP: an
// account reads only under its tenant's prefix; LIST under /acme/ shows acme's overlay and the
// shared files, never beta's files, another tenant's phone's files or beta's uploads, and the
// root's LIST no tenant folder. TFTP (no credentials): another tenant's MAC is "file not found";
// the managed file holds secrets, so it goes only to tftpSecretAllow networks.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeAccount } from '../../src/core/digest.ts';
import type { Mac } from '../../src/domain.ts';
import { startFtpServer, type FtpServer } from '../../src/transports/ftp/server.ts';
import { startTftpServer, type TftpServer } from '../../src/transports/tftp/server.ts';
import type { BootCore } from '../support/boot-core.ts';
import { FakeFleet, startFleetCore } from '../support/fake-fleet.ts';
import { makeTree } from '../support/tree.ts';
import { connectData, epsvPort, RawClient, readAll } from '../ftp/helpers.ts';
import { TEST_OPTIONS } from '../tftp/helpers.ts';

const A2 = '0004f2a00002';
const B1 = '0004f2b00001';
const U = '0004f2e00001';
const cfg = (v: string) => `<?xml version="1.0" standalone="yes"?>\n<polycomConfig><site site.label="${v}"/></polycomConfig>\n`;
const override = (v: string) => `<?xml version="1.0" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES reg.1.label="${v}"/></PHONE_CONFIG>\n`;

const tree = () =>
  makeTree({
    'site.cfg': cfg('shared'),
    'sip.ld': 'firmware image',
    [`${B1}-lines.cfg`]: cfg('lines of a beta phone, at the shared root'),
    'acme/000000000000.cfg': '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, site.cfg"/>\n',
    'acme/site.cfg': cfg('acme'),
    'acme/only-acme.cfg': cfg('acme only'),
    'beta/beta-only.cfg': cfg('beta only'),
  });

function newFleet(): FakeFleet {
  const fleet = new FakeFleet().addTenant('acme', 'beta');
  fleet.setPhone(A2, 'acme', { 'reg.1.address': 'a2@acme.example', 'reg.1.auth.password': 'a2-sip-secret' });
  fleet.setPhone(B1, 'beta', { 'reg.1.address': 'b1@beta.example' });
  return fleet;
}

let core: BootCore;
let ftp: FtpServer;
let tftp: TftpServer;
/** A second core whose tftpSecretAllow is empty: no network may read secret files over TFTP. */
let strict: BootCore;
let strictTftp: TftpServer;

beforeAll(async () => {
  core = await startFleetCore(tree(), newFleet(), { policy: 'accounts' });
  for (const [user, tenant] of [['acme-site', 'acme'], ['beta-site', 'beta'], ['root-site', undefined]] as const) {
    const a = makeAccount('site', user, `${user}-pw`, core.options.realm);
    if (tenant) a.tenant = tenant;
    await core.store.accounts.put(a);
  }
  ftp = await startFtpServer({ host: '127.0.0.1', port: 0, service: core.service });
  tftp = await startTftpServer({ host: '127.0.0.1', port: 0, service: core.service, options: TEST_OPTIONS });
  strict = await startFleetCore(tree(), newFleet(), { policy: 'accounts', tftpSecretAllow: [] });
  strictTftp = await startTftpServer({ host: '127.0.0.1', port: 0, service: strict.service, options: TEST_OPTIONS });
});

afterAll(async () => {
  await ftp?.close();
  await tftp?.close();
  await strictTftp?.close();
  await core?.close();
  await strict?.close();
});

async function login(user: string): Promise<RawClient> {
  const c = await RawClient.connect(ftp.address().port);
  expect((await c.reply()).code).toBe(220);
  await c.login(user, `${user}-pw`);
  return c;
}

/** RETR or LIST through an EPSV data connection: the final reply and what came over the data connection. */
async function transfer(c: RawClient, command: string): Promise<{ code: number; data: string }> {
  const epsv = await c.cmd('EPSV');
  expect(epsv.code).toBe(229);
  const data = await connectData(epsvPort(epsv.text));
  const reading = readAll(data);
  const first = await c.cmd(command);
  if (first.code >= 400) {
    reading.catch(() => undefined); // destroyed unread: neither end nor error comes
    data.destroy();
    return { code: first.code, data: '' };
  }
  const body = (await reading).toString();
  return { code: (await c.reply()).code, data: body };
}

async function stor(c: RawClient, path: string, body: string): Promise<number> {
  const epsv = await c.cmd('EPSV');
  const data = await connectData(epsvPort(epsv.text));
  c.send(`STOR ${path}`);
  const first = await c.reply();
  if (first.code >= 400) {
    data.destroy();
    return first.code;
  }
  data.end(body);
  return (await c.reply()).code;
}

const names = (listing: string) =>
  listing
    .split('\r\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/).at(-1)!);

describe('issue 14 Tenants over FTP', () => {
  test("an account of acme logs in and reads under /acme/ (overlay), never at the root or under /beta/", async () => {
    const c = await login('acme-site');
    try {
      expect(await transfer(c, 'RETR /acme/site.cfg')).toEqual({ code: 226, data: cfg('acme') });
      expect((await transfer(c, 'RETR /acme/sip.ld')).data).toBe('firmware image');
      expect((await transfer(c, 'RETR /site.cfg')).code).toBe(530);
      expect((await transfer(c, 'RETR /beta/beta-only.cfg')).code).toBe(530);
      // CWD into the tenant's prefix, then plain names, as a phone whose server address carries /acme.
      expect((await c.cmd('CWD /acme')).code).toBe(250);
      expect((await transfer(c, 'RETR only-acme.cfg')).data).toBe(cfg('acme only'));
      expect((await transfer(c, `RETR ${B1}-lines.cfg`)).code).toBe(550);
      expect((await transfer(c, `RETR managed/${B1}.cfg`)).code).toBe(550);
    } finally {
      c.close();
    }
  });

  test("LIST /acme shows acme's files and the shared ones, not beta's, not another tenant's phone's; the root's LIST no tenant folder", async () => {
    const a = await login('acme-site');
    const r = await login('root-site');
    try {
      const acme = names((await transfer(a, 'LIST /acme')).data);
      expect(acme).toEqual(expect.arrayContaining(['site.cfg', 'only-acme.cfg', 'sip.ld', '000000000000.cfg']));
      expect(acme).not.toContain('beta-only.cfg');
      expect(acme).not.toContain(`${B1}-lines.cfg`);
      expect(acme).not.toContain('beta');
      const root = names((await transfer(r, 'LIST /')).data);
      expect(root).toEqual(expect.arrayContaining(['site.cfg', 'sip.ld']));
      for (const hidden of ['acme', 'beta', 'only-acme.cfg', 'beta-only.cfg', `${B1}-lines.cfg`]) expect(root).not.toContain(hidden);
      expect((await transfer(r, 'NLST /')).data).not.toMatch(/acme|beta/);
    } finally {
      a.close();
      r.close();
    }
  });

  test("an upload under /acme/ shows in acme's LIST, never in beta's; beta can neither read nor delete it", async () => {
    const a = await login('acme-site');
    const b = await login('beta-site');
    try {
      expect(await stor(a, `/acme/${U}-phone.cfg`, override('acme'))).toBe(226);
      expect(names((await transfer(a, 'LIST /acme')).data)).toContain(`${U}-phone.cfg`);
      // The default master (beta has none) puts overrides in beta/overrides.
      expect(names((await transfer(b, 'LIST /beta/overrides')).data)).not.toContain(`${U}-phone.cfg`);
      expect(names((await transfer(b, 'LIST /beta')).data)).not.toContain(`${U}-phone.cfg`);
      expect((await transfer(b, `RETR /beta/overrides/${U}-phone.cfg`)).code).toBe(550);
      expect((await b.cmd(`DELE /beta/overrides/${U}-phone.cfg`)).code).toBe(550);
      expect((await core.stored({ mac: U as Mac, kind: 'override-phone', path: `acme/${U}-phone.cfg` }))?.toString()).toBe(override('acme'));
      expect((await transfer(a, `RETR /acme/${U}-phone.cfg`)).data).toBe(override('acme'));
    } finally {
      a.close();
      b.close();
    }
  });
});

/** A TFTP read (RFC 1350, octet, 512-byte blocks) with a bounded wait: the bytes, or the error packet's code. */
function tftpGet(port: number, file: string, timeoutMs = 5000): Promise<{ data?: Buffer; error?: number }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const parts: Buffer[] = [];
    const timer = setTimeout(() => finish(() => reject(new Error(`tftp ${file}: no answer within ${timeoutMs} ms`))), timeoutMs);
    const finish = (f: () => void) => {
      clearTimeout(timer);
      sock.close();
      f();
    };
    sock.on('message', (msg, rinfo) => {
      const op = msg.readUInt16BE(0);
      if (op === 5) return finish(() => resolve({ error: msg.readUInt16BE(2) }));
      if (op !== 3) return finish(() => reject(new Error(`tftp ${file}: opcode ${op}`)));
      const block = msg.readUInt16BE(2);
      const data = msg.subarray(4);
      if (block === parts.length + 1) parts.push(Buffer.from(data));
      const ack = Buffer.alloc(4);
      ack.writeUInt16BE(4, 0);
      ack.writeUInt16BE(block, 2);
      sock.send(ack, rinfo.port, rinfo.address);
      if (data.length < 512) finish(() => resolve({ data: Buffer.concat(parts) }));
    });
    const rrq = Buffer.concat([Buffer.from([0, 1]), Buffer.from(file), Buffer.from([0]), Buffer.from('octet'), Buffer.from([0])]);
    sock.send(rrq, port, '127.0.0.1');
  });
}

describe('issue 14 Tenants over TFTP', () => {
  test("another tenant's MAC is file-not-found (1) under /acme/ and at the root; its own tenant serves it", async () => {
    const port = tftp.address().port;
    expect(await tftpGet(port, `acme/managed/${B1}.cfg`)).toEqual({ error: 1 });
    expect(await tftpGet(port, `acme/${B1}-lines.cfg`)).toEqual({ error: 1 });
    expect(await tftpGet(port, `${B1}-lines.cfg`)).toEqual({ error: 1 });
    expect((await tftpGet(port, `beta/${B1}-lines.cfg`)).data?.toString()).toBe(cfg('lines of a beta phone, at the shared root'));
    expect((await tftpGet(port, 'acme/site.cfg')).data?.toString()).toBe(cfg('acme'));
    expect(await tftpGet(port, 'beta/only-acme.cfg')).toEqual({ error: 1 });
  });

  test('the managed file goes over TFTP to tftpSecretAllow networks only (it holds secrets), for a managed phone and an unmanaged one', async () => {
    const open = await tftpGet(tftp.address().port, `acme/managed/${A2}.cfg`);
    expect(open.data?.toString()).toContain('a2-sip-secret');
    expect((await tftpGet(tftp.address().port, `acme/managed/${U}.cfg`)).data?.length).toBeGreaterThan(0);
    const port = strictTftp.address().port;
    expect(await tftpGet(port, `acme/managed/${A2}.cfg`)).toEqual({ error: 2 });
    expect(await tftpGet(port, `acme/managed/${U}.cfg`)).toEqual({ error: 2 });
    // A shared file without secrets is still served there.
    expect((await tftpGet(port, 'acme/site.cfg')).data?.toString()).toBe(cfg('acme'));
    await strict.core.audit.flush();
    const refused = (await strict.store.audit.query({ limit: 20 })).filter((e) => e.path === `acme/managed/${A2}.cfg`);
    expect(refused[0]?.code).toBe('PP_SECRET_TRANSPORT');
  });
});
