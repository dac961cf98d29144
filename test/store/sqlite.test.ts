import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import { storeTests } from './conformance.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function makeStore() {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-sqlite-'));
  dirs.push(data);
  return { store: await openStore({ data, storeUrl: 'sqlite' }), tmpDir: join(data, 'tmp') };
}

storeTests(makeStore, 'sqlite');
