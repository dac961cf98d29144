// Issue 12 item 2: what the boot server accepts and what `explain` says can no longer differ. For
// every master file among the fixtures and the genuine distribution files, `polyprov explain
// --json` names where each upload goes, and the core's write path (handle(), op write) accepts
// that upload in exactly that directory and in no other directory of the tree (white paper,
// "Master Configuration File": the phone writes to the location LOG_FILE_DIRECTORY,
// OVERRIDES_DIRECTORY, CONTACT(S)_DIRECTORY name; null = the root of the server path).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { createBootService } from '../../src/core/boot-service.ts';
import type { BootRequest } from '../../src/core/request.ts';
import { loadServerOptions } from '../../src/options.ts';
import { openMemoryStore } from '../support/memory-store.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'bin', 'polyprov');
const FIXTURES = join(REPO, 'test', 'fixtures', 'trees');
const REAL = join(REPO, '..', 'shared', 'real-configs');
/** A phone with no <MAC>.cfg of its own anywhere in these trees. */
const OTHER_MAC = '0004f2000077';
const UA = 'FileTransport PolycomSoundPointIP-SPIP_650-UA/3.2.4.0267';
const SUFFIX: Record<string, string> = {
  'override-phone': '-phone.cfg',
  'override-web': '-web.cfg',
  directory: '-directory.xml',
  'log-boot': '-boot.log',
  'log-app': '-app.log',
  calls: '-calls.xml',
};

function walk(abs: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(r + '/', ...walk(join(abs, e.name), r));
    else out.push(r);
  }
  return out;
}

/** Every master file: `<MAC>.cfg`/`000000000000.cfg` names, or an <APPLICATION …> file carrying APP_FILE_PATH. */
function masters(): Array<{ root: string; rel: string }> {
  const roots = [
    ...readdirSync(FIXTURES).map((d) => join(FIXTURES, d)),
    ...(existsSync(REAL) ? readdirSync(REAL).map((d) => join(REAL, d)) : []),
  ].filter((d) => statSync(d).isDirectory());
  const out: Array<{ root: string; rel: string }> = [];
  for (const root of roots) {
    for (const rel of walk(root)) {
      if (rel.endsWith('/') || !rel.endsWith('.cfg')) continue;
      const text = readFileSync(join(root, rel), 'utf8');
      if (/<APPLICATION\b/.test(text) && /APP_FILE_PATH/.test(text)) out.push({ root, rel });
    }
  }
  return out;
}

function explain(root: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, 'explain', root, ...args, '--json'], { cwd: REPO, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`explain failed: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ALL = masters();

describe('issue 12 item 2: the upload directories the server accepts equal those explain prints', () => {
  test('the masters are found: every fixture tree and both genuine distribution masters', () => {
    // Named from the checkout and from the shared folder beside it, whatever the checkout's directory is called.
    const names = ALL.map((m) => `${relative(REPO, m.root)}/${m.rel}`);
    expect(names).toEqual(expect.arrayContaining([
      'test/fixtures/trees/basic/000000000000.cfg',
      'test/fixtures/trees/basic/0004F2000002.cfg',
      'test/fixtures/trees/contact-spelling/000000000000.cfg',
      'test/fixtures/trees/tenants/tenant1/000000000000.cfg',
      'test/fixtures/trees/tenants/tenant2/000000000000.cfg',
    ]));
    if (existsSync(REAL)) {
      const real = ALL.map((m) => `${relative(REAL, m.root)}/${m.rel}`);
      expect(real).toEqual(expect.arrayContaining(['sip-1.2.0/000000000000.cfg', 'sip-3.2.4/000000000000.cfg']));
    }
  });

  test.each(ALL.map((m) => [`${relative(REPO, m.root) || m.root}/${m.rel}`, m] as const))('%s', async (_name, { root, rel }) => {
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/') + 1) : '';
    const macMaster = /^([0-9A-Fa-f]{12})\.cfg$/.exec(base)?.[1]?.toLowerCase();
    const mac = macMaster && macMaster !== '000000000000' ? macMaster : OTHER_MAC;
    // The boot-server address: the master's directory, or the master itself when it has another name.
    const serverPath = macMaster ? dir : rel;
    const j = await explain(root, ['--mac', mac, '--model', 'SPIP650', ...(serverPath ? ['--master', serverPath] : [])]);
    // explain names the master as the phone asks for it (lower-case MAC); the tree may spell it in upper case.
    expect((j.master as { file: string }).file.toLowerCase()).toBe(rel.toLowerCase());
    const uploads = j.uploads as Record<string, string>;

    const data = mkdtempSync(join(tmpdir(), 'polyprov-layout-'));
    dirs.push(data);
    const store = await openMemoryStore(join(data, 'tmp'));
    const options = Object.freeze({ ...loadServerOptions({ root, data }, {}), policy: 'open' as const, rateLimitPerSec: 1e6, rateLimitBurst: 1e6 });
    const core = await createBootService({ options, store, log: pino({ level: 'silent' }) });
    try {
      const request = (op: 'read' | 'write', path: string): BootRequest => ({
        transport: 'http',
        remote: { address: '127.0.0.1', port: 40000 },
        op,
        path,
        userAgent: UA,
        signal: new AbortController().signal,
        ...(op === 'write' ? { body: Readable.from([Buffer.from('<PHONE_CONFIG/>\n')]) } : {}),
      });
      // The phone asks for <MAC>.cfg, then the master it finds (Administrator's Guide, "Master
      // Configuration Files"), before it uploads anything.
      if (!macMaster || macMaster === '000000000000') {
        const own = await core.handle(request('read', `${dir}${mac}.cfg`));
        expect(own.kind === 'refused' && own.error.code).toBe('PP_NOT_FOUND');
      }
      const m = await core.handle(request('read', rel));
      expect(m.kind).toBe('file');
      if (m.kind === 'file') m.done({ bytes: m.size, durationMs: 1, status: '200', aborted: false });

      const candidates = ['', ...walk(root).filter((p) => p.endsWith('/')).map((p) => p.slice(0, -1))];
      for (const [kind, path] of Object.entries(uploads)) {
        const want = dirname(path) === '.' ? '' : dirname(path);
        const accepted: string[] = [];
        for (const d of new Set([...candidates, want])) {
          const r = await core.handle(request('write', d ? `${d}/${mac}${SUFFIX[kind]}` : `${mac}${SUFFIX[kind]}`));
          if (r.kind === 'stored') accepted.push(d);
          else expect(r.kind === 'refused' && r.error.code, `${kind} in "${d}"`).toBe('PP_READ_ONLY');
        }
        expect(accepted, `${kind}: explain says ${path}`).toEqual([want]);
      }
    } finally {
      await core.close();
      await store.close();
    }
  }, 60_000);
});
