// A small, strict XML reader for Polycom provisioning files, built on saxes.
//
// Polycom files are plain XML 1.0: attributes carry the data (master files, configuration
// files) or short text elements do (contact directories). The phone ignores element names
// (facts §2.1), so all callers need is an element tree with exact 1-based positions for every
// element and attribute, so that lint and explain can point at `file:line:column`.
//
// Accepted as real files have them (facts §2.1): a UTF-8 byte-order mark (SIP 3.2.4 sip.cfg),
// comments, `standalone="yes"`, no encoding declaration (SIP 1.x). Anything not well formed is
// refused with PP_CFG_XML_MALFORMED and the position saxes stopped at.
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { ProvError } from '../errors.ts';

export interface XmlAttr {
  name: string;
  value: string;
  line: number;
  column: number;
}

export interface XmlElement {
  name: string;
  attrs: XmlAttr[];
  children: XmlElement[];
  /** The element's own character data (text and CDATA children concatenated, entities decoded). */
  text: string;
  line: number;
  column: number;
}

/** Maps string offsets to 1-based line and column (columns count UTF-16 code units, as editors do). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // XML 2.11 end-of-line handling: CR LF, lone CR and LF each end a line.
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  pos(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

const BOM = '\uFEFF';

/**
 * Bytes to text. UTF-8 unless the XML declaration names a single-byte encoding; invalid UTF-8 is
 * refused with the byte offset (a phone would reject the file too).
 */
export function decodeXmlText(input: Buffer | string, file: string): string {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    if (input.length >= 2 && ((input[0] === 0xfe && input[1] === 0xff) || (input[0] === 0xff && input[1] === 0xfe))) {
      throw new ProvError('PP_CFG_XML_MALFORMED', 'the file is UTF-16 encoded; Polycom phones read UTF-8 configuration files', {
        file,
        line: 1,
        column: 1,
        hint: 'Save the file as UTF-8.',
      });
    }
    const head = input.subarray(0, 200).toString('latin1');
    const enc = /^(?:\uFEFF|\u00EF\u00BB\u00BF)?\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
    if (enc && /^(iso-8859-1|latin-?1|us-ascii|ascii|windows-1252|cp1252)$/.test(enc)) {
      text = new TextDecoder(enc === 'ascii' || enc === 'us-ascii' ? 'windows-1252' : enc).decode(input);
    } else {
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
      } catch (cause) {
        const at = firstInvalidUtf8(input);
        const before = input.subarray(0, at).toString('utf8');
        const p = new LineIndex(before).pos(before.length);
        throw new ProvError('PP_CFG_XML_MALFORMED', `invalid UTF-8 byte 0x${(input[at] ?? 0).toString(16).padStart(2, '0')} at byte ${at}`, {
          file,
          line: p.line,
          column: p.column,
          hint: 'Save the file as UTF-8 (or declare encoding="ISO-8859-1" if it really is Latin-1).',
          cause,
        });
      }
    }
  }
  return text.startsWith(BOM) ? text.slice(1) : text;
}

function firstInvalidUtf8(buf: Buffer): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = buf.length;
  // Binary search for the shortest invalid prefix; a prefix ending inside a sequence is
  // "invalid" too, so step back to the sequence start afterwards.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      dec.decode(buf.subarray(0, mid + 1));
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  let at = lo;
  while (at > 0 && (buf[at]! & 0xc0) === 0x80 && lo - at < 3) at--;
  return (buf[at]! & 0xc0) === 0x80 || buf[at]! < 0x80 ? lo : at;
}

/** Actionable hints for the messages saxes gives most often on hand-edited files. */
function hintFor(msg: string): string | undefined {
  if (/entity|semi-colon|character reference/i.test(msg)) return 'Write a literal & as &amp; (and < as &lt;) inside attribute values and text.';
  if (/unquoted attribute/i.test(msg)) return 'Put every attribute value in double quotes: name="value".';
  if (/unclosed tag|unexpected end/i.test(msg)) return 'Close every element: <x .../> or <x>...</x>.';
  if (/unmatched closing tag|unexpected close tag/i.test(msg)) return 'Check the element names of opening and closing tags match.';
  if (/disallowed character/i.test(msg)) return 'Escape < as &lt; and & as &amp;; remove control characters.';
  if (/outside of root|only one root|document must contain/i.test(msg)) return 'A file has exactly one root element; wrap everything in it.';
  if (/no whitespace between attributes/i.test(msg)) return 'Separate attributes with a space.';
  return undefined;
}

