// Contact directory (`<MAC>-directory.xml`, `000000000000-directory.xml`): facts §6.1.
//   <directory><item_list><item><fn/><ln/><ct/><sd/><rt/><dc/><ad/><ar/><bw/><bb/><lb/><pt/></item>…
// "Elements can appear in any order" (SIP 3.1 Administrator's Guide, local contact directory).
// Unknown child elements are kept in `extra` so that nothing is lost on a rewrite.
import type { Contact, ContactDirectory, SourcePos } from './types.ts';
import { parseXml, type XmlElement } from './xml.ts';

export const CONTACT_FIELDS = ['fn', 'ln', 'ct', 'sd', 'rt', 'dc', 'ad', 'ar', 'bw', 'bb', 'lb', 'pt'] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];
const FIELD_SET: ReadonlySet<string> = new Set(CONTACT_FIELDS);

function itemsOf(root: XmlElement): XmlElement[] {
  // <directory><item_list><item>; an <item> straight under the root is read too, since the
  // phone is forgiving about wrappers and rewriting the file fixes the shape.
  const out: XmlElement[] = [];
  for (const c of root.children) {
    if (c.name === 'item_list') out.push(...c.children.filter((i) => i.name === 'item'));
    else if (c.name === 'item') out.push(c);
  }
  return out;
}

export function parseContactDirectory(input: Buffer | string, file: string): ContactDirectory {
  const root = parseXml(input, file);
  const contacts: Contact[] = [];
  for (const item of itemsOf(root)) {
    const c: Contact = { pos: { file, line: item.line, column: item.column } };
    const fieldPos: Partial<Record<string, SourcePos>> = {};
    for (const f of item.children) {
      // The first occurrence of a field counts; a second <fn> in one item is ignored.
      if (fieldPos[f.name]) continue;
      fieldPos[f.name] = { file, line: f.line, column: f.column };
      if (FIELD_SET.has(f.name)) c[f.name as ContactField] = f.text;
      else (c.extra ??= {})[f.name] = f.text;
    }
    c.fieldPos = fieldPos;
    contacts.push(c);
  }
  return { file, contacts };
}
