import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseCsvFast } from './csv-fast.ts';
import { count, CSV_PARSE_OPTIONS, parseFleetCsv, parseRecords, type CsvRecord as Rec } from './csv.ts';

/** csv-parse with csv.ts's options and its line correction (a CR inside a field is no line of its own). */
function slow(text: string): Rec[] | 'error' {
  let crs = 0;
  let failed = false;
  let out: Rec[];
  try {
    out = parseRecords(text, {
      ...CSV_PARSE_OPTIONS,
      on_skip: (e: unknown) => {
        if (e) failed = true;
      },
      on_record: (r: Rec) => {
        crs += count(r.record, '\r');
        r.info.lines -= crs;
        return r;
      },
    });
  } catch {
    return 'error';
  }
  return failed ? 'error' : out.map((r) => ({ record: r.record, info: { lines: r.info.lines } }));
}

describe('fleet CSV fast reader (issue 14 Scale: re-import under 3 s)', () => {
  test('issue 14 Scale: on 1,500 random files the fast reader gives what csv-parse gives, or hands over', () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', ' ', ',', '"', '""', '\n', '\r\n', '\r', 'é'), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const f = parseCsvFast(text);
        const s = slow(text);
        if (f === undefined) return; // csv-parse reads it (csv.ts), errors and all
        fast++;
        expect(s).not.toBe('error');
        expect(f).toEqual(s);
      }),
      { numRuns: 1500, seed: 14 },
    );
    expect(fast).toBeGreaterThan(250); // most files are read by the fast reader
  });

  test('issue 14 Scale: a plain file is read fast and its mistakes still reported by line (csv-parse)', () => {
    const good = 'mac,label,reg.1.auth.password\r\n0004f2000001,"Müller, Anna","a""b,c\r\nd"\r\n\r\n0004f2000002,x,y\r\n';
    expect(parseCsvFast(good)?.map((r) => [r.info.lines, r.record.length])).toEqual([[1, 3], [3, 3], [5, 3]]);
    const bad = 'mac,label\n0004f2000001,a"b\n0004f2000002,"x"y\n';
    expect(parseCsvFast(bad)).toBeUndefined();
    const { errors } = parseFleetCsv(Buffer.from(bad), 'f.csv');
    expect(errors).toEqual([expect.stringMatching(/^f\.csv:2: quoting: /), expect.stringMatching(/^f\.csv:3: quoting: /)]);
  });
});
