import { describe, expect, test } from 'vitest';
import { cleanTree, lintFiles, withCode } from './lint-test-util.ts';

function dir(items: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<directory>\n<item_list>\n${items.map((i) => `<item>${i}</item>`).join('\n')}\n</item_list>\n</directory>\n`;
}

describe('lint: directory (Administrator\'s Guide, local contact directory; facts §6.1)', () => {
  test('a well-formed directory is clean', async () => {
    const f = await lintFiles(cleanTree({ 'contacts/000000000000-directory.xml': dir(['<ln>Doe</ln><fn>John</fn><ct>1001</ct><sd>1</sd><rt>1</rt><dc/><ad>0</ad><ar>0</ar><bw>0</bw><bb>0</bb>']) }));
    expect(f).toEqual([]);
  });

  test('ct "cannot be null": missing ct is an error', async () => {
    const f = await lintFiles(cleanTree({ 'contacts/000000000000-directory.xml': dir(['<fn>A</fn>', '<fn>B</fn><ct></ct>']) }));
    expect(withCode(f, 'PP_DIR_CT_MISSING')).toHaveLength(2);
  });

  test('ct "cannot be … duplicated": the second one is an error naming the first', async () => {
    const f = await lintFiles(cleanTree({ 'contacts/0004f2000001-directory.xml': dir(['<ct>1001</ct>', '<ct>1002</ct>', '<ct>1001</ct>']) }));
    const e = withCode(f, 'PP_DIR_CT_DUPLICATE');
    expect(e).toHaveLength(1);
    expect(e[0]!.line).toBe(6);
    expect(e[0]!.message).toContain('line 4');
  });

  test('fn/ln/lb: at most 40 UTF-8 bytes (not characters)', async () => {
    const ok = 'é'.repeat(20); // 40 bytes
    const bad = 'é'.repeat(21); // 42 bytes, 21 characters
    const f = await lintFiles(cleanTree({ 'contacts/000000000000-directory.xml': dir([`<fn>${ok}</fn><ct>1</ct>`, `<ln>${bad}</ln><ct>2</ct>`, `<lb>${'x'.repeat(41)}</lb><ct>3</ct>`]) }));
    expect(withCode(f, 'PP_DIR_NAME_TOO_LONG')).toHaveLength(2);
  });

  test('sd null or 1–9999, rt null or 1–21, flags 0/1', async () => {
    const f = await lintFiles(
      cleanTree({
        'contacts/000000000000-directory.xml': dir(['<ct>1</ct><sd>0</sd>', '<ct>2</ct><sd>10000</sd>', '<ct>3</ct><sd/>', '<ct>4</ct><rt>22</rt>', '<ct>5</ct><rt>21</rt>', '<ct>6</ct><ad>2</ad><bw>yes</bw>', '<ct>7</ct><sd>9999</sd>']),
      }),
    );
    expect(withCode(f, 'PP_DIR_SD_RANGE')).toHaveLength(2);
    expect(withCode(f, 'PP_DIR_RT_RANGE')).toHaveLength(1);
    expect(withCode(f, 'PP_DIR_FLAG_VALUE')).toHaveLength(2);
  });

  test('facts §6.1: IP 320/330 speed dials stop at 99', async () => {
    const files = cleanTree({ 'contacts/0004f2000001-directory.xml': dir(['<ct>1</ct><sd>150</sd>']) });
    expect(withCode(await lintFiles(files), 'PP_DIR_SD_RANGE')).toEqual([]);
    expect(withCode(await lintFiles(files, { models: { '0004f2000001': 'SPIP330' } }), 'PP_DIR_SD_RANGE')).toHaveLength(1);
  });

  test('facts §6.1: more contacts than the model holds (VVX101: 99) is an error at the first one dropped', async () => {
    const items = Array.from({ length: 100 }, (_, i) => `<ct>${1000 + i}</ct>`);
    const files = cleanTree({ 'contacts/0004f2000001-directory.xml': dir(items) });
    expect(withCode(await lintFiles(files, { model: 'VVX400' }), 'PP_DIR_TOO_MANY')).toEqual([]);
    const e = withCode(await lintFiles(files, { models: new Map([['0004f2000001', 'VVX_101']]) }), 'PP_DIR_TOO_MANY');
    expect(e).toHaveLength(1);
    expect(e[0]!.line).toBe(4 + 99);
  });
});

describe('lint: directory size set by the chain', () => {
  test('facts §6.1: dir.local.contacts.maxNum in the site file lowers the limit', async () => {
    const items = Array.from({ length: 30 }, (_, i) => `<ct>${1000 + i}</ct>`);
    const base = cleanTree({ 'contacts/000000000000-directory.xml': dir(items) });
    expect(withCode(await lintFiles(base, { model: 'VVX400' }), 'PP_DIR_TOO_MANY')).toEqual([]);
    const limited = { ...base, 'site.cfg': (base['site.cfg'] as string).replace('<httpd ', '<dir dir.local.contacts.maxNum="25"/>\n  <httpd ') };
    const e = withCode(await lintFiles(limited, { model: 'VVX400' }), 'PP_DIR_TOO_MANY');
    expect(e).toHaveLength(1);
    expect(e[0]!.message).toContain('dir.local.contacts.maxNum="25"');
    expect(e[0]!.line).toBe(4 + 25);
  });
});
