// `npm run build` (and `prepare`, so `npm install` / `npm ci` build): compiles src/ (less its tests)
// to dist/ with tsc (tsconfig.build.json: same directory depth as src/, `./x.ts` imports rewritten
// to `./x.js`), copies the other files src/ holds (params.json, cluster/worker-entry.mjs, …) beside
// them, and writes the stamp bin/polyprov compares with src/ (scripts/dist-stamp.mjs). Why compiled
// code: tsx's loader thread costs every process about 35 MB RSS and each CLI start over a second
// (issue 14 Scale). The stamp is taken before tsc reads a file, so an edit made during the build
// leaves dist/ stale, and the build goes to a fresh folder renamed into place: a polyprov starting
// meanwhile sees the old dist/ or none (then it runs the sources), never half of one.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP_FILE, builds, sourceStamp } from './dist-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const started = Date.now();

const stamp = sourceStamp(src);
const tmp = `${dist}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`build: tsc failed (${r.status ?? r.signal}); dist/ left as it was`);
  // As `prepare` (npm install), a failed build must not fail the install: `npm install --omit=dev` has
  // no @types to compile with, and bin/polyprov then runs the sources through tsx as before. CI sees a
  // missing build anyway: test/build/dist.test.ts fails on it under POLYPROV_REQUIRE_PEERS=1.
  process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : 1);
}

let assets = 0;
const copyAssets = (dir, out) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, e.name);
    if (e.isDirectory()) copyAssets(from, join(out, e.name));
    else if (!e.name.endsWith('.ts') && builds(e.name)) {
      mkdirSync(out, { recursive: true });
      copyFileSync(from, join(out, e.name));
      assets++;
    }
  }
};
copyAssets(src, tmp);
writeFileSync(join(tmp, STAMP_FILE), `${JSON.stringify({ ...stamp, builtAt: new Date().toISOString() })}\n`);

const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(tmp, dist);
rmSync(old, { recursive: true, force: true });
console.log(`build: dist/ from ${stamp.files} source files (${assets} copied as they are) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
