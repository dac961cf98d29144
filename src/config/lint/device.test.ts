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
});
