// Issue 13 item 4: the core knows which master applies from the master each phone last fetched —
// the inventory keeps it, so a restarted server still puts the phone's uploads where its master
// says — falling back to the master beside the upload path. Here the tenant's master sends logs
// to a directory at the tree root ("/shared-logs": a leading "/" is the tree root), where no
// master sits beside the upload; only the remembered master can place it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, expect, test } from 'vitest';
import { uploadPath } from '../../src/config/phone-layout.ts';
import { resolvePhone } from '../../src/config/resolver.ts';
import { TreeFiles } from '../../src/config/tree-source.ts';
import { createBootService } from '../../src/core/boot-service.ts';
import type { BootRequest, BootResult } from '../../src/core/request.ts';
import type { Mac } from '../../src/domain.ts';
import { loadServerOptions } from '../../src/options.ts';
import { openMemoryStore } from '../support/memory-store.ts';
import { makeTree } from '../support/tree.ts';

const MAC = '0004f2000041' as Mac;
const root = makeTree({
  'tenant1/000000000000.cfg':
    '<?xml version="1.0" standalone="yes"?>\n<!-- white paper, Master Configuration File -->\n' +
    '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" LOG_FILE_DIRECTORY="/shared-logs" OVERRIDES_DIRECTORY="overrides"/>\n',
  'tenant1/site.cfg': '<polycomConfig tcpIpApp.sntp.address="pool.ntp.org"/>\n',
  'shared-logs/.keep': '',
  // A per-phone master that does not parse: the phone moves on to 000000000000.cfg (Administrator's Guide, "Master Configuration Files").
  'tenant2/0004f2000045.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg"\n',
  'tenant2/000000000000.cfg': '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="" LOG_FILE_DIRECTORY="logs"/>\n',
});
const data = mkdtempSync(join(tmpdir(), 'polyprov-remembered-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

/** "Tag SN to UA" (Administrator's Guide): the phone names itself in every request. */
const UA = `FileTransport PolycomVVX-VVX_410-UA/5.9.5.0614 (SN:${MAC}) Type/Application`;

function request(op: 'read' | 'write', path: string, userAgent: string | undefined = UA): BootRequest {
  return {
    transport: 'http',
    remote: { address: '192.0.2.41', port: 40000 },
    op,
    path,
    ...(userAgent ? { userAgent } : {}),
    signal: new AbortController().signal,
    ...(op === 'write' ? { body: Readable.from([Buffer.from('log line\n')]) } : {}),
  };
}
const outcome = (r: BootResult) => (r.kind === 'refused' ? r.error.code : r.kind);

test('issue 13 item 4: after a restart the inventory\'s master (tenant1/000000000000.cfg) still places the upload; with none, the master beside it decides', async () => {
  const store = await openMemoryStore(join(data, 'tmp'));
  const options = Object.freeze({ ...loadServerOptions({ root, data }, {}), policy: 'open' as const, rateLimitPerSec: 1e6, rateLimitBurst: 1e6 });
  const first = await createBootService({ options, store, log: pino({ level: 'silent' }) });
  expect(outcome(await first.handle(request('read', `tenant1/${MAC}.cfg`)))).toBe('PP_NOT_FOUND');
  const m = await first.handle(request('read', 'tenant1/000000000000.cfg'));
  expect(m.kind).toBe('file');
  if (m.kind === 'file') m.done({ bytes: m.size, durationMs: 1, status: '200', aborted: false });
  expect(outcome(await first.handle(request('write', `shared-logs/${MAC}-app.log`)))).toBe('stored');
  await first.close(); // flushes the sightings into the inventory
  expect((await store.phones.get(MAC))?.master).toBe('tenant1/000000000000.cfg');

  // A new process: nothing in memory, the phone uploads before it reads its master again.
  const second = await createBootService({ options, store, log: pino({ level: 'silent' }) });
  expect(outcome(await second.handle(request('write', `shared-logs/${MAC}-boot.log`)))).toBe('stored');
  expect(outcome(await second.handle(request('write', `${MAC}-boot.log`)))).toBe('PP_READ_ONLY');
  // Another phone the inventory does not know: no master beside shared-logs/, so the root's rules (none: the root).
  const other = '0004f2000042';
  expect(outcome(await second.handle(request('write', `shared-logs/${other}-app.log`, '')))).toBe('PP_READ_ONLY');
  expect(outcome(await second.handle(request('write', `tenant1/${other}-app.log`, '')))).toBe('PP_READ_ONLY'); // beside it: tenant1's master says /shared-logs
  await second.close();
  await store.close();
});

test('a <MAC>.cfg that is no master file: the server and explain both move on to 000000000000.cfg', async () => {
  const mac = '0004f2000045' as Mac;
  const store = await openMemoryStore(join(data, 'tmp-broken'));
  const options = Object.freeze({ ...loadServerOptions({ root, data }, {}), policy: 'open' as const, rateLimitPerSec: 1e6, rateLimitBurst: 1e6 });
  const core = await createBootService({ options, store, log: pino({ level: 'silent' }) });
  const m = await core.handle(request('read', `tenant2/${mac}.cfg`, ''));
  if (m.kind === 'file') m.done({ bytes: m.size, durationMs: 1, status: '200', aborted: false });
  expect(outcome(await core.handle(request('write', `tenant2/logs/${mac}-app.log`, '')))).toBe('stored');
  expect(outcome(await core.handle(request('write', `tenant2/${mac}-app.log`, '')))).toBe('PP_READ_ONLY');
  const r = await resolvePhone(new TreeFiles(root), { mac }, { masterName: 'tenant2/' });
  expect(r.master?.file).toBe('tenant2/000000000000.cfg');
  expect(uploadPath(r.layout, 'log-app')).toBe(`tenant2/logs/${mac}-app.log`);
  await core.close();
  await store.close();
});

test('phones behind one address (NAT): a 000000000000.cfg read named by no MAC or serial is nobody\'s master', async () => {
  const store = await openMemoryStore(join(data, 'tmp-nat'));
  const options = Object.freeze({ ...loadServerOptions({ root, data }, {}), policy: 'open' as const, rateLimitPerSec: 1e6, rateLimitBurst: 1e6 });
  const core = await createBootService({ options, store, log: pino({ level: 'silent' }) });
  const a = '0004f2000043';
  const b = '0004f2000044';
  // Phone A (tenant1) asks for its own master; phone B (no directory in its server address) asks for its own; then A's 000000000000.cfg read arrives.
  expect(outcome(await core.handle(request('read', `tenant1/${a}.cfg`, '')))).toBe('PP_NOT_FOUND');
  expect(outcome(await core.handle(request('read', `${b}.cfg`, '')))).toBe('PP_NOT_FOUND');
  const m = await core.handle(request('read', 'tenant1/000000000000.cfg', ''));
  if (m.kind === 'file') m.done({ bytes: m.size, durationMs: 1, status: '200', aborted: false });
  // B keeps the root (no master there: its uploads go to the root); A keeps tenant1's master.
  expect(outcome(await core.handle(request('write', `${b}-app.log`, '')))).toBe('stored');
  expect(outcome(await core.handle(request('write', `shared-logs/${a}-app.log`, '')))).toBe('stored');
  await core.close();
  await store.close();
});
