// Every refusal the core makes on its own account, one test per PP_* code that the access matrix
// (access-matrix.test.ts) does not reach: address allow-list, rate limit, directory reads, bad
// and broken uploads, a store that fails. Each goes through the public entry point
// (createBootService → handle) over the in-memory store, and each refusal is checked in the
// audit too (issue 12 item 3: "every refusal of a parsed request … is audited and counted once").
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../domain.ts';
import { ProvError } from '../errors.ts';
import { loadServerOptions, type ServerOptions } from '../options.ts';
import type { Store } from '../store/store.ts';
import { MemoryStore, openMemoryStore } from '../../test/support/memory-store.ts';
import { createBootService } from './boot-service.ts';
import type { BootRequest, BootResult } from './request.ts';

const MAC1 = '0004f2000001' as Mac;
const MAC2 = '0004f2000002' as Mac;
const OVERRIDE = `overrides/${MAC1}-phone.cfg`;
const silent = pino({ level: 'silent' });
const dirs: string[] = [];
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'polyprov-refusals-'));
  dirs.push(root);
  mkdirSync(join(root, 'overrides'));
  mkdirSync(join(root, 'logs'));
  writeFileSync(
    join(root, '000000000000.cfg'),
    '<?xml version="1.0" standalone="yes"?>\n<!-- white paper, Master Configuration File -->\n' +
      '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides"/>\n',
  );
  writeFileSync(join(root, 'site.cfg'), '<polycomConfig tcpIpApp.sntp.address="pool.ntp.org"/>\n');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function core(opts: Partial<ServerOptions> = {}, store?: Store) {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-refusals-data-'));
  dirs.push(data);
  const s = store ?? (await openMemoryStore(join(data, 'tmp')));
  const base = loadServerOptions({ root, data }, {});
  const options = Object.freeze({ ...base, policy: 'open', rateLimitPerSec: 1e6, rateLimitBurst: 1e6, ...opts } as ServerOptions);
  const svc = await createBootService({ options, store: s, log: silent });
  return {
    svc,
    store: s,
    /** Flushes the audit and returns the codes recorded, oldest first. */
    async auditedCodes(): Promise<Array<string | undefined>> {
      await svc.close();
      return (await s.audit.query({ limit: 1000 })).reverse().map((e) => e.code);
    },
  };
}

function req(o: Partial<BootRequest>): BootRequest {
  return { transport: 'http', remote: { address: '192.0.2.10', port: 40000 }, op: 'read', path: 'site.cfg', signal: new AbortController().signal, ...o };
}

const code = (r: BootResult): string => (r.kind === 'refused' ? r.error.code : r.kind);

function body(...chunks: string[]): Readable {
  return Readable.from(chunks.map((c) => Buffer.from(c)));
}

async function storeOverride(store: Store, text: string): Promise<void> {
  const sink = await store.uploads.begin({ mac: MAC1, kind: 'override-phone', path: OVERRIDE }, { mode: 'replace', address: '192.0.2.9', maxBytes: 1 << 20, keepVersions: 3 });
  await sink.write(Buffer.from(text));
  await sink.commit();
}

async function currentOverride(store: Store): Promise<string | undefined> {
  const f = await store.uploads.current({ mac: MAC1, kind: 'override-phone', path: OVERRIDE });
  return f && (await f.read()).toString();
}

