// Entry file of a `serve --workers N` worker process (node:cluster forks it; src/cluster/primary.ts):
// registers tsx's loader, as bin/polyprov does, and runs src/cluster/worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
