// Server options checked in one place (issue 12 item 6): every refusal is PP_OPT_UNKNOWN with the
// nearest known name or PP_OPT_INVALID naming where the value came from and what is allowed,
// from the options file (file:line), a flag or the environment; the rules between options too.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ProvError } from './errors.ts';
import { loadServerOptions } from './options.ts';

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'polyprov-opts-')), 'polyprov.json');
  writeFileSync(p, text);
  return p;
}

function refusal(fn: () => unknown): ProvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProvError) return e;
    throw new Error(`not a ProvError: ${String(e)}`);
  }
  throw new Error('not refused');
}

describe('options file (README, Server options file)', () => {
  test('an unknown key is PP_OPT_UNKNOWN naming the nearest key, at its line', () => {
    const f = file('{\n  "root": "site",\n  "tftpBlksize": 1468\n}\n');
    const e = refusal(() => loadServerOptions({ config: f }, {}));
    expect(e.code).toBe('PP_OPT_UNKNOWN');
    expect(e.message).toContain('"tftpBlksizeMax"');
    expect([e.file, e.line]).toEqual([f, 3]);
  });

  test('RFC 2348: a blksize outside 8–65464 is PP_OPT_INVALID with the range, at its line', () => {
    const f = file('{\n  "root": "site",\n  "http": "127.0.0.1:8080",\n  "tftpBlksizeMax": 70000\n}\n');
    const e = refusal(() => loadServerOptions({ config: f }, {}));
    expect(e.code).toBe('PP_OPT_INVALID');
    expect(e.message).toContain('8–65464');
    expect(e.line).toBe(4);
    expect(e.format()).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:3: PP_OPT_INVALID tftpBlksizeMax 70000 `));
  });

  test('bad values of each kind: enum, listener, CIDR, boolean, store URL, not JSON, not an object, missing file', () => {
    const cases: [string, string][] = [
      ['{"policy": "closed"}', 'open, accounts'],
      ['{"http": "8080"}', 'HOST:PORT'],
      ['{"tftp": "0.0.0.0:70000"}', '0–65535'],
      ['{"allow": ["10.0.0.0/33"]}', '10.0.0.0/33'],
      ['{"tftpSecretAllow": "10.1.0.0/16, lan"}', '"lan"'],
      ['{"staging": "yes"}', 'boolean'],
      ['{"storeUrl": "mysql://db"}', 'postgres://'],
      ['{"tftpRetries": 2.5}', '1–20'],
      ['{"root": "site",}', 'JSON'],
      ['["root"]', 'one JSON object'],
    ];
    for (const [text, allowed] of cases) {
      const e = refusal(() => loadServerOptions({ config: file(text) }, {}));
      expect([text, e.code]).toEqual([text, 'PP_OPT_INVALID']);
      expect(e.message).toContain(allowed);
    }
    expect(refusal(() => loadServerOptions({ config: '/nonexistent/polyprov.json' }, {})).code).toBe('PP_OPT_INVALID');
  });

  test('rules between options: https and ftps need cert and key; the FTP passive range is both ends or neither, lowest first', () => {
    const https = refusal(() => loadServerOptions({ config: file('{\n "https": "0.0.0.0:443"\n}') }, {}));
    expect([https.code, https.line]).toEqual(['PP_OPT_INVALID', 2]);
    expect(https.message).toContain('cert and key');
    expect(refusal(() => loadServerOptions({ ftps: '0.0.0.0:990' }, {})).message).toMatch(/^command line \(--ftps\): ftps .* needs cert and key/);
    const half = refusal(() => loadServerOptions({ config: file('{"ftpPassivePortMin": 50000}') }, {}));
    expect(half.code).toBe('PP_OPT_INVALID');
    expect(half.message).toContain('both 0');
    expect(refusal(() => loadServerOptions({ ftpPassivePortMin: '50100', ftpPassivePortMax: '50000' }, {})).code).toBe('PP_OPT_INVALID');
    // A flag may supply what the file lacks.
    const ok = loadServerOptions({ config: file('{"https": "127.0.0.1:0"}'), cert: 'c.pem', key: 'k.pem', ftpPassivePortMin: '50000', ftpPassivePortMax: '50000' }, {});
    expect([ok.https, ok.ftpPassivePortMin, ok.ftpPassivePortMax]).toEqual(['127.0.0.1:0', 50000, 50000]);
  });
});

describe('flags and environment', () => {
  test('issue 16: POLYPROV_WORKERS sets the serve processes; --workers beats it; a bad value names the variable', () => {
    expect(loadServerOptions({}, { POLYPROV_WORKERS: '3' }).workers).toBe(3);
    expect(loadServerOptions({ workers: 1 }, { POLYPROV_WORKERS: '3' }).workers).toBe(1);
    expect(loadServerOptions({}, {}).workers).toBe(0);
    expect(() => loadServerOptions({}, { POLYPROV_WORKERS: 'many' })).toThrow(/POLYPROV_WORKERS/);
  });

  test('a bad flag value names the flag; a bad POLYPROV_DATA is not taken for a flag', () => {
    const e = refusal(() => loadServerOptions({ rateLimitPerSec: '0' }, {}));
    expect(e.code).toBe('PP_OPT_INVALID');
    expect(e.message).toMatch(/^command line \(--rate-limit-per-sec\): rateLimitPerSec "0" is outside 1–1000000/);
    expect(e.file).toBeUndefined();
    expect(refusal(() => loadServerOptions({ http: 'localhost' }, {})).message).toMatch(/^command line \(--http\)/);
  });

  test('defaults, then the file, then the environment, then flags; the result is frozen', () => {
    const f = file('{"root": "tree", "data": "state", "policy": "open", "allow": "10.0.0.0/8, ::1"}');
    const o = loadServerOptions({ config: f, policy: 'accounts' }, { POLYPROV_DATA: '/var/lib/polyprov' });
    expect(o.root).toBe(join(f, '..', 'tree'));
    expect(o.data).toBe('/var/lib/polyprov');
    expect(o.policy).toBe('accounts');
    expect(o.allow).toEqual(['10.0.0.0/8', '::1']);
    expect(o.tftpBlksizeMax).toBe(65464);
    expect(Object.isFrozen(o)).toBe(true);
  });
});
