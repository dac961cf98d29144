import { describe, expect, test } from 'vitest';
import { cleanTree, lintFiles, withCode } from './lint-test-util.ts';

const master = '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="device.cfg, site.cfg"/>';

describe('lint: device', () => {
  test('white paper, device.set: a device.* value without device.set and its .set is a warning', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': master, 'device.cfg': '<d device.net.vlanId="10"/>' }));
    const w = withCode(f, 'PP_PARAM_DEVICE_NOT_SET');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ severity: 'warning', file: 'device.cfg' });
    expect(w[0]!.hint).toContain('device.set="1"');
    expect(w[0]!.hint).toContain('device.net.vlanId.set="1"');
  });

  test('facts §2.4: device.set="1" and device.x.set="1" anywhere in the chain apply it', async () => {
    const f = await lintFiles(
      cleanTree({
        '000000000000.cfg': master,
        'device.cfg': '<d device.net.vlanId="10" device.net.vlanId.set="1"/>',
        'site.cfg': '<s device.set="1" httpd.cfg.enabled="0"/>',
      }),
    );
    expect(withCode(f, 'PP_PARAM_DEVICE_NOT_SET')).toEqual([]);
  });

  test('facts §2.4: device.set="1" alone is not enough', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': master, 'device.cfg': '<d device.set="1" device.net.vlanId="10"/>' }));
    const w = withCode(f, 'PP_PARAM_DEVICE_NOT_SET');
    expect(w).toHaveLength(1);
    expect(w[0]!.hint).not.toContain('device.set="1" and');
  });

  test('empty device values (the UCS device.cfg template) are not reported', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': master, 'device.cfg': '<d device.net.vlanId="" device.net.vlanId.set="0"/>' }));
    expect(withCode(f, 'PP_PARAM_DEVICE_NOT_SET')).toEqual([]);
  });

  test('issue 13 item 23, white paper, Configuring Device Settings in Flash Memory: a static IP, gateway or host name applied from a file many phones read is a warning', async () => {
    const apply = 'device.set="1" device.net.ipAddress="10.0.0.50" device.net.ipAddress.set="1" device.net.IPgateway="10.0.0.1" device.net.IPgateway.set="1" device.hostname="phone1" device.hostname.set="1"';
    const shared = withCode(await lintFiles(cleanTree({ '000000000000.cfg': master, 'device.cfg': `<d ${apply} device.net.vlanId="10" device.net.vlanId.set="1"/>` })), 'PP_PARAM_DEVICE_STATIC_SHARED');
    expect(shared.map((w) => w.message.slice(0, w.message.indexOf('='))).sort()).toEqual(['device.hostname', 'device.net.IPgateway', 'device.net.ipAddress']);
    expect(shared.every((w) => w.severity === 'warning' && w.file === 'device.cfg')).toBe(true);
    // The same values in a file only one phone reads are that phone's own: no warning.
    const own = await lintFiles({
      '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="phones/[PHONE_MAC_ADDRESS].cfg, site.cfg"/>',
      'site.cfg': '<s httpd.cfg.enabled="0" device.set="1"/>',
      'phones/0004f2000001.cfg': '<p device.net.ipAddress="10.0.0.50" device.net.ipAddress.set="1"/>',
    });
    expect(withCode(own, 'PP_PARAM_DEVICE_STATIC_SHARED')).toEqual([]);
    // Not applied (no device.set): PP_PARAM_DEVICE_NOT_SET says so instead.
    const notApplied = await lintFiles(cleanTree({ '000000000000.cfg': master, 'device.cfg': '<d device.net.ipAddress="10.0.0.50"/>' }));
    expect(withCode(notApplied, 'PP_PARAM_DEVICE_STATIC_SHARED')).toEqual([]);
  });
});
