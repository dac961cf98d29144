// serve's auditJournal option (issue 16, Behaviour under faults): `auto` journals on a PostgreSQL
// store (a flush is a network round trip that can stall under load) and not on the embedded one,
// whose local commit keeps a killed process's loss within the flush wait; `on` and `off` as said.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createLogger } from '../log.ts';
import { loadServerOptions } from '../options.ts';
import { openCore } from './open-core.ts';
import type { BootRequest } from './request.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-journal-option-'));
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'root', 'site.cfg'), '<polycomConfig a="1"/>');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Serves a few reads with the given auditJournal value; the journal files the audit directory holds while the core runs. */
async function journalsWith(auditJournal: string | undefined): Promise<string[]> {
  const config = join(dir, `polyprov-${auditJournal ?? 'default'}.json`);
  writeFileSync(config, JSON.stringify(auditJournal ? { auditJournal } : {}));
  const data = join(dir, `data-${auditJournal ?? 'default'}`);
  const core = await openCore(loadServerOptions({ root: join(dir, 'root'), data, config, policy: 'open' }), createLogger('silent'));
  try {
    const req: BootRequest = { transport: 'http', remote: { address: '127.0.0.1', port: 5000 }, op: 'read', path: '/site.cfg', signal: new AbortController().signal };
    for (let i = 0; i < 5; i++) {
      const r = await core.boot.handle({ ...req });
      expect(r.kind).toBe('file');
      if (r.kind === 'file') r.done({ bytes: r.size, durationMs: 1, status: '200', aborted: false });
    }
    await new Promise((r) => setTimeout(r, 60)); // past the 25 ms seal
    const spool = join(data, 'audit-spool');
    const files = existsSync(spool) ? readdirSync(spool).filter((n) => n.startsWith('journal-')) : [];
    await core.boot.audit.flush();
    expect(await core.store.audit.query({ limit: 10 })).toHaveLength(5);
    return files;
  } finally {
    await core.close();
  }
}

describe('auditJournal (issue 16: a killed node loses at most its last 100 ms of audit records)', () => {
  test('auto (the default) on the embedded store: no journal, records still stored', async () => {
    expect(await journalsWith(undefined)).toEqual([]);
    expect(await journalsWith('auto')).toEqual([]);
  });
  test('on: the embedded store journals too; off: nothing', async () => {
    expect(await journalsWith('on')).toHaveLength(1);
    expect(await journalsWith('off')).toEqual([]);
  });
  test('an unknown value is refused naming the choices', () => {
    expect(() => loadServerOptions({ root: join(dir, 'root'), data: join(dir, 'd'), auditJournal: 'sometimes' })).toThrow(/auto|on|off/);
  });
});
