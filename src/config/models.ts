// The model catalogue: model tokens, families, part numbers, and the two ways a phone tells
// the boot server what it is — the provisioning User-Agent (HTTP) and the DHCP option-60
// vendor class. Sources are cited as in ../shared/polycom-facts.md (§ numbers below).
import type { Mac, ModelToken, PartNumber } from './types.ts';

export type { Mac, ModelToken, PartNumber };

export type Family = 'SoundPointIP' | 'SoundStationIP' | 'VVX' | 'RealPresenceTrio' | 'Edge' | 'Other';

export interface ModelInfo {
  token: ModelToken;
  family: Family;
  name: string;
  partNumbers: PartNumber[];
  /** How many local contacts the phone holds (facts §6.1); undefined when no source gives it. */
  maxContacts?: number;
}

// facts §6.1 / §2.5: UCS 5.x features.cfg dir.local.contacts.maxNum="500", with
// .VVX101/.VVX150/.VVX201="99" and .VVX1500="9999". SoundPoint/SoundStation IP run SIP 3.x at
// most: sip.cfg 3.2.4 dir.local.volatile.maxSize="200" is the largest directory they hold.
const UCS_CONTACTS = 500;
const SIP3_CONTACTS = 200;

function m(token: ModelToken, family: Family, name: string, parts: PartNumber[], maxContacts?: number): ModelInfo {
  return Object.freeze({ token, family, name, partNumbers: Object.freeze([...parts]) as PartNumber[], maxContacts });
}

// Tokens: facts §1.6 (VVX598, EDPESO, SEED-AG, GREIG master files; OPENSPORK model suffixes).
// Part numbers: facts §1.6 table (PolyPyTools, SEED-AG, POLYFAQ). Models whose part number no
// source ties to them (IP 300/301/500/501/600, IP 4000, Duo, Trio) carry none.
export const MODELS: readonly ModelInfo[] = Object.freeze([
  m('SPIP300', 'SoundPointIP', 'SoundPoint IP 300', [], SIP3_CONTACTS),
  m('SPIP301', 'SoundPointIP', 'SoundPoint IP 301', [], SIP3_CONTACTS),
  m('SPIP320', 'SoundPointIP', 'SoundPoint IP 320', ['2345-12200-002'], SIP3_CONTACTS),
  m('SPIP321', 'SoundPointIP', 'SoundPoint IP 321', ['2345-12360-001'], SIP3_CONTACTS),
  m('SPIP330', 'SoundPointIP', 'SoundPoint IP 330', ['2345-12200-001'], SIP3_CONTACTS),
  m('SPIP331', 'SoundPointIP', 'SoundPoint IP 331', ['2345-12365-001'], SIP3_CONTACTS),
  m('SPIP335', 'SoundPointIP', 'SoundPoint IP 335', ['2345-12375-001'], SIP3_CONTACTS),
  m('SPIP430', 'SoundPointIP', 'SoundPoint IP 430', ['2345-11402-001'], SIP3_CONTACTS),
  m('SPIP450', 'SoundPointIP', 'SoundPoint IP 450', ['2345-12450-001'], SIP3_CONTACTS),
  m('SPIP500', 'SoundPointIP', 'SoundPoint IP 500', [], SIP3_CONTACTS),
  m('SPIP501', 'SoundPointIP', 'SoundPoint IP 501', [], SIP3_CONTACTS),
  m('SPIP550', 'SoundPointIP', 'SoundPoint IP 550', ['2345-12500-001'], SIP3_CONTACTS),
  m('SPIP560', 'SoundPointIP', 'SoundPoint IP 560', ['2345-12560-001'], SIP3_CONTACTS),
  m('SPIP600', 'SoundPointIP', 'SoundPoint IP 600', [], SIP3_CONTACTS),
  m('SPIP601', 'SoundPointIP', 'SoundPoint IP 601', ['2345-11605-001'], SIP3_CONTACTS),
  m('SPIP650', 'SoundPointIP', 'SoundPoint IP 650', ['2345-12600-001'], SIP3_CONTACTS),
  m('SPIP670', 'SoundPointIP', 'SoundPoint IP 670', ['2345-12670-001'], SIP3_CONTACTS),
  m('SSIP4000', 'SoundStationIP', 'SoundStation IP 4000', [], SIP3_CONTACTS),
  m('SSIP5000', 'SoundStationIP', 'SoundStation IP 5000', ['3111-30900-001'], SIP3_CONTACTS),
  m('SSIP6000', 'SoundStationIP', 'SoundStation IP 6000', ['3111-15600-001'], SIP3_CONTACTS),
  m('SSIP7000', 'SoundStationIP', 'SoundStation IP 7000', ['3111-40000-001'], SIP3_CONTACTS),
  m('SSDuo', 'SoundStationIP', 'SoundStation Duo', [], SIP3_CONTACTS),
  m('VVX101', 'VVX', 'VVX 101', ['3111-40250-001'], 99),
  m('VVX150', 'VVX', 'VVX 150', ['3111-48810-001'], 99),
  m('VVX201', 'VVX', 'VVX 201', ['3111-40450-001'], 99),
  m('VVX250', 'VVX', 'VVX 250', ['3111-48820-001'], UCS_CONTACTS),
  m('VVX300', 'VVX', 'VVX 300', ['3111-46135-002'], UCS_CONTACTS),
  m('VVX301', 'VVX', 'VVX 301', ['3111-48300-001'], UCS_CONTACTS),
  m('VVX310', 'VVX', 'VVX 310', ['3111-46161-001'], UCS_CONTACTS),
  m('VVX311', 'VVX', 'VVX 311', ['3111-48350-001'], UCS_CONTACTS),
  m('VVX350', 'VVX', 'VVX 350', ['3111-48830-001'], UCS_CONTACTS),
  m('VVX400', 'VVX', 'VVX 400', ['3111-46157-002'], UCS_CONTACTS),
  m('VVX401', 'VVX', 'VVX 401', ['3111-48400-001'], UCS_CONTACTS),
  m('VVX410', 'VVX', 'VVX 410', ['3111-46162-001'], UCS_CONTACTS),
  m('VVX411', 'VVX', 'VVX 411', ['3111-48450-001'], UCS_CONTACTS),
  m('VVX450', 'VVX', 'VVX 450', ['3111-48840-001'], UCS_CONTACTS),
  m('VVX500', 'VVX', 'VVX 500', ['3111-44500-001'], UCS_CONTACTS),
  m('VVX501', 'VVX', 'VVX 501', ['3111-48500-001'], UCS_CONTACTS),
  m('VVX600', 'VVX', 'VVX 600', ['3111-44600-001'], UCS_CONTACTS),
  m('VVX601', 'VVX', 'VVX 601', ['3111-48600-001'], UCS_CONTACTS),
  m('VVX1500', 'VVX', 'VVX 1500', ['2345-17960-001'], 9999),
  // GREIG master file: APP_FILE_PATH_Trio8800 / CONFIG_FILES_Trio8800. Contact limit not sourced.
  m('Trio8800', 'RealPresenceTrio', 'RealPresence Trio 8800', []),
]);

