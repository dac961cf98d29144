// Configuration files (`sip.cfg`, `site.cfg`, `<MAC>-phone.cfg`, …): every attribute of every
// element is a parameter, whatever the element names or nesting (facts §2.1: SIP 1.x–3.x nested
// `<sip><voIpProt><server voIpProt.server.1.address=…/>`, UCS `<polycomConfig>`, WAZO's flat
// `<config …/>`, FUSION's `<PHONE><REGISTRATION …/>`). Element names are ignored, as the phone
// ignores them.
import { ProvError } from '../errors.ts';
import { isModelToken, normalizeModel } from './models.ts';
import type { ConfigFile, ModelToken, ParamEntry } from './types.ts';
import { parseXml, walkElements } from './xml.ts';

/**
 * An encrypted configuration file starts with `Crypt=` (facts §7: key strings and encrypted
 * headers look like `Crypt=1;KeyDesc=…;Digest=…`). Checked on the raw bytes, after an optional
 * UTF-8 byte-order mark and white space, because the rest is binary and must never reach the
 * XML parser.
 */
function encryptedHeaderStart(buf: Buffer): number {
  let i = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0a || buf[i] === 0x0d)) i++;
  return buf.subarray(i, i + 6).toString('latin1') === 'Crypt=' ? i : -1;
}

export function isEncryptedConfig(input: Buffer | string): boolean {
  return encryptedHeaderStart(typeof input === 'string' ? Buffer.from(input.slice(0, 64), 'utf8') : input) >= 0;
}

/** `Crypt=1;KeyDesc=site;Digest=ab…;` on the first line → { Crypt: '1', KeyDesc: 'site', Digest: 'ab…' }. */
function parseEncryptedHeader(buf: Buffer, start: number): Record<string, string> {
  let end = start;
  const limit = Math.min(buf.length, start + 4096);
  while (end < limit && buf[end] !== 0x0a && buf[end] !== 0x0d) end++;
  const header: Record<string, string> = {};
  for (const field of buf.subarray(start, end).toString('latin1').split(';')) {
    const eq = field.indexOf('=');
    if (eq <= 0) continue;
    const k = field.slice(0, eq).trim();
    // Binary ciphertext may follow on the same "line"; keep printable header values only.
    const v = field.slice(eq + 1).trim();
    if (/^[\x20-\x7e]*$/.test(k) && /^[\x20-\x7e]*$/.test(v)) header[k] = v;
  }
  return header;
}

/** XML housekeeping attributes on polycomConfig roots, never parameters (parameter names have no colon). */
function isXmlHousekeeping(name: string): boolean {
  return name === 'xmlns' || name.includes(':');
}

export function parseConfigFile(input: Buffer | string, file: string): ConfigFile {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const start = encryptedHeaderStart(buf);
  if (start >= 0) return { kind: 'encrypted', file, header: parseEncryptedHeader(buf, start) };

  const root = parseXml(input, file);
  const params: ParamEntry[] = [];
  for (const el of walkElements(root)) {
    for (const a of el.attrs) {
      if (isXmlHousekeeping(a.name)) continue;
      params.push({ name: a.name, value: a.value, pos: { file, line: a.line, column: a.column } });
    }
  }
  return { kind: 'xml', file, params };
}

/** The PP_CFG_ENCRYPTED notice for an encrypted file (info: reported, never decoded). */
export function encryptedNotice(cfg: Extract<ConfigFile, { kind: 'encrypted' }>): ProvError {
  const desc = cfg.header.KeyDesc ? ` (key "${cfg.header.KeyDesc}")` : '';
  return new ProvError('PP_CFG_ENCRYPTED', `encrypted configuration file${desc}: AES-128-CBC per the Administrator's Guide; polyprov cannot read its parameters`, {
    file: cfg.file,
    line: 1,
    column: 1,
    hint: 'The phone decrypts it with device.sec.configEncryption.key; keep a plain copy elsewhere if you want lint and explain to see its values.',
  });
}

/**
 * Model-specific parameter names end in a model token: `dir.local.contacts.maxNum.VVX1500`,
 * `call.callsPerLineKey.VVX101` (UCS, facts §2.1) or the SIP 2.x form
 * `voice.handset.rxag.adjust.IP_650`. The model returned is the master-file token (`SPIP650`).
 */
export function splitModelSuffix(name: string): { base: string; model?: ModelToken } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { base: name };
  const seg = name.slice(dot + 1);
  if (isModelToken(seg)) return { base: name.slice(0, dot), model: seg };
  // Spellings such as IP_650 or SPIP_650: need both a letter and a digit so that numeric
  // indexes (`reg.1`) and ordinary words never count as models.
  if (/[A-Za-z]/.test(seg) && /\d/.test(seg) && /^[A-Za-z]+_?\d+[A-Za-z]*$/.test(seg)) {
    const model = normalizeModel(seg);
    if (model) return { base: name.slice(0, dot), model };
  }
  return { base: name };
}
