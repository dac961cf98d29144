import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { PARAMS, isSecretParam, lookupParam, nearestParam, validateParamValue } from './params.ts';
import { splitParamName } from './param-name.ts';

const REAL = new URL('../../../shared/real-configs/', import.meta.url);

describe('parameter names', () => {
  test('facts §2.5: reg.N.* indexes become x; model suffixes (facts §2.1) are not indexes', () => {
    expect(splitParamName('reg.1.auth.password')).toEqual({ pattern: 'reg.x.auth.password', base: 'reg.1.auth.password', indexes: [1] });
    expect(splitParamName('reg.2.server.3.address').pattern).toBe('reg.x.server.x.address');
    expect(splitParamName('dir.local.contacts.maxNum.VVX1500')).toMatchObject({ pattern: 'dir.local.contacts.maxNum', model: 'VVX1500' });
    expect(splitParamName('voice.handset.rxag.adjust.IP_650')).toMatchObject({ pattern: 'voice.handset.rxag.adjust', model: 'SPIP650' });
    expect(splitParamName('dir.local.nonVolatile.maxSize.2meg').pattern).toBe('dir.local.nonVolatile.maxSize.2meg');
    expect(splitParamName('feature.VVXD60.allowLineMappings').model).toBeUndefined();
  });
});

describe('catalogue contents (issue 3, Parameter catalogue)', () => {
  test('every family the documents name is present', () => {
    for (const fam of ['reg.x.', 'voIpProt.', 'device.', 'prov.', 'log.', 'dir.', 'httpd.', 'tcpIpApp.', 'feature.', 'up.', 'sec.']) {
      expect(PARAMS.some((p) => p.name.startsWith(fam)), fam).toBe(true);
    }
  });

  test('facts §4.2: prov.polling.* types, enum and defaults', () => {
    expect(lookupParam('prov.polling.mode')).toMatchObject({ type: 'enum', values: ['abs', 'rel', 'random'], default: 'abs' });
    expect(lookupParam('prov.polling.enabled')).toMatchObject({ type: 'boolean', default: '0' });
    expect(lookupParam('prov.polling.period')).toMatchObject({ type: 'integer', default: '86400' });
    expect(lookupParam('prov.polling.time')).toMatchObject({ type: 'time', default: '03:00' });
  });

  test('facts §2.4: device.* are device (flash) settings; .set companions are booleans', () => {
    expect(lookupParam('device.net.vlanId')).toMatchObject({ device: true, type: 'integer', min: 0, max: 4095 });
    expect(lookupParam('device.net.vlanId.set')).toMatchObject({ type: 'boolean', device: true, secret: false });
    expect(lookupParam('device.set')).toMatchObject({ type: 'boolean', device: true });
    expect(lookupParam('reg.1.address')?.device).toBe(false);
    // a .set companion is synthesised for any catalogued parameter
    expect(lookupParam('device.prov.serverName.set')?.type).toBe('boolean');
  });

  test('facts §2.5: template defaults come through, by index and by model suffix', () => {
    expect(lookupParam('voIpProt.SIP.specialEvent.checkSync.alwaysReboot')).toMatchObject({ type: 'boolean', default: '0' });
    expect(lookupParam('httpd.cfg.enabled')).toMatchObject({ type: 'boolean', default: '1' });
    expect(lookupParam('reg.7.auth.password')?.name).toBe('reg.x.auth.password');
    expect(lookupParam('dir.local.contacts.maxNum')?.default).toBe('500');
    expect(lookupParam('dir.local.contacts.maxNum.VVX1500')?.default).toBe('9999');
    expect(lookupParam('dir.local.contacts.maxNum.VVX101')?.default).toBe('99');
    expect(lookupParam('no.such.parameter')).toBeUndefined();
  });

  test('SEED-AG:L1180: device.prov.serverType takes 0-4 or the protocol names', () => {
    const d = lookupParam('device.prov.serverType')!;
    expect(validateParamValue(d, '2')).toBeUndefined();
    expect(validateParamValue(d, 'HTTPS')).toBeUndefined();
    expect(validateParamValue(d, 'SMB')).toMatch(/not one of/);
  });

  test('secrets: passwords, PINs and keys, for catalogued and unknown names (facts §2.4, §7)', () => {
    for (const n of ['reg.1.auth.password', 'device.auth.localAdminPassword', 'device.auth.localUserPassword', 'device.prov.password',
      'device.sec.configEncryption.key', 'dir.corp.password', 'reg.2.pin', 'device.wifi.wep.key1', 'device.wifi.psk.key']) {
      expect(isSecretParam(n), n).toBe(true);
    }
    for (const n of ['reg.1.auth.userId', 'device.prov.user', 'log.level.change.key', 'call.internationalPrefix.key', 'device.prov.password.set',
      'up.echoPasswordDigits', 'reg.1.auth.usePinCredentials']) {
      expect(isSecretParam(n), n).toBe(false);
    }
    // not in the catalogue: by name
    expect(isSecretParam('acme.widget.adminPassword')).toBe(true);
    expect(isSecretParam('acme.widget.colour')).toBe(false);
  });
});

