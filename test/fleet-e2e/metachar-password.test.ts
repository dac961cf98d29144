// Issue 14 "Serving" and "Tests": "XML escaped by construction: a password holding ", <, & or '
// reaches the phone intact" — set through the fleet three ways (a CSV import with RFC 4180 quoting,
// `settings set … --value-stdin` at phone scope, `settings set` at global scope), served by a real
// `polyprov serve` over HTTP and TFTP, and read back from what the virtual phone ended with after
// parsing the file it fetched (src/phone/boot.ts, resolver on). The phone's printed record masks it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { runCli, startServe, type ServeChild } from '../phone/serve-child.ts';
import { boot, clearValue, cli, csvField, writeManagedTree } from './fleet-fixture.ts';

const CSV_MAC = '0004f2e2e001' as Mac;
const STDIN_MAC = '0004f2e2e002' as Mac;
/** Every XML metacharacter, both quote kinds, a CSV comma and a non-ASCII letter. */
const PW_CSV = `p"w<1&2'3>,é`;
const PW_STDIN = `a&amp;b<c"d'e>&#38;`;
const GLOBAL_LABEL = `Tom & Jerry's "<desk>"`;

let dir: string;
let root: string;
let data: string;
let server: ServeChild;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-e2e-meta-'));
  root = join(dir, 'root');
  data = join(dir, 'data');
  await writeManagedTree(root);
  const csv = join(dir, 'fleet.csv');
  await writeFile(csv, `mac,model,label,reg.1.address,reg.1.auth.userId,reg.1.auth.password\n${[CSV_MAC, 'VVX410', 'Desk, "one"', '2001', '2001', PW_CSV].map(csvField).join(',')}\n`);
  await cli(data, ['fleet', 'import', csv]);
  await cli(data, ['fleet', 'add', STDIN_MAC, '--model', 'VVX410']);
  await cli(data, ['settings', 'set', `phone:${STDIN_MAC}`, 'reg.1.address=2002']);
  await cli(data, ['settings', 'set', `phone:${STDIN_MAC}`, 'reg.1.auth.password', '--value-stdin'], `${PW_STDIN}\n`);
  await cli(data, ['settings', 'set', 'global', `reg.2.label=${GLOBAL_LABEL}`, 'tcpIpApp.sntp.address=managed.ntp.example.com']);
  server = await startServe(['--root', root, '--policy', 'open', '--data', data, '--log-level', 'error'], ['http', 'tftp']);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('issue 14 Serving: a password with ", <, &, \' set through the fleet reaches the virtual phone intact', () => {
  for (const transport of ['http', 'tftp'] as const) {
    test(`issue 14 Tests: over ${transport.toUpperCase()}, the CSV-imported and the --value-stdin passwords and a global label arrive byte for byte`, async () => {
      for (const [mac, pw, address] of [
        [CSV_MAC, PW_CSV, '2001'],
        [STDIN_MAC, PW_STDIN, '2002'],
      ] as const) {
        const rec = await boot(`${transport}://127.0.0.1:${server.ports[transport]}/`, mac);
        expect(rec.configFrom, JSON.stringify(rec.messages)).toBe('server');
        expect(rec.requests.filter((r) => r.status === 'error' || r.status === 'denied')).toEqual([]);
        expect(rec.resolution?.configFiles.map((f) => [f.name, f.found])).toEqual([
          [`managed/${mac}.cfg`, true],
          ['site.cfg', true],
        ]);
        expect(clearValue(rec, 'reg.1.auth.password')).toBe(pw);
        expect(clearValue(rec, 'reg.1.address')).toBe(address);
        expect(clearValue(rec, 'reg.2.label')).toBe(GLOBAL_LABEL);
        // The managed file is first in CONFIG_FILES: it beats site.cfg where both set a parameter,
        // and site.cfg still gives what the fleet does not set.
        expect(clearValue(rec, 'tcpIpApp.sntp.address')).toBe('managed.ntp.example.com');
        expect(clearValue(rec, 'reg.1.label')).toBe('site label');
        // The record the phone prints masks the secret, as explain does.
        const eff = rec.effective?.params as Record<string, { value: string }> | undefined;
        expect(eff?.['reg.1.auth.password']?.value).toBe('********');
      }
    });
  }

  test('issue 14 Tests: the managed file is well-formed XML whose attribute holds the escaped password (no raw metacharacter inside a value)', async () => {
    const r = await fetch(`http://127.0.0.1:${server.ports.http}/managed/${STDIN_MAC}.cfg`);
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(body).not.toContain(PW_STDIN);
    // `&amp;` typed by the administrator is data, so it is escaped again: `&amp;amp;`.
    expect(body).toContain('&amp;amp;');
    expect(body).toMatch(/reg\.1\.auth\.password="[^"<]*"/);
  });

  test('issue 14 Secrets: `polyprov phone boot --json` prints the record with the password masked', async () => {
    const r = await runCli(['phone', 'boot', '--server', `http://127.0.0.1:${server.ports.http}/`, '--mac', CSV_MAC, '--model', 'VVX410', '--tries', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as { effective: { params: Record<string, { value: string }> } };
    expect(rec.effective.params['reg.1.auth.password']?.value).toBe('********');
    expect(rec.effective.params['reg.1.address']?.value).toBe('2001');
    for (const part of ['w<1&2', "2'3>,"]) expect(r.stdout).not.toContain(part);
  });
});
