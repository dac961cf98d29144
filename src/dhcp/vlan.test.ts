import { expect, test } from 'vitest';
import { buildDvdString, parseDvdString, parseVlanIds } from './vlan.ts';

test('facts §5.3 (AG SIP 2.2 p. C-14): decimal, hex and octal VLAN IDs', () => {
  expect(parseDvdString('VLAN-A=10;')).toEqual({ ok: true, ids: [10] });
  expect(parseDvdString('VLAN-A=0x0a;')).toEqual({ ok: true, ids: [10] });
  expect(parseDvdString('VLAN-A=012;')).toEqual({ ok: true, ids: [10] });
  expect(parseDvdString('VLAN-A=10+20+4095;anything after is ignored')).toEqual({ ok: true, ids: [10, 20, 4095] });
});

test('facts §5.3: VLAN-A= is case-sensitive, ";" is required, no white space before ";", IDs 0–4095', () => {
  for (const bad of ['vlan-a=10;', 'VLAN-A=10', 'VLAN-A=;', 'VLAN-A=10 ;', 'VLAN-A=4096;', 'VLAN-A=10++20;', 'VLAN-A=09;', 'VLAN-A=-1;', 'VLAN-A=0xg;']) {
    expect(parseDvdString(bad).ok, bad).toBe(false);
  }
});

test('facts §5.3: buildDvdString round-trips through the phone-side parser', () => {
  for (const ids of [[0], [10], [10, 20], [4095, 1, 2]]) {
    expect(parseDvdString(buildDvdString(ids))).toEqual({ ok: true, ids });
  }
  expect(() => buildDvdString([])).toThrow();
  expect(() => buildDvdString([4096])).toThrow();
});

test('--vlan accepts 10, 10+20, 10,20 and hex', () => {
  expect(parseVlanIds('10')).toEqual({ ok: true, ids: [10] });
  expect(parseVlanIds('10+20')).toEqual({ ok: true, ids: [10, 20] });
  expect(parseVlanIds('10,0x14')).toEqual({ ok: true, ids: [10, 20] });
  expect(parseVlanIds('5000').ok).toBe(false);
  expect(parseVlanIds('abc').ok).toBe(false);
});
