// Writing configuration files and contact directories. Values are escaped by construction:
// nothing reaches the output without going through escapeAttr/escapeText, so a SIP password such
// as `p"&<'>` or non-ASCII text round-trips exactly through parse → write → parse (tested with
// random values in write-xml.test.ts).
import { ProvError } from '../errors.ts';
import { CONTACT_FIELDS } from './contact-directory.ts';
import type { Contact } from './types.ts';

const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/**
 * Refuses code points XML 1.0 cannot carry at all, not even as a character reference
 * (XML 1.0 §2.2 Char: C0 controls other than TAB/LF/CR, lone surrogates, U+FFFE, U+FFFF).
 */
function checkChars(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let bad = false;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) bad = true;
    else if (c === 0xfffe || c === 0xffff) bad = true;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else bad = true;
    } else if (c >= 0xdc00 && c <= 0xdfff) bad = true;
    if (bad) {
      throw new ProvError('PP_CFG_XML_MALFORMED', `${what} contains U+${c.toString(16).toUpperCase().padStart(4, '0')}, which an XML 1.0 file cannot carry`, {
        hint: 'Remove control characters from the value.',
      });
    }
  }
}

function ref(c: number): string {
  return `&#${c};`;
}

/**
 * Attribute values: the five markup characters as entities; TAB, LF, CR as character references
 * because a parser normalises literal ones to spaces (XML 1.0 §3.3.3); C1 controls and DEL as
 * references so the file stays readable.
 */
export function escapeAttr(s: string, what = 'value'): string {
  checkChars(s, what);
  return s.replace(/[&<>"'\t\n\r\x7f-\x9f]/g, entityFor);
}

/** Text content: markup characters as entities; CR as a reference (a literal CR becomes LF, XML 1.0 §2.11). */
export function escapeText(s: string, what = 'text'): string {
  checkChars(s, what);
  return s.replace(/[&<>"'\r\x7f-\x9f]/g, entityFor);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function entityFor(ch: string): string {
  return ENTITIES[ch] ?? ref(ch.charCodeAt(0));
}

// XML 1.0 Name, restricted to what parameter and element names use in practice plus any
// non-ASCII letter; a name outside it would make the whole file unreadable.
const NAME_RE = /^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*$/u;

function checkName(name: string, what: string): void {
  if (!NAME_RE.test(name) || /^xmlns/i.test(name)) {
    throw new ProvError('PP_CFG_XML_MALFORMED', `${what} "${name}" is not a valid XML name`, {
      hint: 'Parameter names are dotted words such as reg.1.auth.userId.',
    });
  }
}

/**
 * A UCS-style configuration file. Parameters are grouped on elements named after their first
 * segment (`<reg reg.1.address=…/>`, as the UCS templates do), keeping the given order; a name
 * repeated within a run starts a new element, since one element cannot carry an attribute twice.
 */
export function writeConfigFile(params: Array<{ name: string; value: string }>, opts: { root?: string } = {}): string {
  const root = opts.root ?? 'polycomConfig';
  checkName(root, 'root element');
  let out = `${DECL}<${root}>\n`;
  let group: string | undefined;
  let names = new Set<string>();
  let open = false;
  for (const p of params) {
    checkName(p.name, 'parameter name');
    const prefix = p.name.split('.')[0]!;
    const elName = NAME_RE.test(prefix) && !/^xmlns/i.test(prefix) ? prefix : 'param';
    if (!open || elName !== group || names.has(p.name)) {
      if (open) out += '/>\n';
      out += `  <${elName}`;
      group = elName;
      names = new Set();
      open = true;
    }
    names.add(p.name);
    out += `\n    ${p.name}="${escapeAttr(p.value, p.name)}"`;
  }
  if (open) out += '/>\n';
  return `${out}</${root}>\n`;
}

/** A contact directory in the shape the phone writes (facts §6.1), known fields first in guide order. */
export function writeContactDirectory(contacts: Omit<Contact, 'pos' | 'fieldPos'>[]): string {
  let out = `${DECL}<directory>\n  <item_list>\n`;
  for (const c of contacts) {
    out += '    <item>\n';
    for (const f of CONTACT_FIELDS) {
      const v = c[f];
      if (v === undefined) continue;
      out += v === '' ? `      <${f}/>\n` : `      <${f}>${escapeText(v, f)}</${f}>\n`;
    }
    for (const [k, v] of Object.entries(c.extra ?? {})) {
      checkName(k, 'contact element');
      out += v === '' ? `      <${k}/>\n` : `      <${k}>${escapeText(v, k)}</${k}>\n`;
    }
    out += '    </item>\n';
  }
  return `${out}  </item_list>\n</directory>\n`;
}
