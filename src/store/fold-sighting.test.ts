import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Mac } from '../domain.ts';
import { foldSighting, foldSightingInto, isSuccessStatus, newPhone, type PhoneState } from './fold-sighting.ts';
import type { Sighting } from './store.ts';

const MAC = '0004f2000001' as Mac;
const fold = (list: Sighting[]) => list.reduce<PhoneState | undefined>((st, s) => foldSighting(st, s), undefined)!.phone;

const sighting = fc.record(
  {
    sec: fc.integer({ min: 0, max: 100_000 }),
    source: fc.constantFrom('http', 'tftp', 'dhcp', 'sip') as fc.Arbitrary<Sighting['source']>,
    address: fc.constantFrom('192.0.2.1', '192.0.2.2', '192.0.2.3'),
    model: fc.option(fc.constantFrom('SPIP650', 'VVX400'), { nil: undefined }),
    stage: fc.option(fc.constantFrom('bootrom', 'updater', 'application') as fc.Arbitrary<Sighting['stage'] & string>, { nil: undefined }),
    appVersion: fc.option(fc.constantFrom('3.1.3.0439', '4.0.4.2906'), { nil: undefined }),
    bootromVersion: fc.option(fc.constantFrom('4.0.0.0155', '5.0.3.1667'), { nil: undefined }),
    bootStart: fc.boolean(),
    status: fc.option(fc.constantFrom('200', '404', 'tftp:ok', '201'), { nil: undefined }),
    op: fc.constantFrom('read', 'write') as fc.Arbitrary<'read' | 'write'>,
    error: fc.option(fc.constantFrom('PP_AUTH_FAILED x', null), { nil: undefined }),
    sipPort: fc.option(fc.constantFrom(5060, 5070), { nil: undefined }),
  },
  { requiredKeys: ['sec', 'source', 'address', 'bootStart', 'op'] },
);

type Rec = typeof sighting extends fc.Arbitrary<infer T> ? T : never;

function toSighting(r: Rec): Sighting {
  const s: Sighting = { mac: MAC, at: new Date(Date.UTC(2026, 0, 1) + r.sec * 1000), source: r.source, address: r.address, bootStart: r.bootStart };
  for (const k of ['model', 'stage', 'appVersion', 'bootromVersion', 'error', 'sipPort'] as const) {
    if (r[k] !== undefined) (s as unknown as Record<string, unknown>)[k] = r[k];
  }
  if (r.status) s.file = { path: 'x.cfg', op: r.op, status: r.status };
  return s;
}

describe('foldSighting (issue 4, Inventory)', () => {
  test('sightings from several nodes fold to the same row in any arrival order (seed 42)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(sighting, { minLength: 1, maxLength: 25, selector: (r) => r.sec }), fc.integer(), (recs, salt) => {
        const list = recs.map(toSighting);
        const sorted = [...list].sort((a, b) => a.at.getTime() - b.at.getTime());
        // A seeded shuffle of the same sightings.
        const shuffled = list.map((s, i) => ({ s, k: Math.sin(i * 9301 + salt) })).sort((a, b) => a.k - b.k).map((x) => x.s);
        expect(fold(shuffled)).toEqual(fold(sorted));
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  test('foldSightingInto (a backend folding a batch in place, issue 16 Speed) gives the row foldSighting gives, from a stored row or none (seed 7)', () => {
    fc.assert(
      fc.property(fc.array(sighting, { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 5 }), (recs, stored) => {
        const list = recs.map(toSighting);
        // A stored row (the first `stored` sightings folded earlier), or a phone never seen.
        const row = stored > 0 ? list.slice(0, stored).reduce<PhoneState | undefined>((st, s) => foldSighting(st, s), undefined) : undefined;
        const rest = list.slice(stored);
        if (rest.length === 0) return;
        const copied = rest.reduce<PhoneState | undefined>((st, s) => foldSighting(st, s), row)!;
        const before = row && JSON.stringify(row);
        const inPlace: PhoneState = row ? { phone: { ...row.phone }, times: { ...row.times } } : { phone: newPhone(rest[0]!), times: {} };
        rest.forEach((s, i) => foldSightingInto(inPlace, s, row !== undefined || i > 0));
        expect(inPlace).toEqual(copied);
        if (row) expect(JSON.stringify(row)).toBe(before); // the row read is not changed
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  test('polycom-facts §3.4: the newest application-stage version wins even when an older one arrives last', () => {
    const t = (sec: number) => new Date(Date.UTC(2026, 0, 1) + sec * 1000);
    const s1: Sighting = { mac: MAC, at: t(1), source: 'http', address: 'a', stage: 'application', appVersion: '3.1.3.0439' };
    const s2: Sighting = { mac: MAC, at: t(2), source: 'http', address: 'a', stage: 'application', appVersion: '4.0.4.2906' };
    const s3: Sighting = { mac: MAC, at: t(3), source: 'dhcp', address: 'a' };
    expect(fold([s3, s1, s2]).appVersion).toBe('4.0.4.2906');
    expect(fold([s3, s2, s1]).appVersion).toBe('4.0.4.2906');
    const e1: Sighting = { mac: MAC, at: t(1), source: 'http', address: 'a', error: 'PP_AUTH_FAILED x' };
    expect(fold([s3, e1]).lastError).toBe('PP_AUTH_FAILED x');
  });

  test('transfer statuses that count as fetched or stored, in each transport’s terms', () => {
    for (const ok of ['200', '201', '204', '206', '304', 'tftp:ok', 'ftp:226', 'ftps:250']) expect(isSuccessStatus(ok), ok).toBe(true);
    for (const bad of ['400', '401', '404', '413', '500', 'tftp:aborted', 'tftp:error', 'ftp:550', 'ftp:426']) expect(isSuccessStatus(bad), bad).toBe(false);
  });
});
