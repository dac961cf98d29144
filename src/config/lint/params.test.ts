import { describe, expect, test } from 'vitest';
import { CLEAN_SITE, cleanTree, lintFiles, withCode } from './lint-test-util.ts';

const site = (attrs: string) => CLEAN_SITE.replace('<httpd ', `<x ${attrs}/>\n  <httpd `);

describe('lint: params', () => {
  test('issue 3: an unknown parameter is a warning naming the nearest known name', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': site('reg.1.auth.pasword="x"') }));
    const w = withCode(f, 'PP_PARAM_UNKNOWN');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ severity: 'warning', file: 'site.cfg', line: 3 });
    expect(w[0]!.hint).toContain('reg.1.auth.password');
  });

  test('facts §4.2: a value outside a documented enum is an error', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': site('prov.polling.mode="weekly"') }));
    const e = withCode(f, 'PP_PARAM_BAD_VALUE');
    expect(e).toHaveLength(1);
    expect(e[0]!.severity).toBe('error');
    expect(e[0]!.message).toContain('abs, rel, random');
  });

  test('SEED-AG Syslog Menu: an integer outside its range is an error', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': site('device.syslog.facility="30"') }));
    expect(withCode(f, 'PP_PARAM_BAD_VALUE').map((x) => x.severity)).toEqual(['error']);
  });

  test('a type inferred from templates only gives a warning', async () => {
    // up.oneTouchVoiceMail ships as "0" in the templates: inferred boolean.
    const f = await lintFiles(cleanTree({ 'site.cfg': site('up.oneTouchVoiceMail="sometimes"') }));
    expect(withCode(f, 'PP_PARAM_BAD_VALUE').map((x) => x.severity)).toEqual(['warning']);
  });

  test('secret values never appear in the message', async () => {
    const f = await lintFiles(cleanTree({ 'phones/0004f2000001.cfg': '<c device.auth.localAdminPassword="s3cr3t-value" device.auth.localAdminPassword.set="maybe"/>' }));
    for (const x of f) expect(x.message + (x.hint ?? '')).not.toContain('s3cr3t-value');
    expect(withCode(f, 'PP_PARAM_BAD_VALUE')).toHaveLength(1); // the .set flag is a boolean
  });
});
