import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import {
  MODELS,
  POLYCOM_ENTERPRISE,
  POLYCOM_OUIS,
  decodeOption60,
  encodeOption60,
  formatUserAgent,
  isModelToken,
  modelForPart,
  modelInfo,
  normalizeModel,
  parseMac,
  parseUserAgent,
  partNumberFor,
} from './models.ts';
import type { Mac } from './types.ts';
import { prng } from '../../test/support/prng.ts';

const SEED_AG = new URL('../../../shared/seeds/000_f22f0467e4f694fd.txt', import.meta.url);

describe('model tokens (facts §1.6)', () => {
  test('facts §1.6: every master-file token of VVX598/EDPESO/SEED-AG/GREIG is known', () => {
    const tokens = 'SPIP300 SPIP301 SPIP320 SPIP321 SPIP330 SPIP331 SPIP335 SPIP430 SPIP450 SPIP500 SPIP501 SPIP550 SPIP560 SPIP600 SPIP601 SPIP650 SPIP670 SSIP4000 SSIP5000 SSIP6000 SSIP7000 SSDuo VVX1500 VVX300 VVX310 VVX400 VVX410 VVX500 VVX600 Trio8800 VVX101 VVX150 VVX201 VVX250 VVX301 VVX311 VVX350 VVX401 VVX411 VVX450 VVX501 VVX601'.split(' ');
    for (const t of tokens) expect(isModelToken(t), t).toBe(true);
    expect(isModelToken('spip650')).toBe(false); // exact token only
    expect(isModelToken('SPIP_650')).toBe(false);
    expect(new Set(MODELS.map((m) => m.token)).size).toBe(MODELS.length);
  });

  test('facts §1.6: families', () => {
    expect(modelInfo('SPIP650')?.family).toBe('SoundPointIP');
    expect(modelInfo('SSIP6000')?.family).toBe('SoundStationIP');
    expect(modelInfo('SSDuo')?.family).toBe('SoundStationIP');
    expect(modelInfo('VVX1500')?.family).toBe('VVX');
    expect(modelInfo('Trio8800')?.family).toBe('RealPresenceTrio');
  });

  test('facts §1.6: User-Agent/DHCP underscore form and SIP 2.x IP_ suffix normalise to the master-file token', () => {
    expect(normalizeModel('SPIP_650')).toBe('SPIP650');
    expect(normalizeModel('SPIP650')).toBe('SPIP650');
    expect(normalizeModel('spip650')).toBe('SPIP650');
    expect(normalizeModel('IP_650')).toBe('SPIP650');
    expect(normalizeModel('ip_650')).toBe('SPIP650');
    expect(normalizeModel('IP_4000')).toBe('SSIP4000'); // sip-1.2.0 ipmid.cfg uses .IP_4000
    expect(normalizeModel('SSIP_6000')).toBe('SSIP6000');
    expect(normalizeModel('VVX_400')).toBe('VVX400');
    expect(normalizeModel('VVX_1500')).toBe('VVX1500');
    expect(normalizeModel('trio8800')).toBe('Trio8800');
    expect(normalizeModel('ssduo')).toBe('SSDuo');
    expect(normalizeModel('SPIP_999')).toBeUndefined();
    expect(normalizeModel('')).toBeUndefined();
  });

  test('facts §1.6 part-number table, both directions; DHCP ",N" hardware revision ignored', () => {
    const table: Record<string, string> = {
      SPIP601: '2345-11605-001', SPIP650: '2345-12600-001', SPIP430: '2345-11402-001', SPIP330: '2345-12200-001',
      SPIP320: '2345-12200-002', SPIP321: '2345-12360-001', SPIP331: '2345-12365-001', SPIP335: '2345-12375-001',
      SPIP450: '2345-12450-001', SPIP550: '2345-12500-001', SPIP560: '2345-12560-001', SPIP670: '2345-12670-001',
      SSIP6000: '3111-15600-001', SSIP5000: '3111-30900-001', SSIP7000: '3111-40000-001', VVX1500: '2345-17960-001',
      VVX101: '3111-40250-001', VVX201: '3111-40450-001', VVX500: '3111-44500-001', VVX600: '3111-44600-001',
      VVX300: '3111-46135-002', VVX400: '3111-46157-002', VVX310: '3111-46161-001', VVX410: '3111-46162-001',
      VVX301: '3111-48300-001', VVX311: '3111-48350-001', VVX401: '3111-48400-001', VVX411: '3111-48450-001',
      VVX501: '3111-48500-001', VVX601: '3111-48600-001', VVX150: '3111-48810-001', VVX250: '3111-48820-001',
      VVX350: '3111-48830-001', VVX450: '3111-48840-001',
    };
    for (const [model, part] of Object.entries(table)) {
      expect(partNumberFor(model), model).toBe(part);
      expect(modelForPart(part), part).toBe(model);
    }
    expect(modelForPart('2345-12600-001,1')).toBe('SPIP650');
    expect(partNumberFor('SPIP300')).toBeUndefined(); // no source ties a part number to it
    expect(modelForPart('9999-99999-999')).toBeUndefined();
  });

  test('facts §6.1: contacts a model holds (dir.local.contacts.maxNum and its model suffixes)', () => {
    expect(modelInfo('VVX400')?.maxContacts).toBe(500);
    expect(modelInfo('VVX101')?.maxContacts).toBe(99);
    expect(modelInfo('VVX150')?.maxContacts).toBe(99);
    expect(modelInfo('VVX201')?.maxContacts).toBe(99);
    expect(modelInfo('VVX1500')?.maxContacts).toBe(9999);
    expect(modelInfo('SPIP650')?.maxContacts).toBe(200);
  });
});