/**
 * Parses a whole document into an element tree. Throws ProvError PP_CFG_XML_MALFORMED (or
 * PP_CFG_DUPLICATE_ATTR) carrying file, line and column.
 */
export function parseXml(input: Buffer | string, file: string): XmlElement {
  const text = decodeXmlText(input, file);
  const lines = new LineIndex(text);
  const parser = new SaxesParser({ position: true, xmlns: false, fileName: file });

  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  let pendingAttrs: XmlAttr[] = [];
  let seen = new Set<string>();

  const fail = (message: string, offset: number, code: 'PP_CFG_XML_MALFORMED' | 'PP_CFG_DUPLICATE_ATTR' = 'PP_CFG_XML_MALFORMED'): never => {
    const p = lines.pos(Math.max(0, Math.min(offset, text.length)));
    throw new ProvError(code, message, { file, line: p.line, column: p.column, hint: code === 'PP_CFG_XML_MALFORMED' ? hintFor(message) : undefined });
  };

  parser.on('error', (err) => {
    // saxes prefixes "file:line:col: "; we carry the position separately.
    const msg = err.message.replace(/^.*?:\d+:\d+: /, '');
    let offset = parser.position - 1;
    // The commonest hand-editing mistake is a bare & (`CONFIG_FILES="a&b.cfg"`); saxes then
    // reads on to a later, confusing symptom. Name the & itself when it comes first.
    const amp = firstBareAmpersand(text);
    if (amp >= 0 && amp <= offset) fail('XML is not well formed: a bare & that does not start an entity such as &amp;', amp);
    const open = stack[stack.length - 1];
    if (/^unclosed tag/.test(msg) && open) {
      throw new ProvError('PP_CFG_XML_MALFORMED', `XML is not well formed: element <${open.name}> is never closed`, {
        file,
        line: open.line,
        column: open.column,
        hint: hintFor(msg),
      });
    }
    fail(`XML is not well formed: ${msg}`, offset);
  });
  parser.on('opentagstart', () => {
    pendingAttrs = [];
    seen = new Set();
  });
  parser.on('attribute', (attr) => {
    // Fired just after the closing quote. Walk back over value, '=', blanks to the name so the
    // position points at the attribute's first character.
    const end = parser.position - 1; // index of the closing quote
    const q = text[end];
    let at = end;
    if (q === '"' || q === "'") {
      at = text.lastIndexOf(q, end - 1) - 1;
      while (at > 0 && /[\s=]/.test(text[at]!)) at--;
      at = at - attr.name.length + 1;
    }
    if (seen.has(attr.name)) {
      fail(`attribute ${attr.name} is set twice on one element; the phone would keep only one of the values`, at, 'PP_CFG_DUPLICATE_ATTR');
    }
    seen.add(attr.name);
    const p = lines.pos(at);
    pendingAttrs.push({ name: attr.name, value: attr.value, line: p.line, column: p.column });
  });
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const start = text.lastIndexOf('<', parser.position - 1);
    const p = lines.pos(Math.max(0, start));
    const el: XmlElement = { name: tag.name, attrs: pendingAttrs, children: [], text: '', line: p.line, column: p.column };
    pendingAttrs = [];
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    if (!tag.isSelfClosing) stack.push(el);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });

  parser.write(text).close();
  if (!root) fail('XML is not well formed: the document has no root element', text.length);
  return root!;
}

/** Offset of the first & outside comments and CDATA that does not begin a reference, or -1. */
function firstBareAmpersand(text: string): number {
  const re = /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|&(?!#[0-9]+;|#x[0-9A-Fa-f]+;|[A-Za-z_][\w.-]*;)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) if (m[0] === '&') return m.index;
  return -1;
}

/** Every element of the tree, depth first, in document order. */
export function* walkElements(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of el.children) yield* walkElements(c);
}
