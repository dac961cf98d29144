// Whether dist/ (the compiled JavaScript, `npm run build`) was built from the sources as they are
// now (issue 14 Scale: server RSS, CLI start time). bin/polyprov runs dist/ only then, else the
// sources through tsx, so a developer editing src/ (or several working on one tree) never runs
// stale code. The stamp is a digest of every compiled source's path, size and mtime (src/ less its
// *.test.ts files, as tsconfig.build.json); one walk of src/, about 350 stats: a few ms.
// Plain JavaScript: bin/polyprov reads it before deciding whether to load tsx at all.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP_FILE = '.polyprov-build-stamp';

/** Whether the build compiles (or copies) this file: everything under src/ but the tests. */
export function builds(name) {
  return !name.endsWith('.test.ts');
}

/** The digest of the sources under `srcDir` as they are now. */
export function sourceStamp(srcDir) {
  const hash = createHash('sha256');
  let files = 0;
  const walk = (dir, rel) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = join(dir, e.name);
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(full, path);
      else if (builds(e.name)) {
        const st = statSync(full);
        hash.update(`${path}\0${st.size}\0${st.mtimeMs}\n`);
        files++;
      }
    }
  };
  walk(srcDir, '');
  return { files, digest: hash.digest('hex') };
}

/** True when `distDir` holds a complete build of `srcDir` as it is now (its stamp matches). */
export function distIsFresh(srcDir, distDir) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(distDir, STAMP_FILE), 'utf8'));
  } catch {
    return false; // no build, or an unfinished one (the stamp is written last)
  }
  const now = sourceStamp(srcDir);
  return stamp.files === now.files && stamp.digest === now.digest;
}
