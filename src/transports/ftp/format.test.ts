import { describe, expect, test } from 'vitest';
import { epsvReply, formatListLine, formatMdtm, formatReply, ftpCodeOf, pasvReply } from './format.ts';

describe('FTP reply formats', () => {
  test('RFC 959 §4.2: single and multi-line replies', () => {
    expect(formatReply(200, 'OK')).toBe('200 OK\r\n');
    expect(formatReply(211, 'Features:\nSIZE\nEnd')).toBe('211-Features:\r\n SIZE\r\n211 End\r\n');
  });
  test('RFC 3659 §2.3: MDTM time-val is UTC YYYYMMDDHHMMSS', () => {
    expect(formatMdtm(new Date(Date.UTC(2009, 0, 2, 3, 4, 5)))).toBe('20090102030405');
  });
  test('RFC 959 §4.1.2 PASV and RFC 2428 §3 EPSV replies', () => {
    expect(pasvReply('127.0.0.1', 50001)).toBe('Entering Passive Mode (127,0,0,1,195,81).');
    expect(epsvReply(50001)).toBe('Entering Extended Passive Mode (|||50001|)');
  });
  test('LIST lines: ls -l shape, recent files show the time, old ones the year', () => {
    const now = new Date(Date.UTC(2026, 10, 23));
    expect(formatListLine({ name: 'sip.cfg', size: 42, mtime: new Date(Date.UTC(2026, 10, 1, 9, 5)) }, now)).toBe(
      '-r--r--r--    1 ftp      ftp                42 Nov  1 09:05 sip.cfg\r\n',
    );
    expect(formatListLine({ name: 'a', size: 1, mtime: new Date(Date.UTC(2009, 5, 10)) }, now)).toContain('Jun 10  2009 a');
  });
  test('error catalogue FTP column: auth refusals are 530, hostile paths 553, unknown ones 550', () => {
    expect(ftpCodeOf('PP_AUTH_FAILED')).toBe(530);
    expect(ftpCodeOf('PP_PATH_HOSTILE')).toBe(553);
    expect(ftpCodeOf('PP_READ_ONLY')).toBe(550);
    expect(ftpCodeOf('PP_CFG_XML_MALFORMED')).toBe(550);
  });
});
