// Who holds TFTP and the admin listener among the workers of `serve --workers N`, and who stands by
// to take them over (issue 16, One machine, every core: losing any one worker leaves them answering).
import { describe, expect, test } from 'vitest';
import { SoloRole } from '../../src/cluster/solo-role.ts';

describe('issue 16 One machine, every core: the holder of TFTP and the admin listener', () => {
  test('worker 0 takes them at the first start; the others start without them', () => {
    const r = new SoloRole();
    expect(r.atStart(0)).toBe(true);
    expect(r.atStart(1)).toBe(false);
    expect(r.atStart(2)).toBe(false);
    expect(r.holder).toBe(0);
  });

  test('the holder gone: the standby (prepared beforehand) takes them at once, and a new standby is chosen', () => {
    const r = new SoloRole();
    r.atStart(0);
    expect(r.nextStandby([0, 1, 2])).toBe(1);
    expect(r.nextStandby([0, 1, 2])).toBeUndefined(); // kept while it serves: told once
    expect(r.release(0, [1, 2])).toBe(1);
    expect(r.holder).toBe(1);
    expect(r.standby).toBeUndefined();
    expect(r.nextStandby([1, 2])).toBe(2);
  });

  test('a restarted worker does not take them back, nor the standby role from a serving standby', () => {
    const r = new SoloRole();
    r.atStart(0);
    r.nextStandby([0, 1, 2]);
    r.release(0, [1, 2]); // 1 holds them
    r.nextStandby([1, 2]); // 2 stands by
    expect(r.atStart(0)).toBe(false); // worker 0 forked again
    expect(r.offer([0, 1, 2])).toBeUndefined();
    expect(r.nextStandby([0, 1, 2])).toBeUndefined();
    expect(r.holder).toBe(1);
    expect(r.standby).toBe(2);
  });

  test('a worker other than the holder gone changes nothing but the standby', () => {
    const r = new SoloRole();
    r.atStart(0);
    r.nextStandby([0, 1, 2]);
    expect(r.release(1, [0, 2])).toBeUndefined();
    expect(r.holder).toBe(0);
    expect(r.nextStandby([0, 2])).toBe(2);
  });

  test('no serving worker when the holder goes: none holds them until one serves or starts', () => {
    const r = new SoloRole();
    r.atStart(0);
    expect(r.release(0, [])).toBeUndefined();
    expect(r.holder).toBeUndefined();
    // The next one to serve takes them …
    expect(r.offer([1])).toBe(1);
    // … or, had none served yet, the next one to start.
    const s = new SoloRole();
    s.atStart(0);
    s.release(0, []);
    expect(s.atStart(0)).toBe(true);
    expect(s.holder).toBe(0);
  });

  test('a holder that could not open them lets another serving worker try', () => {
    const r = new SoloRole();
    r.atStart(0);
    r.release(0, []); // solo-failed: released with no immediate successor
    expect(r.offer([1, 2])).toBe(1);
  });
});
