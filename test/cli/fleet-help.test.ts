// Every command of the managed fleet has --help, --json and the state options, and a usage error
// exits 2 (issue 14, CLI: "every command: --help, --json, --data/--config like the others,
// meaningful exit codes"). In-process through main(), which is what bin/polyprov runs.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    const code = await main(['node', 'polyprov', ...args]);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());

const COMMANDS = [
  ['fleet', 'import'], ['fleet', 'export'], ['fleet', 'list'], ['fleet', 'show'], ['fleet', 'add'], ['fleet', 'remove'], ['fleet', 'replace'],
  ['fleet', 'tenants', 'add'], ['fleet', 'tenants', 'list'], ['fleet', 'tenants', 'remove'],
  ['fleet', 'sites', 'add'], ['fleet', 'sites', 'list'], ['fleet', 'sites', 'remove'],
  ['fleet', 'groups', 'add'], ['fleet', 'groups', 'list'], ['fleet', 'groups', 'remove'],
  ['settings', 'set'], ['settings', 'unset'], ['settings', 'show'],
  ['render'], ['secrets', 'rotate'], ['lint'],
];

describe('fleet commands: --help, --json, --data/--config, exit codes (issue 14, CLI)', () => {
  test.each(COMMANDS.map((c) => [c.join(' '), c]))('%s --help: exit 0, documents --json, --data and --config', async (_n, c) => {
    const r = await cli([...(c as string[]), '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--json', '--data <dir>', '--config <file>']) expect(r.out).toContain(flag);
  });

  test('accounts add documents --tenant', async () => {
    expect((await cli(['accounts', 'add', '--help'])).out).toContain('--tenant <tenant>');
  });

  test('usage errors exit 2 before any state is opened: an unknown flag, a bad MAC, a bad model, a malformed scope, --value-stdin with NAME=VALUE', async () => {
    const data = '/nonexistent/polyprov-fleet-help';
    expect((await cli(['fleet', 'list', '--bogus', '--data', data])).code).toBe(2);
    expect((await cli(['fleet', 'show', 'xyz', '--data', data])).code).toBe(2);
    expect((await cli(['fleet', 'add', '0004f2000001', '--model', 'NOPE', '--data', data])).code).toBe(2);
    const scope = await cli(['settings', 'show', 'planet:mars', '--data', data]);
    expect(scope.code).toBe(2);
    expect(scope.err).toContain('planet');
    expect((await cli(['settings', 'set', 'global', 'a=b', '--value-stdin', '--data', data])).code).toBe(2);
    expect((await cli(['settings', 'set', 'global', 'novalue', '--data', data])).code).toBe(2);
    expect((await cli(['fleet', 'replace', '0004f2000001', '00:04:f2:00:00:01', '--data', data])).code).toBe(2);
    expect((await cli(['render', '--data', data])).code).toBe(2); // --out is required
  });
});
