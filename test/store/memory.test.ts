// The in-memory store (test/support/memory-store.ts) that the core's unit tests run on passes the
// same conformance suite as SQLite and PostgreSQL (STYLE.md §3), so a core test over it says what
// the core does over a real backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openMemoryStore } from '../support/memory-store.ts';
import { storeTests } from './conformance.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeTests(async () => {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-memory-'));
  dirs.push(data);
  const tmpDir = join(data, 'tmp');
  return { store: await openMemoryStore(tmpDir), tmpDir };
}, 'memory');