const BY_TOKEN = new Map<string, ModelInfo>(MODELS.map((mi) => [mi.token, mi]));
const BY_UPPER = new Map<string, ModelInfo>(MODELS.map((mi) => [mi.token.toUpperCase(), mi]));
const BY_PART = new Map<string, ModelToken>();
for (const mi of MODELS) for (const p of mi.partNumbers) BY_PART.set(p, mi.token);

/** Exact token as used in `_<MODEL>` master-file suffixes and `.MODEL` parameter suffixes. */
export function isModelToken(s: string): boolean {
  return BY_TOKEN.has(s);
}

export function modelInfo(token: ModelToken): ModelInfo | undefined {
  return BY_TOKEN.get(token) ?? BY_UPPER.get(token.toUpperCase());
}

/**
 * Any spelling a phone or a file uses for a model, to its master-file token:
 * `SPIP_650` (User-Agent, DHCP — facts §1.6: strip the underscore, as WAZO does), `spip650`,
 * `IP_650` / `IP_4000` (SIP 2.x parameter suffixes, facts §2.1: `voice.handset.rxag.adjust.IP_650`),
 * `VVX_1500`, `Trio8800`. Case-insensitive. Undefined when no known model matches.
 */
export function normalizeModel(s: string): ModelToken | undefined {
  const flat = s.trim().replace(/[\s_-]/g, '').toUpperCase();
  if (!flat) return undefined;
  const direct = BY_UPPER.get(flat);
  if (direct) return direct.token;
  // SIP 2.x suffix form names the number only: IP_650 is a SoundPoint, IP_4000 a SoundStation.
  const ip = /^IP(\d+)$/.exec(flat);
  if (ip) return (BY_UPPER.get(`SPIP${ip[1]}`) ?? BY_UPPER.get(`SSIP${ip[1]}`))?.token;
  return undefined;
}

export function partNumberFor(model: ModelToken): PartNumber | undefined {
  return modelInfo(model)?.partNumbers[0];
}

/** Part number (a trailing `,<hw revision>` as in DHCP sub-option 3 is ignored) to model token. */
export function modelForPart(part: PartNumber): ModelToken | undefined {
  return BY_PART.get(part.split(',')[0]!.trim());
}

