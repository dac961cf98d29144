import { describe, expect, test } from 'vitest';
import { isProvError } from '../errors.ts';
import { parseServerAddress, resolveFileRef, resolveInDirectory } from './server-address.ts';

describe('SEED-AG Server Menu: Server Address forms', () => {
  test('dotted-decimal IP address: Server Type decides the protocol, FTP by default, factory PlcmSpIp account', () => {
    expect(parseServerAddress('192.168.1.10')).toEqual({ protocol: 'ftp', host: '192.168.1.10', port: 21, user: 'PlcmSpIp', password: 'PlcmSpIp', directory: '', masterFile: undefined });
    expect(parseServerAddress('192.168.1.10', { serverType: 'tftp' }).protocol).toBe('tftp');
  });

  test('domain name with an optional directory and optional master file name', () => {
    const a = parseServerAddress('prov.example.com/phones/site1/example1.cfg', { serverType: 'http' });
    expect(a).toMatchObject({ protocol: 'http', host: 'prov.example.com', port: 80, directory: 'phones/site1/', masterFile: 'example1.cfg' });
    expect(parseServerAddress('prov.example.com/phones/').directory).toBe('phones/');
  });

  test('master file name must end with .cfg and be at least five characters (SEED-AG, Master Configuration Files)', () => {
    expect(parseServerAddress('http://h/dir/x.cfg').masterFile).toBe('x.cfg');
    expect(parseServerAddress('http://h/dir/.cfg').masterFile).toBeUndefined();
    expect(parseServerAddress('http://h/dir/.cfg').directory).toBe('dir/.cfg/');
    expect(parseServerAddress('http://h/dir/readme.txt').masterFile).toBeUndefined();
  });

  test('URL with protocol, port and credentials; RFC 1738 escapes for ":", "@" and "/" in user and password', () => {
    const a = parseServerAddress('https://us%40er:p%3Ass%2Fw%40rd@prov.example.com:8443/dir/');
    expect(a).toMatchObject({ protocol: 'https', host: 'prov.example.com', port: 8443, user: 'us@er', password: 'p:ss/w@rd', directory: 'dir/' });
  });

  test('Server User and Server Password are ignored when the URL carries them, used when it does not', () => {
    expect(parseServerAddress('http://h/', { user: 'u', password: 'p' })).toMatchObject({ user: 'u', password: 'p' });
    expect(parseServerAddress('http://a:b@h/', { user: 'u', password: 'p' })).toMatchObject({ user: 'a', password: 'b' });
    // a URL with a user name only: Server User ignored, Server Password still used
    expect(parseServerAddress('http://a@h/', { user: 'u', password: 'p' })).toMatchObject({ user: 'a', password: 'p' });
  });

  test('tftp:// forces TFTP (SEED-AG note on option 66); IPv6 literal in brackets', () => {
    expect(parseServerAddress('tftp://192.168.9.10', { serverType: 'http' }).protocol).toBe('tftp');
    expect(parseServerAddress('http://[::1]:8080/d/')).toMatchObject({ host: '::1', port: 8080, directory: 'd/' });
  });

  test('back slashes, spaces, bad ports, unknown protocols and credentials without a URL are refused', () => {
    for (const bad of ['http://h\\dir', 'http://h/a b', 'http://h:70000/', 'gopher://h/', 'u:p@h', 'http://u:%zz@h/', '']) {
      let err: unknown;
      try {
        parseServerAddress(bad);
      } catch (e) {
        err = e;
      }
      expect(isProvError(err) && err.code === 'PP_USAGE', bad).toBe(true);
    }
  });

  test('white paper, CONFIG_FILES: entries relative to the server path, or full URLs on other servers', () => {
    const base = parseServerAddress('http://u:p@h/dir/');
    expect(resolveFileRef(base, 'sip.cfg')).toMatchObject({ path: 'dir/sip.cfg', key: 'sip.cfg', server: { host: 'h' } });
    const other = resolveFileRef(base, 'ftp://x:y@other/sub/extra.cfg');
    expect(other.server).toMatchObject({ protocol: 'ftp', host: 'other', user: 'x', password: 'y' });
    expect(other.path).toBe('sub/extra.cfg');
    expect(resolveInDirectory(base, '', '0004f2000001-app.log').path).toBe('dir/0004f2000001-app.log');
    expect(resolveInDirectory(base, 'logs', '0004f2000001-app.log').path).toBe('dir/logs/0004f2000001-app.log');
  });
});
