import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Mac, ManagedPhone } from '../domain.ts';
import { csvInvalid, parseFleetCsv, writeFleetCsv } from './csv.ts';

const F = 'phones.csv';
const csv = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('fleet CSV import (issue 14, CLI: fleet import FILE.csv)', () => {
  test('issue 14 CLI: header, optional columns, ;-separated groups in order, parameter columns, empty cell = not set', () => {
    const { rows, errors } = parseFleetCsv(
      csv('mac,model,label,tenant,site,groups,reg.1.address,reg.1.auth.password\n00:04:F2:00:00:01,VVX410,Front desk,acme,hq,sales;floor2,1001,"p""w"\n0004f2000002,,,,,,1002,\n'),
      F,
    );
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      { line: 2, phone: { mac: '0004f2000001', model: 'VVX410', label: 'Front desk', tenant: 'acme', site: 'hq', groups: ['sales', 'floor2'] }, settings: { 'reg.1.address': '1001', 'reg.1.auth.password': 'p"w' } },
      { line: 3, phone: { mac: '0004f2000002', groups: [] }, settings: { 'reg.1.address': '1002' } },
    ]);
  });

  test('issue 14 CLI: UTF-8 with BOM and CRLF, RFC 4180 quoting (commas, quotes, line breaks inside a field)', () => {
    const text = '\ufeffmac,label,reg.1.auth.password\r\n0004f2000001,"Müller, Anna","a""b,c\r\nd"\r\n0004f2000002,x,y\r\n';
    const { rows, errors } = parseFleetCsv(csv(text), F);
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.line, r.phone.label, r.settings['reg.1.auth.password']])).toEqual([
      [2, 'Müller, Anna', 'a"b,c\r\nd'],
      [4, 'x', 'y'],
    ]);
    const lf = parseFleetCsv(csv('mac,label\n0004f2000001,a\n\n0004f2000002,b'), F);
    expect(lf.errors).toEqual([]);
    expect(lf.rows.map((r) => r.line)).toEqual([2, 4]);
  });

  test('issue 14 Tests: every kind of bad row is reported as FILE:LINE: column: message, every bad row at once', () => {
    const text = [
      'mac,model,tenant,site,groups,reg.1.address,voIpProt.server.1.port,reg.1.auth.password',
      'zz04f2000001,VVX410,acme,hq,sales,1001,5060,pw', // 2 bad MAC
      '0004f2000001,VVX410,acme,hq,sales,1001,70000,pw', // 3 out of range
      '0004f2000002,VVX999,Acme,h q,sales;Bad,1002,5060,pw', // 4 model, tenant, site, groups
      '00:04:f2:00:00:01,,,,,1003,,', // 5 duplicate of line 3
      '0004f2000003,,,,,1004', // 6 field count
      '0004f2000004,,,,,bad"quote,,', // 7 quoting
      '0004f2000005,,,,,1005,,sec\u0001ret', // 8 control char in a secret
    ].join('\n');
    const { rows, errors } = parseFleetCsv(csv(text), F);
    expect(errors).toEqual([
      'phones.csv:2: mac: "zz04f2000001" is not a MAC address (12 hex digits, with or without : - or . separators)',
      'phones.csv:3: voIpProt.server.1.port: 70000 is above the maximum 65535 (range 0–65535); allowed: a whole number from 0 to 65535',
      'phones.csv:4: model: unknown model "VVX999"',
      'phones.csv:4: tenant: "Acme" is not a valid tenant name (a-z, 0-9, _ and -, at most 63 characters)',
      'phones.csv:4: site: "h q" is not a valid site name (a-z, 0-9, _ and -, at most 63 characters)',
      'phones.csv:4: groups: "Bad" is not a valid group name (a-z, 0-9, _ and -; separate groups with ;)',
      'phones.csv:5: mac: 0004f2000001 is also on line 3 (a phone appears once)',
      'phones.csv:6: fields: 6 fields where the header has 8',
      expect.stringMatching(/^phones\.csv:7: quoting: malformed quoting/),
      'phones.csv:8: reg.1.auth.password: the value contains U+0001, which a configuration file cannot carry',
    ]);
    expect(errors.join('\n')).not.toContain('sec\u0001ret');
    expect(rows.map((r) => r.line)).toEqual([]);
  });

  test('issue 14 CLI: an import with bad rows is refused as PP_FLEET_CSV_INVALID listing every row', () => {
    const { errors } = parseFleetCsv(csv('mac\nnot-a-mac\n0004f2000001\n0004f2000001\n'), F);
    const e = csvInvalid(F, errors);
    expect(e.code).toBe('PP_FLEET_CSV_INVALID');
    expect(e.def.http).toBe(400);
    expect(e.message.split('\n')).toEqual(['phones.csv: 2 problems; nothing was applied', ...errors]);
    expect(errors).toHaveLength(2);
  });

  test('issue 14 Tests: an unknown parameter column is reported with its nearest name', () => {
    const { errors } = parseFleetCsv(csv('mac,reg.1.adress,reg.1.label\n0004f2000001,1001,x\n'), F);
    expect(errors).toEqual(['phones.csv:1: reg.1.adress: unknown parameter "reg.1.adress" (did you mean "reg.1.address"?)']);
  });

  test('issue 14 Tests: bad UTF-8 is reported on its line', () => {
    const bytes = Buffer.concat([csv('mac,reg.1.label\n0004f2000001,ok\n0004f2000002,'), Buffer.from([0xc3, 0x28]), csv('\n0004f2000003,fine\n')]);
    const { errors } = parseFleetCsv(bytes, F);
    expect(errors).toEqual(['phones.csv:3: encoding: not valid UTF-8 (save the file as UTF-8)']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('mac\n', 'utf16le')]);
    expect(parseFleetCsv(utf16, F).errors[0]).toMatch(/^phones\.csv:1: encoding: /);
  });

  test('issue 14 CLI: a header without mac, a duplicate column, an empty file, an unclosed quote', () => {
    expect(parseFleetCsv(csv('model,label\nVVX410,x\n'), F).errors).toEqual(['phones.csv:1: mac: the header has no mac column (it is required)']);
    expect(parseFleetCsv(csv('mac,reg.1.label,reg.1.label\n0004f2000001,a,b\n'), F).errors).toEqual(['phones.csv:1: reg.1.label: column given twice (columns 2 and 3)']);
    expect(parseFleetCsv(csv('mac;model\n0004f2000001;VVX410\n'), F).errors).toEqual(['phones.csv:1: mac: the header is one column holding ";": the file is not comma-separated (save it as CSV with commas)']);
    expect(parseFleetCsv(csv(''), F).errors).toEqual(['phones.csv:1: mac: the file has no header row (it needs at least a mac column)']);
    expect(parseFleetCsv(csv('mac,reg.1.label\n0004f2000001,a\n\n0004f2000002,"open\n0004f2000003,b\n'), F).errors).toEqual(['phones.csv:4: quoting: a quoted field is not closed before the end of the file']);
  });

  test('issue 14 CLI: spreadsheet rows of empty cells are ignored; MAC column case and spelling are free', () => {
    const { rows, errors } = parseFleetCsv(csv('MAC,Model\n00-04-F2-00-00-01,vvx_410\n,\n'), F);
    expect(errors).toEqual([]);
    expect(rows).toEqual([{ line: 2, phone: { mac: '0004f2000001', model: 'VVX410' }, settings: {} }]);
  });
});

