// What `polyprov logs --follow` prints of a new version of a rolling log (issue 4: logs are a
// rolling log per phone with a size cap, so the oldest bytes go as new ones arrive).
import { describe, expect, test } from 'vitest';
import { appendedPart } from './logs.ts';

const b = (s: string) => Buffer.from(s);

describe('appendedPart', () => {
  test('an append below the cap: the new bytes', () => {
    expect(appendedPart(b('line 1\n'), b('line 1\nline 2\n')).toString()).toBe('line 2\n');
  });
  test('an append past the cap drops the oldest bytes: still only the new ones', () => {
    expect(appendedPart(b('line 1\nline 2\n'), b('ne 2\nline 3\n')).toString()).toBe('line 3\n');
  });
  test('a version sharing nothing with the last one (a cleared log) is new throughout; nothing before is everything', () => {
    expect(appendedPart(b('old log\n'), b('fresh\n')).toString()).toBe('fresh\n');
    expect(appendedPart(Buffer.alloc(0), b('first\n')).toString()).toBe('first\n');
    expect(appendedPart(b('same\n'), b('same\n')).length).toBe(0);
  });
});