describe('validateParamValue', () => {
  test('booleans are "0"/"1" (facts §2.1); empty means the built-in default', () => {
    const d = lookupParam('httpd.cfg.enabled')!;
    expect(validateParamValue(d, '0')).toBeUndefined();
    expect(validateParamValue(d, '1')).toBeUndefined();
    expect(validateParamValue(d, '')).toBeUndefined();
    expect(validateParamValue(d, 'yes')).toMatch(/0 or 1/);
  });

  test('integers and ranges (SEED-AG Syslog Menu: facility 0 to 23)', () => {
    const d = lookupParam('device.syslog.facility')!;
    expect(validateParamValue(d, '16')).toBeUndefined();
    expect(validateParamValue(d, '24')).toMatch(/maximum 23/);
    expect(validateParamValue(d, '-1')).toMatch(/minimum 0/);
    expect(validateParamValue(d, 'local0')).toMatch(/not an integer/);
  });

  test('facts §4.2: enum and HH:MM time', () => {
    expect(validateParamValue(lookupParam('prov.polling.mode')!, 'rel')).toBeUndefined();
    expect(validateParamValue(lookupParam('prov.polling.mode')!, 'weekly')).toMatch(/abs, rel, random/);
    expect(validateParamValue(lookupParam('prov.polling.time')!, '23:59')).toBeUndefined();
    expect(validateParamValue(lookupParam('prov.polling.time')!, '24:00')).toMatch(/HH:MM/);
  });
});

describe('nearestParam', () => {
  test('suggests the nearest known name with the indexes put back', () => {
    expect(nearestParam('reg.1.auth.pasword')).toBe('reg.1.auth.password');
    expect(nearestParam('httpd.cfg.enable')).toBe('httpd.cfg.enabled');
    expect(nearestParam('prov.poling.mode')).toBe('prov.polling.mode');
    expect(nearestParam('rge.2.auth.password')).toBe('reg.2.auth.password'); // misspelt family
    expect(nearestParam('zzzzzzzzzzzzzzzzzzzzzz')).toBeUndefined();
  });
});

describe.skipIf(!existsSync(REAL))('catalogue agrees with the genuine templates (real-configs/README.md)', () => {
  test('white paper, Default Configuration Parameter Values: every template parameter is known and its default valid', () => {
    let checked = 0;
    for (const gen of readdirSync(REAL)) {
      const dir = new URL(gen + '/', REAL);
      if (!existsSync(dir) || gen.endsWith('.md')) continue;
      for (const f of readdirSync(dir)) {
        if (!f.endsWith('.cfg') || f.startsWith('000000000000')) continue;
        const text = readFileSync(new URL(f, dir), 'utf8');
        for (const m of text.matchAll(/\s([A-Za-z][\w.-]*)="([^"]*)"/g)) {
          const [, name, value] = m as unknown as [string, string, string];
          if (name.startsWith('xmlns') || name.startsWith('xsi:') || name === 'version' || name === 'encoding' || name === 'standalone') continue;
          const def = lookupParam(name);
          expect(def, `${gen}/${f}: ${name}`).toBeDefined();
          expect(validateParamValue(def!, value.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'")), `${gen}/${f}: ${name}="${value}"`).toBeUndefined();
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  test('params.json is what scripts/build-param-catalogue.ts generates (--check)', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-param-catalogue.ts', '--check'], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/up to date/);
  });
});
