import { describe, expect, test } from 'vitest';
import { isProvError } from '../errors.ts';
import { parseContactDirectory } from './contact-directory.ts';

describe('contact directory', () => {
  test('facts §6.1, SIP 1.2.0 template: <directory><item_list><item> with every field', () => {
    const d = parseContactDirectory(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<directory>\n <item_list>\n  <item>\n   <ln>Doe</ln><fn>John</fn><ct>1001</ct><sd>1</sd><rt>1</rt>\n   <dc/><ad>0</ad><ar>0</ar><bw>0</bw><bb>0</bb><lb>JD</lb><pt>SIP</pt>\n  </item>\n </item_list>\n</directory>',
      'dir.xml',
    );
    expect(d.file).toBe('dir.xml');
    expect(d.contacts).toHaveLength(1);
    const c = d.contacts[0]!;
    expect({ ...c, pos: undefined, fieldPos: undefined }).toEqual({
      ln: 'Doe', fn: 'John', ct: '1001', sd: '1', rt: '1', dc: '', ad: '0', ar: '0', bw: '0', bb: '0', lb: 'JD', pt: 'SIP', pos: undefined, fieldPos: undefined,
    });
    expect(c.pos).toEqual({ file: 'dir.xml', line: 4, column: 3 });
    expect(c.fieldPos?.fn).toEqual({ file: 'dir.xml', line: 5, column: 16 });
    expect(c.fieldPos?.dc).toEqual({ file: 'dir.xml', line: 6, column: 4 });
  });

  test('SIP 3.1 Administrator\'s Guide: "Elements can appear in any order"; unknown children kept in extra', () => {
    const d = parseContactDirectory('<directory><item_list><item><ct>sip:a@b</ct><custom>x</custom><fn>A &amp; B</fn></item><item><fn>Only</fn></item></item_list></directory>', 'd.xml');
    expect(d.contacts[0]).toMatchObject({ ct: 'sip:a@b', fn: 'A & B', extra: { custom: 'x' } });
    expect(d.contacts[1]!.ct).toBeUndefined();
    expect(d.contacts[1]!.fn).toBe('Only');
  });

  test('an empty directory has no contacts; malformed XML is refused with its position', () => {
    expect(parseContactDirectory('<directory><item_list/></directory>', 'd.xml').contacts).toEqual([]);
    try {
      parseContactDirectory('<directory><item_list><item><fn>x</item></item_list></directory>', 'd.xml');
      expect.unreachable();
    } catch (e) {
      expect(isProvError(e) && e.code).toBe('PP_CFG_XML_MALFORMED');
      expect(isProvError(e) && e.line).toBe(1);
    }
  });
});
