// Compiled JavaScript at run time (issue 14 Scale: server RSS, CLI start time). bin/polyprov runs
// dist/ only when its stamp matches src/ as it is now, else the sources through tsx
// (scripts/dist-stamp.mjs); and dist/ itself runs in plain Node: the CLI, the TFTP read workers
// (threads) and the `serve --workers N` processes, none through tsx. The compiled half needs a
// fresh build (`npm run build`; `npm install` / `npm ci` build) and is skipped with a line without.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { STAMP_FILE, distIsFresh, sourceStamp } from '../../scripts/dist-stamp.mjs';
import { stopChild } from '../../src/phone/storm-server.ts';
import { req } from '../support/http-client.ts';
import { children } from '../workers/cluster-child.ts';
import { peersRequired } from '../support/peers.ts';
import { standardTree, tempDir } from '../support/tree.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A polyprov root of its own: the real bin and stamp code, a one-line CLI in src/ (TypeScript) and in dist/. */
function fakeRoot(): string {
  const root = tempDir('polyprov-build-');
  for (const f of ['bin/polyprov', 'scripts/dist-stamp.mjs']) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    copyFileSync(join(ROOT, f), join(root, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  // The type annotations make plain Node fail on it: printing "sources" proves tsx loaded it.
  writeFileSync(join(root, 'src/cli/main.ts'), "export async function main(argv: string[]): Promise<number> {\n  process.stdout.write('sources');\n  return argv.length > 0 ? 0 : 1;\n}\n");
  writeFileSync(join(root, 'src/cli/main.test.ts'), '// not compiled\n');
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  writeFileSync(join(root, 'dist/cli/main.js'), "export async function main() {\n  process.stdout.write('compiled');\n  return 0;\n}\n");
  stamp(root);
  return root;
}

function stamp(root: string): void {
  writeFileSync(join(root, 'dist', STAMP_FILE), JSON.stringify(sourceStamp(join(root, 'src'))));
}

/** What the root's bin/polyprov ran: "compiled" (dist/) or "sources" (src/ through tsx). */
function ran(root: string, env: NodeJS.ProcessEnv = {}): string {
  const { POLYPROV_NO_DIST: _, ...base } = process.env;
  return execFileSync(process.execPath, [join(root, 'bin/polyprov'), '--version'], { env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
}

const fresh = (root: string) => distIsFresh(join(root, 'src'), join(root, 'dist'));

describe('issue 14 Scale: bin/polyprov runs dist/ only when built from the sources as they are', () => {
  test('fresh stamp: dist/; POLYPROV_NO_DIST=1, a source edited after the build, or no stamp: the sources through tsx', () => {
    const root = fakeRoot();
    try {
      expect(ran(root)).toBe('compiled');
      expect(ran(root, { POLYPROV_NO_DIST: '1' })).toBe('sources');
      const later = new Date(Date.now() + 60_000);
      utimesSync(join(root, 'src/cli/main.ts'), later, later);
      expect(ran(root)).toBe('sources');
      stamp(root); // built again
      expect(ran(root)).toBe('compiled');
      rmSync(join(root, 'dist', STAMP_FILE)); // a build that did not finish writes no stamp
      expect(ran(root)).toBe('sources');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);

  test('the stamp covers every compiled source: added, removed, changed size or an older mtime; not the tests', () => {
    const root = fakeRoot();
    try {
      const file = join(root, 'src/cli/extra.ts');
      expect(fresh(root)).toBe(true);
      writeFileSync(join(root, 'src/cli/main.test.ts'), '// a test edited: dist/ is still what src/ compiles to\n');
      expect(fresh(root)).toBe(true);
      writeFileSync(file, 'export const x = 1;\n');
      expect(fresh(root)).toBe(false);
      stamp(root);
      expect(fresh(root)).toBe(true);
      const old = new Date('2020-01-01T00:00:00Z');
      utimesSync(file, old, old); // a file put back with an older date (rsync -t, cp -p)
      expect(fresh(root)).toBe(false);
      stamp(root);
      writeFileSync(file, 'export const x = 22;\n');
      utimesSync(file, old, old); // same date, other size
      expect(fresh(root)).toBe(false);
      stamp(root);
      rmSync(file);
      expect(fresh(root)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

const BUILT = fresh(ROOT);
if (!BUILT) console.log('skipped: dist/ absent or older than src/ (npm run build)');

// CI (.ci/run: npm ci builds, then POLYPROV_REQUIRE_PEERS=1 npm test) must have run the compiled code:
// a build that failed during `npm ci` (which does not fail the install) fails here.
test.runIf(peersRequired())('issue 14 Scale: under POLYPROV_REQUIRE_PEERS=1 the build is there and fresh', () => {
  expect(BUILT).toBe(true);
});

/** Runs the compiled CLI in plain Node (test/build/run-dist.mjs). */
function dist(args: string[]): string {
  return execFileSync(process.execPath, [join(ROOT, 'test/build/run-dist.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe.skipIf(!BUILT)('issue 14 Scale: dist/ runs in plain Node, no tsx', () => {
  test('--version and --help (every command module loads compiled)', () => {
    expect(dist(['--version']).trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const help = dist(['--help']);
    for (const c of ['accounts', 'fleet', 'serve', 'settings', 'tokens']) expect(help).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  }, 60_000);

  test('a TFTP read through the compiled read-worker thread: the block arrives, the session completes, the worker lives', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'test/build/dist-tftp-child.mjs')], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({ alive: 1, payload: 'served by a compiled read worker\n', outcome: { ok: true, reason: 'complete', bytes: 33 } });
  }, 60_000);

  test('serve --workers 2: both worker processes run dist/cluster/worker-entry.mjs (worker.js) and serve', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'test/build/run-dist.mjs'), 'serve', '--root', standardTree(), '--data', tempDir(), '--policy', 'open', '--workers', '2', '--http', '127.0.0.1:0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const end = Date.now() + 45_000;
      let port: string | undefined;
      while (!(port = /^\s*http\s+listening on [^\s]*:(\d+)/m.exec(out)?.[1])) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`serve did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      for (let i = 0; i < 4; i++) expect((await req(`http://127.0.0.1:${port}/site.cfg`)).status).toBe(200); // new connections: both workers
      const workers = children(child.pid!).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1]);
      expect(workers).toEqual([join(ROOT, 'dist/cluster/worker-entry.mjs'), join(ROOT, 'dist/cluster/worker-entry.mjs')]);
    } finally {
      await stopChild(child);
    }
  }, 90_000);
});
