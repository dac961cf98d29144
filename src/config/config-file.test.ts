import { describe, expect, test } from 'vitest';
import { isProvError } from '../errors.ts';
import { isEncryptedConfig, parseConfigFile, splitModelSuffix } from './config-file.ts';

describe('configuration files', () => {
  test('facts §2.1 nested style (SIP 1.x–3.x): every attribute of every element is a parameter, element names ignored', () => {
    const cfg = parseConfigFile(
      '<?xml version="1.0" standalone="yes"?>\n<sip>\n  <voIpProt>\n    <server voIpProt.server.1.address="a.example" voIpProt.server.1.port="5060"/>\n    <SIP voIpProt.SIP.useRFC2543hold="0"><specialEvent voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/></SIP>\n  </voIpProt>\n</sip>',
      'sip.cfg',
    );
    expect(cfg.kind).toBe('xml');
    if (cfg.kind !== 'xml') return;
    expect(cfg.params.map((p) => [p.name, p.value, p.pos.line, p.pos.column])).toEqual([
      ['voIpProt.server.1.address', 'a.example', 4, 13],
      ['voIpProt.server.1.port', '5060', 4, 51],
      ['voIpProt.SIP.useRFC2543hold', '0', 5, 10],
      ['voIpProt.SIP.specialEvent.checkSync.alwaysReboot', '0', 5, 56],
    ]);
    expect(cfg.params.every((p) => p.pos.file === 'sip.cfg')).toBe(true);
  });

  test('facts §2.1 polycomConfig style (UCS): xmlns and xsi attributes are not parameters; flat files work too', () => {
    const cfg = parseConfigFile(
      '<polycomConfig xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="polycomConfig.xsd">\n<reg reg.1.address="1001" reg.1.auth.password=""/></polycomConfig>',
      'reg-basic.cfg',
    );
    expect(cfg.kind === 'xml' && cfg.params.map((p) => p.name)).toEqual(['reg.1.address', 'reg.1.auth.password']);
    const flat = parseConfigFile('<config reg.1.address="1" voIpProt.server.1.address="x"/>', 'flat.cfg');
    expect(flat.kind === 'xml' && flat.params.length).toBe(2);
  });

  test('order is kept, including a name repeated in one file', () => {
    const cfg = parseConfigFile('<a x.y="1"><b x.y="2" z="3"/></a>', 'f.cfg');
    expect(cfg.kind === 'xml' && cfg.params.map((p) => `${p.name}=${p.value}`)).toEqual(['x.y=1', 'x.y=2', 'z=3']);
  });

  test('facts §7: a file starting with Crypt= is an encrypted configuration file, never an XML error', () => {
    const bin = Buffer.concat([Buffer.from('\uFEFF\r\n  Crypt=1;KeyDesc=companyNameKey1;Digest=00ff;\n'), Buffer.from([0, 1, 2, 0xff, 0xfe, 0x3c, 0x3c])]);
    const cfg = parseConfigFile(bin, 'enc.cfg');
    expect(cfg).toEqual({ kind: 'encrypted', file: 'enc.cfg', header: { Crypt: '1', KeyDesc: 'companyNameKey1', Digest: '00ff' } });
    expect(isEncryptedConfig(bin)).toBe(true);
    expect(isEncryptedConfig('<a/>')).toBe(false);
    expect(parseConfigFile('Crypt=1;KeyDesc=k;', 'e.cfg').kind).toBe('encrypted');
    // Not at the start: ordinary (broken) XML.
    try {
      parseConfigFile('<a/>Crypt=1;', 'x.cfg');
      expect.unreachable();
    } catch (e) {
      expect(isProvError(e) && e.code).toBe('PP_CFG_XML_MALFORMED');
    }
  });

  test('facts §2.1: model-suffixed names split into base and model (UCS .VVX1500, SIP 2.x .IP_650)', () => {
    expect(splitModelSuffix('dir.local.contacts.maxNum.VVX1500')).toEqual({ base: 'dir.local.contacts.maxNum', model: 'VVX1500' });
    expect(splitModelSuffix('call.callsPerLineKey.VVX101')).toEqual({ base: 'call.callsPerLineKey', model: 'VVX101' });
    expect(splitModelSuffix('voice.handset.rxag.adjust.IP_650')).toEqual({ base: 'voice.handset.rxag.adjust', model: 'SPIP650' });
    expect(splitModelSuffix('voice.gain.rx.analog.chassis.IP_4000')).toEqual({ base: 'voice.gain.rx.analog.chassis', model: 'SSIP4000' });
    expect(splitModelSuffix('reg.1.address')).toEqual({ base: 'reg.1.address' });
    expect(splitModelSuffix('dir.local.nonVolatile.maxSize.2meg')).toEqual({ base: 'dir.local.nonVolatile.maxSize.2meg' });
    expect(splitModelSuffix('device.set')).toEqual({ base: 'device.set' });
    expect(splitModelSuffix('VVX1500')).toEqual({ base: 'VVX1500' });
  });
});
