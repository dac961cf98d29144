// Entry file of a `serve --workers N` worker process (node:cluster forks it; src/cluster/primary.ts).
// The build copies it into dist/cluster/ beside the compiled worker.js (scripts/build.mjs): there it
// runs worker.js as is; in src/ it registers tsx's loader, as bin/polyprov does, and runs worker.ts.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./worker.js', import.meta.url))) {
  await import('./worker.js');
} else {
  (await import('tsx/esm/api')).register();
  await import('./worker.ts');
}
