// `polyprov dhcp snippet` output checked by the real DHCP servers' own parsers (issue 8):
// ISC dhcpd (`dhcpd -t -cf`), Kea (`kea-dhcp4 -t`), dnsmasq (`dnsmasq --test -C`). Each snippet is
// wrapped in a minimal surrounding configuration on 127.0.0.0/8; no server is started.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { renderSnippet, type SnippetInput } from '../../src/dhcp/snippet.ts';
import { requirePeer } from '../support/peers.ts';

const dir = mkdtempSync(join(tmpdir(), 'polyprov-snippet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 99) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

async function iscCheck(snippet: string) {
  const f = join(dir, `dhcpd-${++n}.conf`);
  writeFileSync(f, `${snippet}\nsubnet 127.0.0.0 netmask 255.0.0.0 {\n  range 127.0.0.50 127.0.0.60;\n}\n`);
  return run('dhcpd', ['-t', '-cf', f]);
}

async function keaCheck(snippet: string) {
  const f = join(dir, `kea-${++n}.json`);
  const frag = JSON.parse(snippet) as Record<string, unknown>;
  const conf = {
    Dhcp4: {
      'interfaces-config': { interfaces: ['lo'] },
      'lease-database': { type: 'memfile', persist: false },
      'subnet4': [{ id: 1, subnet: '127.0.0.0/8', pools: [{ pool: '127.0.0.50 - 127.0.0.60' }] }],
      ...frag,
    },
  };
  writeFileSync(f, JSON.stringify(conf, null, 2));
  return run('kea-dhcp4', ['-t', f]);
}

async function dnsmasqCheck(snippet: string) {
  const f = join(dir, `dnsmasq-${++n}.conf`);
  writeFileSync(f, `port=0\ndhcp-range=127.0.0.50,127.0.0.60,1h\n${snippet}`);
  return run('dnsmasq', ['--test', '-C', f]);
}

const CHECK = { isc: iscCheck, kea: keaCheck, dnsmasq: dnsmasqCheck } as const;
const PARSER = { isc: 'dhcpd', kea: 'kea-dhcp4', dnsmasq: 'dnsmasq' } as const;

const CASES: Array<[string, Omit<SnippetInput, 'format'>]> = [
  ['Option 66 (string)', { bootServer: 'http://192.0.2.10/prov/' }],
  ['Option 66 and UCS option 160', { bootServer: 'https://prov.example.com/polycom', options: [66, 160] }],
  ['Custom option, type String', { bootServer: 'ftp://192.0.2.10', options: [151], optionType: 'string' }],
  ['Custom option 150, type IP Address', { bootServer: '192.0.2.10', options: [150], optionType: 'ip' }],
  ['Custom option, type IP Address', { bootServer: 'http://192.0.2.10/prov', options: [128], optionType: 'ip' }],
  ['Custom+Option 66 with VLAN Discovery Fixed (128)', { bootServer: '192.0.2.10', options: [66, 254], optionType: 'ip', vlan: [10] }],
  ['VLAN Discovery Custom (129), several VLAN IDs', { bootServer: 'http://192.0.2.10/', vlan: [10, 4095, 0], vlanOption: 129 }],
];

describe.each(['isc', 'kea', 'dnsmasq'] as const)('%s snippet parses with the real server', (format) => {
  test.skipIf(!requirePeer(PARSER[format])).each(CASES)(`guide, DHCP Menu (Boot Server): %s`, async (_name, input) => {
    const snippet = renderSnippet({ ...input, format });
    const r = await CHECK[format](snippet);
    expect(r.out, r.out).not.toMatch(/ENOENT/);
    expect(r.code, `${format} parser said:\n${r.out}\n--- snippet ---\n${snippet}`).toBe(0);
  });

  test.skipIf(!requirePeer(PARSER[format]))('the parser harness itself rejects a broken snippet (so a pass means something)', async () => {
    const good = renderSnippet({ bootServer: 'http://192.0.2.10/', format, vlan: [10] });
    const broken = format === 'kea' ? good.replace('"client-classes"', '"client-klasses"') : good.replace(/polycom-phones/, 'polycom phones"');
    const r = await CHECK[format](broken);
    expect(r.code).not.toBe(0);
  });
});

describe('snippet content', () => {
  test('facts §5.2: matched by the enterprise bytes 00:00:36:3d and the three Polycom OUIs', () => {
    for (const format of ['isc', 'kea'] as const) {
      const s = renderSnippet({ bootServer: 'http://192.0.2.10/', format });
      expect(s).toMatch(/00:00:36:3d|0x0000363d/);
      for (const oui of ['0004f2', '64167f', '482567']) expect(s.replace(/:/g, '')).toContain(oui);
    }
    const d = renderSnippet({ bootServer: 'http://192.0.2.10/', format: 'dnsmasq' });
    expect(d).toContain('dhcp-vendorclass=set:polycom-phones,Polycom');
    for (const oui of ['00:04:f2', '64:16:7f', '48:25:67']) expect(d).toContain(`dhcp-mac=set:polycom-phones,${oui}:*:*:*`);
  });

  test('facts §5.3: the VLAN option carries a DVD string VLAN-A=<ids>;', () => {
    const d = renderSnippet({ bootServer: 'http://192.0.2.10/', format: 'dnsmasq', vlan: [10, 20], vlanOption: 144 });
    expect(d).toContain('dhcp-option-force=tag:polycom-phones,144,"VLAN-A=10+20;"');
  });

  test('guide, DHCP Menu: Boot Server Option "cannot be the same as VLAN ID Option"', () => {
    expect(() => renderSnippet({ bootServer: 'http://192.0.2.10/', format: 'isc', options: [129], vlan: [10], vlanOption: 129 })).toThrow(
      expect.objectContaining({ code: 'PP_USAGE' }),
    );
  });

  test('guide, DHCP Menu: Boot Server Option is 128 through 254 (or 66)', () => {
    for (const bad of [0, 65, 67, 127, 255, 300]) {
      expect(() => renderSnippet({ bootServer: 'http://x/', format: 'dnsmasq', options: [bad] })).toThrow(expect.objectContaining({ code: 'PP_USAGE' }));
    }
  });

  test('guide, DHCP Menu: Boot Server Option Type IP Address needs an IPv4 address', () => {
    expect(() => renderSnippet({ bootServer: 'http://prov.example.com/', format: 'isc', options: [150], optionType: 'ip' })).toThrow(
      expect.objectContaining({ code: 'PP_USAGE' }),
    );
    expect(() => renderSnippet({ bootServer: 'http://x/', format: 'isc', options: [66], optionType: 'ip' })).toThrow(expect.objectContaining({ code: 'PP_USAGE' }));
  });

  test('a boot server with quotes or spaces is refused rather than pasted into a config', () => {
    for (const bad of ['http://x/"; evil', 'http://x/ y', 'a\\b', '']) {
      expect(() => renderSnippet({ bootServer: bad, format: 'isc' })).toThrow(expect.objectContaining({ code: 'PP_USAGE' }));
    }
  });

  test('dnsmasq: option 150 as a string is refused (dnsmasq reads 150 as tftp-server-address)', () => {
    expect(() => renderSnippet({ bootServer: 'http://192.0.2.10/', format: 'dnsmasq', options: [150] })).toThrow(expect.objectContaining({ code: 'PP_USAGE' }));
  });

  test('Kea: a standard Kea option code (e.g. 138) is refused with the reason', () => {
    expect(() => renderSnippet({ bootServer: 'http://192.0.2.10/', format: 'kea', options: [138] })).toThrow(expect.objectContaining({ code: 'PP_USAGE' }));
  });
});
