// HTTPS under `serve --workers 2` (issue 16, One machine, every core): a phone's next connection
// resumes its TLS session whichever worker it reaches (the primary gives every worker the same
// session ticket keys), instead of a full handshake each time it reaches another worker.
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nonceWorker } from '../../src/core/digest-auth.ts';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { writeCertificate } from '../support/certs.ts';
import { standardTree, tempDir } from '../support/tree.ts';

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
function fetchOnce(session?: Buffer): Promise<{ worker: number; reused: boolean; session?: Buffer }> {
  return new Promise((resolve, reject) => {
    let data = '';
    let next: Buffer | undefined;
    let reused = false;
    const s: TLSSocket = connect({ host: '127.0.0.1', port: serve.ports.https!, rejectUnauthorized: false, ...(session ? { session } : {}) }, () => {
      reused = s.isSessionReused();
      s.write('GET /site.cfg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    s.on('session', (b: Buffer) => (next = b));
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
    s.on('close', () => {
      const nonce = /nonce="([^"]+)"/.exec(data)?.[1];
      if (!nonce) return reject(new Error(`no challenge in ${data.slice(0, 200)}`));
      resolve({ worker: nonceWorker(nonce)!, reused, session: next });
    });
  });
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