describe('provisioning User-Agent (facts §3.4)', () => {
  test('facts §3.4: serial number tag and Type/Application', () => {
    expect(parseUserAgent('FileTransport PolycomSoundPointIP-SPIP_650-UA/4.0.1.13681 (SN:0004f2123456) Type/Application')).toEqual({
      family: 'SoundPointIP', modelRaw: 'SPIP_650', model: 'SPIP650', version: '4.0.1.13681', stage: 'application', serial: '0004f2123456',
    });
    expect(parseUserAgent('FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application')?.serial).toBe('0004f249d83f');
  });

  test('facts §3.4: Type/Updater tells the updater apart from the application', () => {
    const u = parseUserAgent('FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater');
    expect(u).toMatchObject({ family: 'SoundStationIP', model: 'SSIP6000', version: '5.0.3.1667', stage: 'updater' });
    const a = parseUserAgent('FileTransport PolycomSoundStationIP-SSIP_6000-UA/4.0.4.2906 Type/Application');
    expect(a?.stage).toBe('application');
  });

  test('facts §3.4: without Type/ nothing is inferred (bootROM 3.2.1 and application 4.2.1 look alike)', () => {
    const boot = parseUserAgent('FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078');
    const app = parseUserAgent('FileTransport PolycomSoundPointIP-SPIP_335-UA/4.2.1.0275');
    expect(boot).toEqual({ family: 'SoundPointIP', modelRaw: 'SPIP_335', model: 'SPIP335', version: '3.2.1.0078' });
    expect(app?.stage).toBeUndefined();
    expect(app?.version).toBe('4.2.1.0275');
  });

  test('facts §3.4: VVX, other families, SIP User-Agent without FileTransport', () => {
    expect(parseUserAgent('FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application')).toMatchObject({ family: 'VVX', model: 'VVX400' });
    expect(parseUserAgent('FileTransport PolycomVVX-VVX_101-UA/5.4.3.1014 Type/Application')?.model).toBe('VVX101');
    expect(parseUserAgent('FileTransport PolycomVVX-VVX_501-UA/6.4.6.0123')?.model).toBe('VVX501');
    expect(parseUserAgent('PolycomSoundPointIP-SPIP_650-UA/3.1.3.0439')).toMatchObject({ model: 'SPIP650', version: '3.1.3.0439' });
    const edge = parseUserAgent('FileTransport PolyEdge-Edge_E450-UA/8.0.0.1 Type/Application');
    expect(edge).toMatchObject({ family: 'Edge', modelRaw: 'Edge_E450', stage: 'application' });
    expect(edge?.model).toBeUndefined();
    expect(parseUserAgent('curl/8.5.0')).toBeUndefined();
    expect(parseUserAgent('Mozilla/5.0 (X11; Linux x86_64)')).toBeUndefined();
  });

  test('facts §3.4: formatUserAgent round-trips through parseUserAgent', () => {
    const s = formatUserAgent({ model: 'SPIP650', version: '4.0.1.13681', stage: 'application', serial: '0004f2123456' as Mac });
    expect(s).toBe('FileTransport PolycomSoundPointIP-SPIP_650-UA/4.0.1.13681 (SN:0004f2123456) Type/Application');
    for (const m of MODELS) {
      const ua = formatUserAgent({ model: m.token, version: '5.9.8.5760', stage: 'updater' });
      expect(parseUserAgent(ua), ua).toMatchObject({ model: m.token, version: '5.9.8.5760', stage: 'updater' });
    }
    expect(formatUserAgent({ model: 'SSIP6000', version: '5.0.3.1667', stage: 'updater' })).toBe(
      'FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater',
    );
  });
});