describe('fleet CSV export (issue 14, CLI: fleet export [--with-secrets])', () => {
  const phone = (mac: string, o: Partial<ManagedPhone> = {}): ManagedPhone => ({ mac: mac as Mac, tenant: 'default', groups: [], createdAt: new Date(0), updatedAt: new Date(0), ...o });

  test('issue 14 CLI: same columns, parameter columns the sorted union; secrets blank unless asked', () => {
    const rows: Array<{ phone: ManagedPhone; settings: Record<string, string> }> = [
      { phone: phone('0004f2000001', { model: 'VVX410', label: 'A, "B"', site: 'hq', groups: ['s', 'f'] }), settings: { 'reg.1.auth.password': 'pw1', 'reg.1.address': '1001' } },
      { phone: phone('0004f2000002', { tenant: 'acme' }), settings: { 'prov.polling.mode': 'rel' } },
    ];
    const out = writeFleetCsv(rows, new Set(['reg.1.auth.password']));
    expect(out).toBe(
      'mac,model,label,tenant,site,groups,prov.polling.mode,reg.1.address,reg.1.auth.password\r\n' +
        '0004f2000001,VVX410,"A, ""B""",default,hq,s;f,,1001,\r\n' +
        '0004f2000002,,,acme,,,rel,,\r\n',
    );
    expect(out).not.toContain('pw1');
    expect(writeFleetCsv(rows, 'with-secrets')).toContain(',1001,pw1\r\n');
  });

  test('issue 14 CLI: export then import: the secret cells are blank, so importing leaves them unset (no change)', () => {
    const out = writeFleetCsv([{ phone: phone('0004f2000001'), settings: { 'reg.1.auth.password': 'pw' } }], new Set(['reg.1.auth.password']));
    const back = parseFleetCsv(Buffer.from(out), 'export.csv');
    expect(back.errors).toEqual([]);
    expect(back.rows[0]!.settings).toEqual({});
  });

  test('property (issue 14 CLI, "Export then import is a no-op"): parse(write(x)) == x', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/);
    const text = fc.string({ maxLength: 12 }).map((s) => s.replace(/[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]/g, ''));
    const value = fc.oneof(text, fc.constantFrom('a,b', '"q"', ' lead', 'trail ', 'line\nbreak', 'crlf\r\nx', 'ü日本', '=1+2')).filter((s) => s !== '');
    const paramName = fc.tuple(fc.integer({ min: 1, max: 34 }), fc.constantFrom('address', 'label', 'auth.userId', 'auth.password', 'displayName')).map(([n, p]) => `reg.${n}.${p}`);
    const row = fc.record({
      mac: fc.stringMatching(/^[0-9a-f]{12}$/),
      tenant: name,
      model: fc.option(fc.constantFrom('VVX410', 'SPIP650', 'SSIP6000', 'Trio8800'), { nil: undefined }),
      label: fc.option(text.filter((s) => s.trim() !== ''), { nil: undefined }),
      site: fc.option(name, { nil: undefined }),
      groups: fc.uniqueArray(name, { maxLength: 3 }),
      settings: fc.dictionary(paramName, value, { maxKeys: 4 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (r) => r.mac, maxLength: 6 }), (xs) => {
        const input = xs.map((x) => ({ phone: phone(x.mac, { tenant: x.tenant, model: x.model, label: x.label, site: x.site, groups: x.groups }), settings: x.settings }));
        const { rows, errors } = parseFleetCsv(Buffer.from(writeFleetCsv(input, 'with-secrets')), 'p.csv');
        expect(errors).toEqual([]);
        const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
        expect(rows.map((r) => ({ phone: r.phone, settings: r.settings }))).toEqual(
          xs.map((x) => ({ phone: strip({ mac: x.mac, model: x.model, label: x.label, tenant: x.tenant, site: x.site, groups: x.groups }), settings: x.settings })),
        );
      }),
      { seed: 14, numRuns: 100 },
    );
  });
});