// ---------------------------------------------------------------------------------------------
// Provisioning User-Agent (facts §3.4):
//   FileTransport Polycom<Family>-<MODEL_TOKEN>-UA/<version>[ (SN:<mac>)][ Type/<Application|Updater>]
// e.g. `FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application`.
// The SIP User-Agent has the same shape without `FileTransport ` (facts §8 item 3).
// Edge E phones send `PolyEdge` (facts §3.4, families seen).

export interface UserAgentInfo {
  family: string;
  modelRaw: string;
  model?: ModelToken;
  version: string;
  /** From `Type/`; absent when the header has no `Type/` (then nothing is inferred: facts §3.4,
   * WAZO "the version number will either be the BootROM version … or the SIP application version"). */
  stage?: 'updater' | 'application';
  serial?: Mac;
}

const UA_RE = /^(?:FileTransport\s+)?Poly(?:com)?([A-Za-z0-9]+)-(\S+?)-UA\/([0-9][0-9A-Za-z.]*)(.*)$/;

export function parseUserAgent(ua: string): UserAgentInfo | undefined {
  const mm = UA_RE.exec(ua.trim());
  if (!mm) return undefined;
  const [, family, modelRaw, version, rest] = mm as unknown as [string, string, string, string, string];
  const info: UserAgentInfo = { family, modelRaw, version };
  const model = normalizeModel(modelRaw);
  if (model) info.model = model;
  const sn = /\(SN:\s*([0-9A-Fa-f:.-]{12,17})\)/.exec(rest);
  if (sn) {
    const mac = parseMac(sn[1]!);
    if (mac) info.serial = mac;
  }
  const type = /\bType\/(\w+)/.exec(rest);
  if (type) {
    const t = type[1]!.toLowerCase();
    if (t === 'updater') info.stage = 'updater';
    else if (t === 'application') info.stage = 'application';
  }
  return info;
}

const FAMILY_UA_PREFIX: Record<Family, string> = {
  SoundPointIP: 'PolycomSoundPointIP',
  SoundStationIP: 'PolycomSoundStationIP',
  VVX: 'PolycomVVX',
  RealPresenceTrio: 'PolycomRealPresenceTrio',
  Edge: 'PolyEdge',
  Other: 'Polycom',
};

/** `SPIP650` → `SPIP_650`: the underscore form of User-Agents and DHCP (facts §1.6). */
export function modelWireName(token: ModelToken): string {
  return token.replace(/^([A-Za-z]+?)(\d+)$/, '$1_$2');
}

function familyOf(token: ModelToken): Family {
  return modelInfo(token)?.family ?? 'Other';
}

export function formatUserAgent(o: { model: ModelToken; version: string; stage: 'updater' | 'application'; serial?: Mac }): string {
  const prefix = FAMILY_UA_PREFIX[familyOf(o.model)];
  const sn = o.serial ? ` (SN:${o.serial})` : '';
  const type = o.stage === 'updater' ? 'Updater' : 'Application';
  return `FileTransport ${prefix}-${modelWireName(o.model)}-UA/${o.version}${sn} Type/${type}`;
}

// ---------------------------------------------------------------------------------------------
// DHCP option 60 vendor class (facts §5.2; AG-SIP2.2 p.C-16, AG-SIP3.1 "Parsing Vendor ID
// Information"; RFC 3925 V-I vendor class layout carried in option 60):
//
//   00 00 36 3d        enterprise number 13885 (4 octets, big endian)
//   <len>              length of the sub-option list (1 octet)
//   01 <n> "Polycom"                         company
//   02 <n> "SoundPointIP-SPIP_601"           family-model
//   03 <n> "2345-11605-001,2"                part number "," hardware revision
//   04 <n> "SIP/Tip.XXXX/08-Jun-07 10:44"    application version  (apptype/build/date)
//   05 <n> "BR/3.1.0.XXXX/28-Apr-05 13:30"   bootROM version
//
// The guide's IP 601 dump has `3c 74 … 6f … ff`: 0x74 = 4 + 1 + 0x6f, so the trailing `ff` is the
// DHCP end option after option 60, not part of it; a trailing ff is tolerated when decoding.
// "For the BootROM, sub-option 4 and sub-option 5 will contain the same string" (apptype BR).

export const POLYCOM_ENTERPRISE = 13885;

export interface VendorClass {
  enterprise: number;
  company?: string;
  /** Sub-option 2 verbatim, e.g. `SoundPointIP-SPIP_650`. */
  modelRaw?: string;
  model?: ModelToken;
  partNumber?: PartNumber;
  hwRevision?: string;
  appVersion?: string;
  bootromVersion?: string;
  stage?: 'bootrom' | 'application';
}

