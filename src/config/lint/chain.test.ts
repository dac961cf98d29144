import { describe, expect, test } from 'vitest';
import { CLEAN_SITE, cleanTree, lintFiles, withCode } from './lint-test-util.ts';

describe('lint: chain', () => {
  test('white paper, CONFIG_FILES: "the leftmost files take precedence" — the loser is reported with the winner', async () => {
    const f = await lintFiles(
      cleanTree({
        '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="phone1.cfg, site.cfg"/>',
        'phone1.cfg': '<p voIpProt.server.1.address="sip.example.org"/>',
      }),
    );
    const i = withCode(f, 'PP_PARAM_SHADOWED');
    expect(i).toHaveLength(1);
    expect(i[0]).toMatchObject({ severity: 'info', file: 'site.cfg', line: 4 });
    expect(i[0]!.message).toContain('phone1.cfg:1');
  });

  test('white paper, Default Configuration Parameter Values: <MAC>-phone.cfg beats CONFIG_FILES', async () => {
    const f = await lintFiles(cleanTree({ 'overrides/0004f2000001-phone.cfg': '<OVERRIDES voIpProt.server.1.address="10.0.0.1"/>' }));
    const i = withCode(f, 'PP_PARAM_SHADOWED');
    expect(i).toHaveLength(1);
    expect(i[0]!.file).toBe('site.cfg');
    expect(i[0]!.message).toContain('overrides/0004f2000001-phone.cfg');
  });

  test('files of different phones do not shadow each other', async () => {
    const f = await lintFiles(
      cleanTree({
        'phones/0004f2000001.cfg': '<p reg.1.address="1001"/>',
        'phones/0004f2000002.cfg': '<p reg.1.address="1002"/>',
      }),
    );
    expect(withCode(f, 'PP_PARAM_SHADOWED')).toEqual([]);
  });

  test('white paper: inside one file "top to bottom" — a second occurrence is reported', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': CLEAN_SITE.replace('<httpd ', '<a reg.1.label="x"/><b reg.1.label="y"/>\n  <httpd ') }));
    const i = withCode(f, 'PP_PARAM_SHADOWED');
    expect(i).toHaveLength(1);
    expect(i[0]!.message).toContain('set twice');
  });
});
