// TLS session-ID resumption under `serve --workers 2` (issue 16, One machine: "what must be
// consistent is consistent across them"). A phone or bootROM that sends no session ticket resumes
// by the session ID of its last handshake; the one session cache is the primary's, so its next
// connection resumes whichever worker node:cluster hands it to (round-robin), on HTTPS and FTPS.
// Which worker served: the Digest nonce of the 401 (HTTPS), the worker process holding the
// connection's socket (FTPS, from /proc).
import { constants } from 'node:crypto';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { writeCertificate } from '../support/certs.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { childPids, httpsOnce, slotOf, tcpOwner, type Visit } from './cluster-child.ts';

/** A TLS 1.2 client that sends no ticket extension: the server can only give it a session ID. */
const NO_TICKET: ConnectionOptions = { maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_TICKET };


/** One implicit-FTPS control connection: the greeting, then QUIT; `owner` names the worker holding it. */
function ftpsOnce(port: number, opts: ConnectionOptions, session?: Buffer, owner?: (localPort: number) => number | undefined): Promise<Visit> {
  return new Promise((resolve, reject) => {
    let data = '';
    let next: Buffer | undefined;
    let reused = false;
    let ticket = false;
    let worker: number | undefined;
    let quit = false;
    const s: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts, ...(session ? { session } : {}) }, () => {
      reused = s.isSessionReused();
    });
    s.on('session', (b: Buffer) => {
      next = b;
      ticket ||= s.getTLSTicket() !== undefined;
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      data += d;
      if (/^220 /m.test(data) && !quit) {
        worker = owner?.(s.localPort!);
        quit = true;
        s.write('QUIT\r\n');
      }
    });
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
    s.on('close', () => {
      if (!/^221 /m.test(data)) return reject(new Error(`no 221 in ${data.slice(0, 200)}`));
      resolve({ worker, reused, ticket, session: next });
    });
  });
}

/** Reconnects with the last session until it resumed on both workers (at most 16 times): the workers it resumed on. */
async function resumeOnBoth(once: (session?: Buffer) => Promise<Visit>): Promise<{ first: Visit; resumedOn: number[]; reused: boolean[] }> {
  const first = await once();
  expect(first.session).toBeDefined();
  const resumedOn = new Set<number>();
  const reused: boolean[] = [];
  let session = first.session!;
  for (let i = 0; i < 16 && resumedOn.size < 2; i++) {
    const r = await once(session);
    reused.push(r.reused);
    if (r.reused && r.worker !== undefined) resumedOn.add(r.worker);
    session = r.session ?? session;
  }
  return { first, resumedOn: [...resumedOn].sort(), reused };
}

/** The master key of a DER SSL_SESSION (SEQUENCE { INTEGER, INTEGER, OCTET STRING cipher, OCTET STRING id, OCTET STRING master key, … }). */
function masterKey(der: Buffer): Buffer {
  const tlv = (at: number) => {
    let len = der[at + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = der.readUIntBE(at + 2, n);
      head += n;
    }
    return { start: at + head, end: at + head + len };
  };
  let at = tlv(0).start;
  for (let i = 0; i < 4; i++) at = tlv(at).end;
  const k = tlv(at);
  return der.subarray(k.start, k.end);
}

describe('issue 16 One machine, every core: TLS sessions by ID across workers (serve --workers 2)', () => {
  let serve: ServeChild;
  let workerOf: (localPort: number) => number | undefined;

  beforeAll(async () => {
    const dir = tempDir('polyprov-tls-sessions-');
    writeCertificate(join(dir, 'c.pem'), join(dir, 'k.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] });
    serve = await startServe(
      ['--root', standardTree(), '--data', join(dir, 'data'), '--cert', join(dir, 'c.pem'), '--key', join(dir, 'k.pem'), '--workers', '2', '--log-level', 'warn'],
      ['https', 'ftps'],
      90_000,
    );
    workerOf = (localPort) => {
      const pid = tcpOwner(serve.ports.ftps!, localPort, childPids(serve.child.pid!));
      return pid === undefined ? undefined : slotOf(pid);
    };
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
  });

  test('HTTPS: a TLS 1.2 client sending no ticket resumes its session ID on both workers', async () => {
    const { first, resumedOn, reused } = await resumeOnBoth((session) => httpsOnce(serve.ports.https!, NO_TICKET, session));
    expect(first.ticket).toBe(false);
    expect(reused.every(Boolean), `reused: ${reused.join(' ')}`).toBe(true);
    expect(resumedOn).toEqual([0, 1]);
  });

  test('FTPS: a TLS 1.2 client sending no ticket resumes its session ID on both workers', async () => {
    const { first, resumedOn, reused } = await resumeOnBoth((session) => ftpsOnce(serve.ports.ftps!, NO_TICKET, session, workerOf));
    expect(first.ticket).toBe(false);
    expect(first.worker).toBeDefined();
    expect(reused.every(Boolean), `reused: ${reused.join(' ')}`).toBe(true);
    expect(resumedOn).toEqual([0, 1]);
  });

  test('FTPS: a TLS 1.3 ticket resumes on both workers (every worker has the same FTPS ticket keys)', async () => {
    const { resumedOn, reused } = await resumeOnBoth((session) => ftpsOnce(serve.ports.ftps!, {}, session, workerOf));
    expect(reused.every(Boolean), `reused: ${reused.join(' ')}`).toBe(true);
    expect(resumedOn).toEqual([0, 1]);
  });
});

describe('issue 16 One machine: TLS sessions by ID in a single process', () => {
  let server: TestServer;

  beforeAll(async () => {
    const dir = tempDir('polyprov-tls-sessions-');
    writeCertificate(join(dir, 'c.pem'), join(dir, 'k.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] });
    server = await startTestServer(standardTree(), { http: undefined, https: '127.0.0.1:0', ftps: '127.0.0.1:0', cert: join(dir, 'c.pem'), key: join(dir, 'k.pem') });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  test('HTTPS and FTPS session IDs resume, and no session byte reaches the log', async () => {
    const port = (t: string) => server.listening.find((l) => l.transport === t)!.port;
    const seen: Buffer[] = [];
    for (const once of [(s?: Buffer) => httpsOnce(port('https'), NO_TICKET, s), (s?: Buffer) => ftpsOnce(port('ftps'), NO_TICKET, s)]) {
      const first = await once();
      expect(first.ticket).toBe(false);
      const again = await once(first.session);
      expect(again.reused).toBe(true);
      seen.push(first.session!);
    }
    // An HTTPS session ID does not resume on FTPS (its own sessionIdContext and cache keys).
    expect((await ftpsOnce(port('ftps'), NO_TICKET, seen[0])).reused).toBe(false);
    // The master key (in the server's session data too) in no form: hex, or base64 at any alignment.
    const log = server.logs.join('\n');
    expect(log.length).toBeGreaterThan(0);
    for (const s of seen) {
      const key = masterKey(s);
      expect(key.length).toBe(48);
      expect(log).not.toContain(key.toString('hex'));
      for (let j = 0; j < 3; j++) expect(log).not.toContain(key.subarray(j, j + 3 * Math.floor((48 - j) / 3)).toString('base64'));
    }
  });
});