/** Bytes 0x20–0x7e only: what survives of a binary dump in the PDF text of the guide. */
function printable(b: Buffer): string {
  let s = '';
  for (const c of b) if (c >= 0x20 && c <= 0x7e) s += String.fromCharCode(c);
  return s;
}

describe('DHCP option 60 (facts §5.2)', () => {
  test('facts §5.2 / AG-SIP3.1 Parsing Vendor ID Information: the IP 601 sample decodes', () => {
    const hex =
      '3c74' + '0000363d' + '6f' +
      '0107' + '506f6c79636f6d' +
      '0215' + '536f756e64506f696e7449502d53504950' + '5f363031' +
      '0310' + '323334352d31313630352d3030312c32' +
      '041c' + Buffer.from('SIP/Tip.XXXX/08-Jun-07 10:44').toString('hex') +
      '051d' + Buffer.from('BR/3.1.0.XXXX/28-Apr-05 13:30').toString('hex') +
      'ff';
    const buf = Buffer.from(hex, 'hex');
    const v = decodeOption60(buf);
    expect(v).toEqual({
      enterprise: 13885, company: 'Polycom', modelRaw: 'SoundPointIP-SPIP_601', model: 'SPIP601',
      partNumber: '2345-11605-001', hwRevision: '2', appVersion: 'SIP/Tip.XXXX/08-Jun-07 10:44',
      bootromVersion: 'BR/3.1.0.XXXX/28-Apr-05 13:30', stage: 'application',
    });
    // Payload without the option header and without the DHCP end option decodes the same.
    expect(decodeOption60(buf.subarray(2, buf.length - 1))).toEqual(v);
    // and encoding gives back exactly the guide's bytes (option 60 payload = 0x74 bytes).
    const enc = encodeOption60(v!);
    expect(enc.length).toBe(0x74);
    expect(enc.equals(buf.subarray(2, buf.length - 1))).toBe(true);
  });

  test("Admin Guide (SEED-AG:L1604-1607) 'a SoundPoint IP 650 might send': the garbled example decodes", () => {
    // The seed's PDF text kept only the printable bytes of the packet. Rebuild the option from the
    // layout of §5.2 and check it leaves exactly that text when the control bytes are dropped.
    const opt = Buffer.concat([
      Buffer.from([0x3c, 0x75, 0x00, 0x00, 0x36, 0x3d, 0x70]),
      Buffer.from([0x01, 0x07]), Buffer.from('Polycom'),
      Buffer.from([0x02, 0x15]), Buffer.from('SoundPointIP-SPIP_650'),
      Buffer.from([0x03, 0x10]), Buffer.from('2345-12600-001,1'),
      Buffer.from([0x04, 0x1d]), Buffer.from('BR/4.0.0.0155/23-May-07 13:35'),
      Buffer.from([0x05, 0x1d]), Buffer.from('BR/4.0.0.0155/23-May-07 13:35'),
    ]);
    // SEED-AG:L1606-1607 as printed (the PDF line break falls between "B" and "R/").
    const seedOption = '<u6=pPolycomSoundPointIP-SPIP_6502345-12600-001,1BR/4.0.0.0155/23-May-07 13:35BR/4.0.0.0155/23-May-07 13:35';
    expect(printable(opt)).toBe(seedOption);
    if (existsSync(SEED_AG)) {
      const lines = readFileSync(SEED_AG, 'utf8').split('\n');
      const at = lines.findIndex((l) => l.includes('PolycomSoundPointIP-SPIP_650'));
      const text = (lines[at]! + lines[at + 1]!).trimEnd();
      expect(text.slice(text.indexOf('<u6=p'))).toBe(seedOption);
    }

    const v = decodeOption60(opt);
    expect(v).toEqual({
      enterprise: POLYCOM_ENTERPRISE, company: 'Polycom', modelRaw: 'SoundPointIP-SPIP_650', model: 'SPIP650',
      partNumber: '2345-12600-001', hwRevision: '1', appVersion: 'BR/4.0.0.0155/23-May-07 13:35',
      bootromVersion: 'BR/4.0.0.0155/23-May-07 13:35', stage: 'bootrom',
    });
    expect(encodeOption60(v!).equals(opt.subarray(2))).toBe(true);
  });

  test('facts §5.2: malformed or truncated blobs give undefined, never a throw', () => {
    expect(decodeOption60(Buffer.alloc(0))).toBeUndefined();
    expect(decodeOption60(Buffer.from('0000363d', 'hex'))).toBeUndefined();
    expect(decodeOption60(Buffer.from('0000363d0a0107506f6c79', 'hex'))).toBeUndefined(); // list longer than data
    expect(decodeOption60(Buffer.from('0000363d0401', 'hex'))).toBeUndefined();
    expect(decodeOption60(Buffer.from('Polycom-SoundPointIP', 'latin1'))).toBeUndefined();
    // bounded fuzz: random bytes never throw
    const random = prng(42);
    const rnd = () => random.int(256);
    for (let n = 0; n < 2000; n++) {
      const b = Buffer.alloc(rnd() % 64);
      for (let i = 0; i < b.length; i++) b[i] = rnd();
      expect(() => decodeOption60(b)).not.toThrow();
    }
  });

  test('facts §5.2: encode from a model fills family-model and part number', () => {
    const buf = encodeOption60({ enterprise: 13885, company: 'Polycom', model: 'VVX410', hwRevision: '3', appVersion: 'SIP/5.9.8.5760/01-Jan-23 10:00', bootromVersion: 'BR/5.9.8.5760/01-Jan-23 10:00' });
    expect(decodeOption60(buf)).toMatchObject({ modelRaw: 'VVX-VVX_410', model: 'VVX410', partNumber: '3111-46162-001', hwRevision: '3', stage: 'application' });
  });
});

describe('MAC addresses (facts §1.1)', () => {
  test('facts §1.1: "For A-F hexadecimal digits, use upper or lower case"; separators accepted', () => {
    expect(parseMac('0004F2000001')).toBe('0004f2000001');
    expect(parseMac('00:04:f2:00:00:01')).toBe('0004f2000001');
    expect(parseMac('00-04-F2-00-00-01')).toBe('0004f2000001');
    expect(parseMac('0004.f200.0001')).toBe('0004f2000001');
    expect(parseMac('00:04-f2:00:00:01')).toBeUndefined();
    expect(parseMac('0004f200000')).toBeUndefined();
    expect(parseMac('0004f200000g')).toBeUndefined();
    expect(parseMac('000000000000')).toBe('000000000000');
  });

  test('facts §1.1: Polycom OUIs from the WAZO DHCP snippet', () => {
    expect(POLYCOM_OUIS).toEqual(['0004f2', '64167f', '482567']);
  });
});