describe('core refusals (issue 12 item 7: a test for every PP_* code)', () => {
  test('README Running the boot server, allow: PP_ADDRESS_DENIED outside the allow-list, served inside it (IPv4-mapped too)', async () => {
    const c = await core({ allow: ['10.0.0.0/8'] });
    expect(code(await c.svc.handle(req({ remote: { address: '192.0.2.10', port: 1 } })))).toBe('PP_ADDRESS_DENIED');
    expect(code(await c.svc.handle(req({ remote: { address: '10.1.2.3', port: 1 } })))).toBe('file');
    expect(code(await c.svc.handle(req({ remote: { address: '::ffff:10.1.2.3', port: 1 } })))).toBe('file');
    expect(code(await c.svc.handle(req({ transport: 'tftp', remote: { address: '198.51.100.7', port: 1 } })))).toBe('PP_ADDRESS_DENIED');
    expect((await c.auditedCodes()).filter((x) => x === 'PP_ADDRESS_DENIED')).toHaveLength(2);
  });

  test('issue 4 rate limits: PP_RATE_LIMITED past the burst, per source address', async () => {
    const c = await core({ rateLimitPerSec: 1, rateLimitBurst: 2 });
    const from = (address: string) => c.svc.handle(req({ op: 'stat', remote: { address, port: 1 } }));
    expect(code(await from('192.0.2.10'))).toBe('file');
    expect(code(await from('192.0.2.10'))).toBe('file');
    expect(code(await from('192.0.2.10'))).toBe('PP_RATE_LIMITED');
    expect(code(await from('192.0.2.11'))).toBe('file');
    expect((await c.auditedCodes()).filter((x) => x === 'PP_RATE_LIMITED')).toHaveLength(1);
  });

  test('README: directory listings are not served — a read of a directory is PP_LISTING_REFUSED, its stat says directory', async () => {
    const c = await core();
    expect(code(await c.svc.handle(req({ path: 'logs' })))).toBe('PP_LISTING_REFUSED');
    expect(code(await c.svc.handle(req({ path: '/' })))).toBe('PP_LISTING_REFUSED');
    const st = await c.svc.handle(req({ op: 'stat', path: 'logs' }));
    expect(st).toMatchObject({ kind: 'file', directory: true });
    expect((await c.auditedCodes()).filter((x) => x === 'PP_LISTING_REFUSED')).toHaveLength(2);
  });

  test('README Uploads: an upload shorter than it announced is PP_UPLOAD_TRUNCATED and the previous version stays', async () => {
    const c = await core();
    await storeOverride(c.store, 'previous');
    const r = await c.svc.handle(req({ op: 'write', path: OVERRIDE, size: 100, body: body('<PHONE_CONFIG/>') }));
    expect(code(r)).toBe('PP_UPLOAD_TRUNCATED');
    expect(await currentOverride(c.store)).toBe('previous');
    expect(await c.auditedCodes()).toContain('PP_UPLOAD_TRUNCATED');
  });

  test('README Uploads: a phone that hangs up mid-upload (signal) is PP_UPLOAD_TRUNCATED and the previous version stays', async () => {
    const c = await core();
    await storeOverride(c.store, 'previous');
    const hangUp = new AbortController();
    const stream = new Readable({ read() {} });
    const pending = c.svc.handle(req({ op: 'write', path: OVERRIDE, body: stream, signal: hangUp.signal }));
    stream.push(Buffer.from('<PHONE_CONFIG>'));
    await new Promise((r) => setTimeout(r, 20));
    hangUp.abort();
    stream.push(Buffer.from('</PHONE_CONFIG>'));
    stream.push(null);
    expect(code(await pending)).toBe('PP_UPLOAD_TRUNCATED');
    expect(await currentOverride(c.store)).toBe('previous');
  });

  test('README Uploads: over the size limit is PP_UPLOAD_TOO_LARGE, announced or streamed', async () => {
    const c = await core({ uploadMaxBytesOverride: 1024 });
    await storeOverride(c.store, 'previous');
    expect(code(await c.svc.handle(req({ op: 'write', path: OVERRIDE, size: 1025, body: body('x') })))).toBe('PP_UPLOAD_TOO_LARGE');
    expect(code(await c.svc.handle(req({ op: 'write', path: OVERRIDE, body: body('x'.repeat(600), 'y'.repeat(600)) })))).toBe('PP_UPLOAD_TOO_LARGE');
    expect(await currentOverride(c.store)).toBe('previous');
  });

  test('an upload request without a body is PP_BAD_REQUEST', async () => {
    const c = await core();
    expect(code(await c.svc.handle(req({ op: 'write', path: OVERRIDE })))).toBe('PP_BAD_REQUEST');
    expect(await c.auditedCodes()).toContain('PP_BAD_REQUEST');
  });

  test('README Uploads: a phone may write only its own files — a User-Agent naming another phone is PP_WRITE_OTHER_MAC', async () => {
    const c = await core();
    const ua = `FileTransport PolycomSoundPointIP-SPIP_650-UA/3.1.3.0439 (SN:${MAC2}) Type/Application`;
    expect(code(await c.svc.handle(req({ op: 'write', path: OVERRIDE, userAgent: ua, body: body('<PHONE_CONFIG/>') })))).toBe('PP_WRITE_OTHER_MAC');
    expect(await currentOverride(c.store)).toBeUndefined();
  });

  // A fault injected into an otherwise real store: the only way to make a commit fail on demand.
  test('a store that cannot commit: PP_UPLOAD_FAILED to the phone, the previous version stays', async () => {
    const store = await openMemoryStore(join(mkdtempSync(join(tmpdir(), 'polyprov-refusals-fault-')), 'tmp'));
    await storeOverride(store, 'previous');
    const begin = store.uploads.begin.bind(store.uploads);
    (store.uploads as { begin: Store['uploads']['begin'] }).begin = async (key, opts) => {
      const sink = await begin(key, opts);
      return {
        write: (b: Buffer) => sink.write(b),
        abort: () => sink.abort(),
        get bytes() {
          return sink.bytes;
        },
        commit: async () => {
          await sink.abort();
          throw new ProvError('PP_UPLOAD_FAILED', `cannot store upload of ${key.path}: ENOSPC`);
        },
      };
    };
    const c = await core({}, store);
    expect(code(await c.svc.handle(req({ op: 'write', path: OVERRIDE, body: body('<PHONE_CONFIG/>') })))).toBe('PP_UPLOAD_FAILED');
    expect(await currentOverride(store)).toBe('previous');
    expect(await c.auditedCodes()).toContain('PP_UPLOAD_FAILED');
  });

  // Likewise a fault: a store whose upload lookup throws a plain error (a bug, not a refusal).
  test('an unexpected error inside the core is PP_INTERNAL to the phone, never a crash', async () => {
    const store: MemoryStore = await openMemoryStore(join(mkdtempSync(join(tmpdir(), 'polyprov-refusals-fault-')), 'tmp'));
    (store.uploads as { current: Store['uploads']['current'] }).current = async () => {
      throw new TypeError('boom');
    };
    const c = await core({}, store);
    expect(code(await c.svc.handle(req({ path: OVERRIDE })))).toBe('PP_INTERNAL');
    expect(await c.auditedCodes()).toContain('PP_INTERNAL');
  });
});