/** Decodes the option-60 payload (without code and length; a leading `3c <len>` is also accepted). */
export function decodeOption60(buf: Buffer): VendorClass | undefined {
  let b = buf;
  // A leading option header `3c <len>` (as in the guide's dumps) is stripped; a raw payload
  // starts with the enterprise number's high byte instead.
  if (b.length >= 2 && b[0] === 0x3c && (b[1] === b.length - 2 || (b[1] === b.length - 3 && b[b.length - 1] === 0xff))) {
    b = b.subarray(2, 2 + b[1]!);
  }
  if (b.length < 5) return undefined;
  const enterprise = b.readUInt32BE(0);
  const listLen = b[4]!;
  const end = 5 + listLen;
  if (end > b.length) return undefined;
  // After the list only an end option (0xff) may follow.
  for (let i = end; i < b.length; i++) if (b[i] !== 0xff) return undefined;
  const v: VendorClass = { enterprise };
  let i = 5;
  while (i < end) {
    const code = b[i]!;
    if (code === 0xff) break;
    if (i + 1 >= end) return undefined;
    const len = b[i + 1]!;
    if (i + 2 + len > end) return undefined;
    const text = b.toString('latin1', i + 2, i + 2 + len);
    i += 2 + len;
    switch (code) {
      case 1:
        v.company = text;
        break;
      case 2: {
        v.modelRaw = text;
        const model = normalizeModel(text.slice(text.lastIndexOf('-') + 1));
        if (model) v.model = model;
        break;
      }
      case 3: {
        const comma = text.indexOf(',');
        v.partNumber = (comma < 0 ? text : text.slice(0, comma)).trim();
        if (comma >= 0) v.hwRevision = text.slice(comma + 1).trim();
        if (!v.model) {
          const model = modelForPart(v.partNumber);
          if (model) v.model = model;
        }
        break;
      }
      case 4:
        v.appVersion = text;
        break;
      case 5:
        v.bootromVersion = text;
        break;
      default:
        break; // unknown sub-options are skipped, as RFC 3925 readers do
    }
  }
  if (v.appVersion !== undefined) v.stage = /^BR\//.test(v.appVersion) ? 'bootrom' : 'application';
  return v;
}

/** Encodes the option-60 payload (without the option code and length). */
export function encodeOption60(v: VendorClass): Buffer {
  const subs: Buffer[] = [];
  const add = (code: number, text: string | undefined) => {
    if (text === undefined) return;
    const data = Buffer.from(text, 'latin1');
    if (data.length > 255) throw new RangeError(`option 60 sub-option ${code} longer than 255 bytes`);
    subs.push(Buffer.from([code, data.length]), data);
  };
  add(1, v.company);
  let modelRaw = v.modelRaw;
  if (modelRaw === undefined && v.model) modelRaw = `${familyOf(v.model)}-${modelWireName(v.model)}`;
  add(2, modelRaw);
  const part = v.partNumber ?? (v.model ? partNumberFor(v.model) : undefined);
  if (part !== undefined) add(3, v.hwRevision !== undefined ? `${part},${v.hwRevision}` : part);
  add(4, v.appVersion);
  add(5, v.bootromVersion);
  const list = Buffer.concat(subs);
  if (list.length > 255 - 5) throw new RangeError('option 60 vendor class longer than 255 bytes');
  const head = Buffer.alloc(5);
  head.writeUInt32BE(v.enterprise >>> 0, 0);
  head[4] = list.length;
  return Buffer.concat([head, list]);
}

// ---------------------------------------------------------------------------------------------
// MAC addresses. Phones name files with 12 hex digits, either case (facts §1.1).

/** Polycom OUIs (WAZO DHCP snippet, facts §1.1): 00:04:f2, 64:16:7f, 48:25:67. */
export const POLYCOM_OUIS: readonly string[] = Object.freeze(['0004f2', '64167f', '482567']);

/** Accepts `0004F2000001`, `00:04:f2:00:00:01`, `00-04-f2-00-00-01`, `0004.f200.0001`. */
export function parseMac(s: string): Mac | undefined {
  const t = s.trim();
  if (/^[0-9A-Fa-f]{12}$/.test(t)) return t.toLowerCase() as Mac;
  if (/^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(t)) return t.replace(/[:-]/g, '').toLowerCase() as Mac;
  if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(t)) return t.replace(/\./g, '').toLowerCase() as Mac;
  return undefined;
}

export function isPolycomMac(mac: Mac): boolean {
  return POLYCOM_OUIS.includes(mac.slice(0, 6));
}
