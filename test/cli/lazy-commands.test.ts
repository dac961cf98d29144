// `polyprov <command>` loads only that command's module (issue 14 Scale: the fleet import command's
// wall time, process start included): `fleet --help` does not load what other commands need (pino,
// the server's logger; cli-progress),
// `--help` (every command listed) does.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs main(args) in a fresh Node; whether pino was loaded, and what it printed. */
function run(args: string[]): { pino: boolean; out: string } {
  const script = `
    import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(`${ROOT}src/cli/main.ts`)});
    let out = '';
    const w = process.stdout.write.bind(process.stdout);
    process.stdout.write = (s) => ((out += s), true);
    await main(['node', 'polyprov', ...${JSON.stringify(args)}]);
    process.stdout.write = w;
    const pino = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/pino/'));
    w(JSON.stringify({ pino, out }));`;
  const r = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(r) as { pino: boolean; out: string };
}

describe('CLI start (issue 14 Scale: fleet import end to end)', () => {
  test('issue 14 Scale: fleet --help loads the fleet command alone (no pino), --version none; --help loads and lists every command', () => {
    const fleet = run(['fleet', '--help']);
    expect(fleet.out).toContain('import');
    expect(fleet.pino).toBe(false);
    const all = run(['--help']);
    expect(all.pino).toBe(true);
    for (const c of ['accounts', 'fleet', 'serve', 'settings', 'tokens']) expect(all.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const version = run(['--version']);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(version.pino).toBe(false);
  }, 120_000);
});
