import { describe, expect, test } from 'vitest';
import { checkFleetName, checkSetting, checkSettingName, settingProblem } from './validate.ts';
import { thrown } from '../../test/support/thrown.ts';

describe('checking managed settings against the catalogue (issue 14, Model: "Each value is checked against the parameter catalogue")', () => {
  test('issue 14 Model: known names pass; secrets are told apart', () => {
    expect(checkSetting('reg.1.address', '1001')).toEqual({ secret: false });
    expect(checkSetting('reg.1.auth.password', 'p"&<\'>')).toEqual({ secret: true });
    expect(checkSetting('device.auth.localAdminPassword', 'x')).toEqual({ secret: true });
    expect(checkSetting('voIpProt.server.1.port', '5060')).toEqual({ secret: false });
    expect(checkSetting('prov.polling.mode', 'rel')).toEqual({ secret: false });
  });

  test('issue 14 Model: reg.N.* works for any line number, as lint takes it', () => {
    for (const n of [1, 2, 12, 34]) {
      expect(checkSetting(`reg.${n}.auth.userId`, 'alice')).toEqual({ secret: false });
      expect(checkSetting(`reg.${n}.auth.password`, 'pw')).toEqual({ secret: true });
    }
  });

  test('issue 14 Model: an unknown name → PP_FLEET_PARAM_UNKNOWN naming the nearest known name', () => {
    const e = thrown(() => checkSetting('reg.1.adress', '1001'));
    expect(e.code).toBe('PP_FLEET_PARAM_UNKNOWN');
    expect(e.message).toBe('unknown parameter "reg.1.adress" (did you mean "reg.1.address"?)');
    const far = thrown(() => checkSetting('zzqq.nothing.like.it', '1'));
    expect(far.code).toBe('PP_FLEET_PARAM_UNKNOWN');
    expect(far.message).toBe('unknown parameter "zzqq.nothing.like.it"');
  });

  test('issue 14 Model: a zero-padded index is not a name phones know; the fix is suggested', () => {
    const e = thrown(() => checkSetting('reg.01.address', '1001'));
    expect(e.code).toBe('PP_FLEET_PARAM_UNKNOWN');
    expect(e.message).toContain('did you mean "reg.1.address"');
  });

  test('issue 14 Model: a value out of range → PP_FLEET_PARAM_INVALID saying the allowed range', () => {
    const e = thrown(() => checkSetting('voIpProt.server.1.port', '70000'));
    expect(e.code).toBe('PP_FLEET_PARAM_INVALID');
    expect(e.message).toMatch(/^voIpProt\.server\.1\.port: 70000 is above the maximum 65535.*allowed: a whole number from 0 to 65535$/);
    expect(thrown(() => checkSetting('prov.polling.mode', 'sometimes')).message).toContain('allowed: one of abs, rel, random');
    expect(thrown(() => checkSetting('device.dhcp.enabled', 'yes')).message).toContain('allowed: 0 or 1');
    expect(thrown(() => checkSetting('prov.polling.time', '25:00')).message).toContain('allowed: a time of day HH:MM');
  });

  test('issue 14 Model: a value an XML file cannot carry is refused (the rendered file would be unreadable)', () => {
    const e = thrown(() => checkSetting('reg.1.auth.password', 'a\u0000b'));
    expect(e.code).toBe('PP_FLEET_PARAM_INVALID');
    expect(e.message).toContain('U+0000');
    expect(e.message).not.toContain('a\u0000b');
    expect(checkSetting('reg.1.label', 'tab\there')).toEqual({ secret: false });
  });

  test('issue 14 Model: a type only inferred from templates does not refuse a value (lint only warns there)', () => {
    expect(checkSetting('SCEP.certPoll.retryCount', 'not-a-number')).toEqual({ secret: false });
  });

  test('issue 14 Model: the empty value (the built-in default) is accepted for any type', () => {
    expect(settingProblem('voIpProt.server.1.port', '')).toBeUndefined();
  });

  test('issue 14 Model: a name alone (settings unset) is checked for existence only', () => {
    expect(checkSettingName('reg.3.auth.password')).toEqual({ secret: true });
    expect(thrown(() => checkSettingName('reg.3.auth.pasword')).code).toBe('PP_FLEET_PARAM_UNKNOWN');
  });

  test('issue 14 Model: checkFleetName is exported here too', () => {
    expect(thrown(() => checkFleetName('tenant', 'ACME')).code).toBe('PP_FLEET_SCOPE_INVALID');
  });
});
