// HTTPS under `serve --workers 2` (issue 16, One machine, every core): a phone's next connection
// resumes its TLS session whichever worker it reaches (the primary gives every worker the same
// session ticket keys), instead of a full handshake each time it reaches another worker.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { writeCertificate } from '../support/certs.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { httpsOnce } from './cluster-child.ts';

let serve: ServeChild;

beforeAll(async () => {
  const dir = tempDir('polyprov-tls-');
  writeCertificate(join(dir, 'c.pem'), join(dir, 'k.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] });
  serve = await startServe(['--root', standardTree(), '--data', join(dir, 'data'), '--cert', join(dir, 'c.pem'), '--key', join(dir, 'k.pem'), '--workers', '2', '--log-level', 'warn'], ['https'], 90_000);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

/** One TLS connection, one unauthenticated GET: the worker (from the 401's nonce), whether the session resumed, the session to resume next. */
async function fetchOnce(session?: Buffer): Promise<{ worker: number; reused: boolean; session?: Buffer }> {
  const v = await httpsOnce(serve.ports.https!, {}, session);
  return { worker: v.worker!, reused: v.reused, ...(v.session ? { session: v.session } : {}) };
}

describe('issue 16 One machine, every core: HTTPS sessions across workers', () => {
  test('a session from one worker resumes on both', async () => {
    const first = await fetchOnce();
    expect(first.session).toBeDefined();
    const resumedOn = new Set<number>();
    let session = first.session!;
    for (let i = 0; i < 12 && resumedOn.size < 2; i++) {
      const r = await fetchOnce(session);
      expect(r.reused).toBe(true);
      resumedOn.add(r.worker);
      session = r.session ?? session;
    }
    expect([...resumedOn].sort()).toEqual([0, 1]);
  });
});
