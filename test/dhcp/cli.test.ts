// `polyprov dhcp snippet|inform` through ./bin/polyprov: output and exit codes (0 ok, 2 usage, 3 runtime).
import dgram from 'node:dgram';
import { describe, expect, test } from 'vitest';
import { renderSnippet } from '../../src/dhcp/snippet.ts';
import { polyprov } from '../cli/run-cli.ts';

describe('polyprov dhcp snippet', () => {
  test('issue 8: prints the snippet for the format asked, exit 0', async () => {
    const r = await polyprov(['dhcp', 'snippet', '--boot-server', 'http://192.0.2.10/prov/', '--format', 'kea', '--option', '66', '--option', '160', '--vlan', '10+20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderSnippet({ bootServer: 'http://192.0.2.10/prov/', format: 'kea', options: [66, 160], vlan: [10, 20] }));
    expect(JSON.parse(r.stdout)).toHaveProperty('client-classes');
  });

  test.each([
    [['--format', 'bind']],
    [['--option', '67']],
    [['--option', '150', '--option-type', 'hex']],
    [['--vlan', '5000']],
    [['--vlan-option', '129']],
    [['--vlan', '10', '--vlan-option', '66']],
    [['--option', '129', '--vlan', '10', '--vlan-option', '129']],
  ])('usage errors exit 2: %j', async (args) => {
    const r = await polyprov(['dhcp', 'snippet', '--boot-server', 'http://192.0.2.10/', ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/PP_USAGE/);
  });

  test('--boot-server is required', async () => {
    const r = await polyprov(['dhcp', 'snippet']);
    expect(r.code).toBe(2);
  });
});

describe('polyprov dhcp inform', () => {
  test('a busy port is a runtime failure (exit 3) that names the address', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      const port = s.address().port;
      const r = await polyprov(['dhcp', 'inform', '--listen', `127.0.0.1:${port}`, '--boot-server', 'http://192.0.2.10/']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  test('usage errors exit 2: bad option type for 66, no IPv4 for an IP option, bad --server-id', async () => {
    for (const args of [
      ['--option', '66', '--option-type', 'ip'],
      ['--option', '150', '--option-type', 'ip', '--boot-server', 'http://prov.example.com/'],
      ['--server-id', 'prov.example.com'],
    ]) {
      const r = await polyprov(['dhcp', 'inform', '--listen', '127.0.0.1:0', '--boot-server', 'http://192.0.2.10/', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
  });
});
