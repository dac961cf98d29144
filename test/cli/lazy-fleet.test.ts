// CLI commands open the managed fleet only when they use it (issue 16 leftover: every command that
// opened the core read the whole fleet, about a second at 10,000 phones, and created
// <data>/secret.key on first use, even `phones`, `audit`, `changes` and `accounts list`). In-process
// through main(), what bin/polyprov runs, with the store's fleet loads counted.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { generateKey, keyText } from '../../src/fleet/secret-key.ts';

/** Store.fleet.load() calls, over every store the commands open. */
const loads = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../src/store/open.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/store/open.ts')>();
  return {
    ...m,
    openStore: async (...args: Parameters<typeof m.openStore>) => {
      const s = await m.openStore(...args);
      const load = s.fleet.load.bind(s.fleet);
      (s.fleet as { load: typeof load }).load = () => {
        loads.n++;
        return load();
      };
      return s;
    },
  };
});

const A = '0004f2000001';
const MISMATCH = "the secret key cannot decrypt this store's check value";
let dir: string;
let data: string;
let root: string;
const saved = process.env.POLYPROV_SECRET_KEY;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    const code = await main(['node', 'polyprov', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeEach(() => {
  delete process.env.POLYPROV_SECRET_KEY;
  dir = mkdtempSync(join(tmpdir(), 'polyprov-lazy-fleet-'));
  data = join(dir, 'data');
  root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(root, '000000000000.cfg'), '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, site.cfg"/>\n');
  writeFileSync(join(root, 'site.cfg'), '<?xml version="1.0" standalone="yes"?>\n<polycomConfig><reg reg.1.label="tree"/></polycomConfig>\n');
  loads.n = 0;
});
afterEach(() => {
  if (saved === undefined) delete process.env.POLYPROV_SECRET_KEY;
  else process.env.POLYPROV_SECRET_KEY = saved;
  rmSync(dir, { recursive: true, force: true });
});

const keyFile = () => join(data, 'secret.key');

describe('the fleet is read on first use (issue 16 leftover)', () => {
  test('phones, audit, changes, accounts, tokens and explain on a data directory without a fleet read no fleet and create no secret.key; fleet list then does both', async () => {
    expect((await cli(['accounts', 'add', 'alice', '--generate', '--json', '--data', data])).code).toBe(0);
    for (const args of [['phones', '--json'], ['audit', '--json'], ['changes', '--json'], ['accounts', 'list', '--json'], ['tokens', 'add', 'ro', '--role', 'read-only', '--json']]) {
      const r = await cli([...args, '--data', data]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
    }
    expect(JSON.parse((await cli(['accounts', 'list', '--json', '--data', data])).out)).toMatchObject([{ user: 'alice' }]);
    // explain --data with no managed phone: the empty fleet's view, as serve holds it (an unmanaged phone's managed file is the empty one).
    const ex = await cli(['explain', root, '--mac', A, '--json', '--data', data]);
    expect(ex.code, ex.err).toBe(0);
    expect(JSON.parse(ex.out)).toMatchObject({ managed: { tenant: 'default', managed: false } });
    expect(loads.n).toBe(0);
    expect(existsSync(keyFile())).toBe(false);

    const list = await cli(['fleet', 'list', '--json', '--data', data]);
    expect(list.code, list.err).toBe(0);
    expect(JSON.parse(list.out)).toEqual([]);
    expect(loads.n).toBe(1);
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
  });

  test('commands that use the fleet still read it: fleet add, tokens add --tenant, accounts add --tenant, explain of a managed phone', async () => {
    expect((await cli(['fleet', 'add', A, '--model', 'VVX410', '--tenant', 'acme', '--create', '--data', data])).code).toBe(0);
    expect(loads.n).toBe(1);
    expect((await cli(['settings', 'set', `phone:${A}`, 'reg.1.label=managed', '--data', data])).code).toBe(0);
    // A tenant the fleet has is accepted, one it has not refused: both need the fleet read.
    expect((await cli(['tokens', 'add', 'acme-ro', '--role', 'read-only', '--tenant', 'acme', '--data', data])).code).toBe(0);
    const nope = await cli(['accounts', 'add', 'bob', '--generate', '--tenant', 'nope', '--data', data]);
    expect(nope.code).toBe(1);
    expect(nope.err).toContain('no tenant nope');
    loads.n = 0;
    const ex = await cli(['explain', root, '--mac', A, '--json', '--data', data]);
    expect(ex.code, ex.err).toBe(0);
    expect(JSON.parse(ex.out)).toMatchObject({ managed: { tenant: 'acme', managed: true } });
    expect(loads.n).toBe(1);
    loads.n = 0;
    expect((await cli(['phones', '--json', '--data', data])).code).toBe(0);
    expect(loads.n).toBe(0);
  });

  test('another key: fleet commands exit 3 with the mismatch message; commands without the fleet still run and read none of it', async () => {
    expect((await cli(['settings', 'set', 'global', 'device.prov.password=x', '--data', data])).code).toBe(0);
    writeFileSync(join(dir, 'other.key'), `${keyText(generateKey())}\n`, { mode: 0o600 });
    const cfg = join(dir, 'polyprov.json');
    writeFileSync(cfg, JSON.stringify({ root: 'root', data: 'data', secretKeyFile: 'other.key' }));
    loads.n = 0;
    for (const args of [['fleet', 'list', '--json'], ['settings', 'show', 'global', '--json'], ['render', '--out', join(dir, 'out')]]) {
      const r = await cli([...args, '--config', cfg]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(3);
      expect(r.err).toContain('PP_FLEET_KEY_MISMATCH');
      expect(r.err).toContain(MISMATCH);
    }
    expect(loads.n).toBe(3);
    loads.n = 0;
    for (const args of [['phones', '--json'], ['changes', '--json'], ['accounts', 'list', '--json']]) {
      const r = await cli([...args, '--config', cfg]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
    }
    expect(loads.n).toBe(0);
  });
});
