import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isProvError } from '../errors.ts';
import { parseConfigFile } from './config-file.ts';
import { CONTACT_FIELDS, parseContactDirectory } from './contact-directory.ts';
import type { Contact } from './types.ts';
import { escapeAttr, writeConfigFile, writeContactDirectory } from './write-xml.ts';

const SEED = 42;

// Any string XML 1.0 can carry (XML 1.0 §2.2 Char), weighted towards the characters that break
// naive writers: markup, quotes, white space that parsers normalise, non-ASCII, astral plane.
const nasty = fc.constantFrom('"', '&', '<', "'", '>', '\t', '\n', '\r', '\r\n', ' ', ']]>', '&amp;', 'ü', 'é', '日本', '\u{1F600}', '\u0085', '\u2028', '\u00A0');
const xmlChar = fc
  .string({ unit: 'grapheme' })
  .map((s) => s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, ''));
const value = fc.array(fc.oneof(nasty, xmlChar, fc.string()), { maxLength: 8 }).map((parts) => parts.join('').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, ''));
const segment = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,8}$/);
const paramName = fc.tuple(segment, fc.array(fc.oneof(segment, fc.nat(40).map(String)), { maxLength: 4 })).map(([a, rest]) => [a, ...rest].join('.'));

describe('writing XML', () => {
  test('issue 3, Writing XML: a password with " & < \' > and non-ASCII text round-trips exactly', () => {
    const params = [
      { name: 'reg.1.auth.password', value: `p"&<'>ü\u{1F600} \t\r\n end` },
      { name: 'reg.1.label', value: 'Alice Müller' },
    ];
    const text = writeConfigFile(params);
    const back = parseConfigFile(text, 'w.cfg');
    expect(back.kind === 'xml' && back.params.map(({ name, value: v }) => ({ name, value: v }))).toEqual(params);
  });

  test('property: random parameters round-trip parse → write → parse exactly (seeded)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name: paramName, value }), { maxLength: 30 }), (params) => {
        const once = parseConfigFile(writeConfigFile(params), 'a.cfg');
        if (once.kind !== 'xml') return false;
        const plain = once.params.map(({ name, value: v }) => ({ name, value: v }));
        expect(plain).toEqual(params);
        // And again from what we parsed.
        const twice = parseConfigFile(writeConfigFile(plain), 'b.cfg');
        expect(twice.kind === 'xml' && twice.params.map(({ name, value: v }) => ({ name, value: v }))).toEqual(params);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('property: random contact directories round-trip exactly (seeded)', () => {
    const field = fc.option(value, { nil: undefined });
    const contact = fc
      .record({
        ...Object.fromEntries(CONTACT_FIELDS.map((f) => [f, field])),
        extra: fc.option(fc.dictionary(fc.stringMatching(/^x[a-z]{1,6}$/), value, { maxKeys: 3 }), { nil: undefined }),
      })
      .map((c) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(c)) if (v !== undefined && !(k === 'extra' && Object.keys(v as object).length === 0)) out[k] = v;
        return out as Omit<Contact, 'pos' | 'fieldPos'>;
      });
    fc.assert(
      fc.property(fc.array(contact, { maxLength: 10 }), (contacts) => {
        const back = parseContactDirectory(writeContactDirectory(contacts), 'd.xml');
        expect(back.contacts.map(({ pos: _p, fieldPos: _f, ...rest }) => rest)).toEqual(contacts);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('escaping is by construction: no raw markup or normalisable white space survives in attribute values', () => {
    expect(escapeAttr(`a"b'c<d>e&f\tg\nh\ri\u0085`)).toBe('a&quot;b&apos;c&lt;d&gt;e&amp;f&#9;g&#10;h&#13;i&#133;');
  });

  test('values XML 1.0 cannot carry (C0 controls, lone surrogates) and invalid names are refused, never written broken', () => {
    for (const bad of ['\u0001', 'x\u0000', '\ud800', '\uffff']) {
      try {
        writeConfigFile([{ name: 'a.b', value: bad }]);
        expect.unreachable();
      } catch (e) {
        expect(isProvError(e) && e.code).toBe('PP_CFG_XML_MALFORMED');
      }
    }
    expect(() => writeConfigFile([{ name: 'bad name', value: '' }])).toThrow();
    expect(() => writeConfigFile([{ name: 'xmlns:x', value: '' }])).toThrow();
  });

  test('a name repeated in one run goes on its own element (XML forbids an attribute twice on one element)', () => {
    const params = [
      { name: 'a.x', value: '1' },
      { name: 'a.x', value: '2' },
    ];
    const back = parseConfigFile(writeConfigFile(params, { root: 'sip' }), 'r.cfg');
    expect(back.kind === 'xml' && back.params.map((p) => p.value)).toEqual(['1', '2']);
  });
});
