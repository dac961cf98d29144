import { describe, expect, test } from 'vitest';
import { cleanTree, lintFiles, withCode } from './lint-test-util.ts';

describe('lint: xml', () => {
  test('issue 3, The linter: the clean base tree has no findings', async () => {
    expect(await lintFiles(cleanTree())).toEqual([]);
  });

  test('facts §2.1: XML not well formed is reported with file, line and column', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': '<?xml version="1.0"?>\n<polycomConfig>\n  <httpd httpd.cfg.enabled="0">\n</polycomConfig>\n' }));
    const e = withCode(f, 'PP_CFG_XML_MALFORMED');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ file: 'site.cfg', severity: 'error' });
    expect(e[0]!.line).toBeGreaterThanOrEqual(3);
    expect(e[0]!.column).toBeGreaterThan(0);
  });

  test('facts §2.1: a bare & points at the & itself', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': '<polycomConfig\n  reg.1.label="A & B"/>\n' }));
    expect(withCode(f, 'PP_CFG_XML_MALFORMED')[0]).toMatchObject({ line: 2, column: 18 });
  });

  test('facts §7: an encrypted file (Crypt=) is info PP_CFG_ENCRYPTED, never an XML error', async () => {
    const enc = Buffer.concat([Buffer.from('Crypt=1;KeyDesc=site1;Digest=0123456789abcdef;\n'), Buffer.from([0x00, 0x9f, 0x3c, 0xff, 0x01])]);
    const f = await lintFiles(cleanTree({ 'site.cfg': enc }));
    expect(f.map((x) => x.code)).toEqual(['PP_CFG_ENCRYPTED']);
    expect(f[0]).toMatchObject({ severity: 'info', file: 'site.cfg' });
  });

  test('facts §1.1: 000000000000.cfg that is not a master file is PP_CFG_NOT_MASTER', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': '<polycomConfig httpd.cfg.enabled="0"/>' }));
    expect(withCode(f, 'PP_CFG_NOT_MASTER')).toHaveLength(1);
  });

  test('contact directory and other XML files are checked for well-formedness too', async () => {
    const f = await lintFiles(cleanTree({ 'contacts/000000000000-directory.xml': '<directory><item_list><item><ct>1</ct></item>', 'SoundPointIPLocalization/x.xml': '<a><b></a>' }));
    expect(withCode(f, 'PP_CFG_XML_MALFORMED').map((x) => x.file).sort()).toEqual(['SoundPointIPLocalization/x.xml', 'contacts/000000000000-directory.xml']);
  });
});

describe('lint: encrypted master file', () => {
  test('facts §7: "Configuration files (excluding the master configuration file) … can be encrypted": an encrypted master is an error', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': 'Crypt=1;KeyDesc=k;Digest=00;\n\u0001\u0002' }));
    expect(f.map((x) => [x.code, x.severity])).toEqual([['PP_CFG_ENCRYPTED', 'error']]);
  });
});
