// STYLE §4: "docs/errors.md has one row per code with Meaning | How to fix, and a test checks
// that the catalogue and the doc list the same codes."
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ERRORS } from '../../src/errors.ts';

describe('docs/errors.md', () => {
  test('STYLE §4: one row per code in src/errors.ts, and no other', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toContain('| code | meaning | how to fix |');
    const rows = [...doc.matchAll(/^\| (PP_[A-Z0-9_]+) \|/gm)].map((m) => m[1]!);
    expect(new Set(rows).size).toBe(rows.length);
    expect([...rows].sort()).toEqual(Object.keys(ERRORS).sort());
  });
});
