import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { quotePathname, resolveFtpPath } from './path.ts';

describe('resolveFtpPath', () => {
  test('RFC 959 §3.1 pathnames: relative names join the working directory', () => {
    expect(resolveFtpPath('/', '0004f2000001.cfg')).toBe('/0004f2000001.cfg');
    expect(resolveFtpPath('/logs', '0004f2000001-app.log')).toBe('/logs/0004f2000001-app.log');
    expect(resolveFtpPath('/logs', '/sip.cfg')).toBe('/sip.cfg');
    expect(resolveFtpPath('/a/b', '.')).toBe('/a/b');
    expect(resolveFtpPath('/a/b', '..')).toBe('/a');
    expect(resolveFtpPath('/a', '')).toBe('/a');
    expect(resolveFtpPath('/', 'dir//file')).toBe('/dir/file');
  });

  test('issue 5, nothing outside the root: `..` is clamped at /', () => {
    expect(resolveFtpPath('/', '../../etc/passwd')).toBe('/etc/passwd');
    expect(resolveFtpPath('/logs', '../../../x')).toBe('/x');
    expect(resolveFtpPath('/', '/..')).toBe('/');
  });

  test('issue 5, nothing outside the root: no argument ever yields a path with a `..` segment (seed 42)', () => {
    const seg = fc.constantFrom('..', '.', '', 'a', 'b.cfg', '...', '..a', ' ');
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 12 }), fc.array(seg, { maxLength: 12 }), fc.boolean(), (c, a, abs) => {
        const cwd = resolveFtpPath('/', c.join('/'));
        const out = resolveFtpPath(cwd, (abs ? '/' : '') + a.join('/'));
        expect(out.startsWith('/')).toBe(true);
        expect(out.split('/')).not.toContain('..');
        expect(out.split('/').slice(1)).not.toContain('.');
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  test('RFC 959 §7, 257 reply: quotes in a directory name are doubled', () => {
    expect(quotePathname('/a"b')).toBe('"/a""b"');
  });
});
