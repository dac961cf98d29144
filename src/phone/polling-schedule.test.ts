import { describe, expect, test } from 'vitest';
import { macDaySlot, nextPoll, pollingConfig, type PollingConfig } from './polling-schedule.ts';

const MAC = '0004f2000001';
const at = (d: number, h: number, m = 0) => new Date(2026, 0, d, h, m, 0, 0).getTime();
const cfg = (o: Partial<PollingConfig>): PollingConfig => ({ enabled: true, mode: 'abs', periodSec: 86400, timeMin: 180, ...o });

describe('facts §4.2, prov.polling', () => {
  test('template defaults: polling disabled, abs, 86400 s, 03:00', () => {
    const c = pollingConfig(() => undefined);
    expect(c).toEqual({ enabled: false, mode: 'abs', periodSec: 86400, timeMin: 180, randomEndMin: undefined });
    expect(nextPoll(c, at(5, 12), { startedAt: at(5, 12) }, MAC, () => 0.5)).toBeUndefined();
  });

  test('UCS 5.8.1 AG, absolute: the same time every day', () => {
    const c = cfg({ mode: 'abs', timeMin: 3 * 60 });
    expect(nextPoll(c, at(5, 2, 59), { startedAt: 0 }, MAC, () => 0)).toBe(at(5, 3));
    expect(nextPoll(c, at(5, 3), { startedAt: 0 }, MAC, () => 0)).toBe(at(6, 3));
    expect(nextPoll(c, at(5, 23), { startedAt: 0 }, MAC, () => 0)).toBe(at(6, 3));
  });

  test('UCS 5.8.1 AG, relative: every period seconds, at least an hour', () => {
    const c = cfg({ mode: 'rel', periodSec: 7200 });
    expect(nextPoll(c, at(5, 10), { startedAt: at(5, 10) }, MAC, () => 0)).toBe(at(5, 12));
    expect(nextPoll(c, at(5, 12, 30), { startedAt: at(5, 10), last: at(5, 12) }, MAC, () => 0)).toBe(at(5, 14));
    expect(nextPoll(cfg({ mode: 'rel', periodSec: 60 }), at(5, 10), { startedAt: at(5, 10) }, MAC, () => 0)).toBe(at(5, 11));
  });

  test('UCS 5.8.1 AG, random with a period of a day or less: first poll between start-up and the period, then every period', () => {
    const c = cfg({ mode: 'random', periodSec: 4 * 3600 });
    const first = nextPoll(c, at(5, 10), { startedAt: at(5, 10) }, MAC, () => 0.25)!;
    expect(first).toBe(at(5, 11));
    expect(nextPoll(c, first, { startedAt: at(5, 10), last: first }, MAC, () => 0.9)).toBe(at(5, 15));
  });

  test('UCS 5.8.1 AG, random with a period over a day: a MAC-chosen day, between time and timeRandomEnd', () => {
    const c = cfg({ mode: 'random', periodSec: 3 * 86400, timeMin: 60, randomEndMin: 120 });
    const t = nextPoll(c, at(5, 12), { startedAt: at(5, 12) }, MAC, () => 0.5)!;
    const d = new Date(t);
    expect(d.getHours()).toBe(1);
    expect(d.getMinutes()).toBe(30);
    expect(t - at(5, 12)).toBeLessThanOrEqual(4 * 86400_000);
    expect(t).toBeGreaterThan(at(5, 12));
    // the same MAC always lands on the same slot of the cycle; another MAC may differ
    expect(macDaySlot(MAC, 3)).toBe(0xf2000001 % 3);
    expect(Math.floor(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86400_000) % 3).toBe(macDaySlot(MAC, 3));
    const t2 = nextPoll(c, t, { startedAt: at(5, 12), last: t }, MAC, () => 0.5)!;
    expect(Math.round((t2 - t) / 86400_000)).toBe(3);
  });
});
