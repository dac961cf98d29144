// When a phone polls its boot server on its own (prov.polling.*; facts §4.2):
//   prov.polling.enabled (0), prov.polling.mode abs | rel | random (abs),
//   prov.polling.period seconds (86400), prov.polling.time "HH:MM" (03:00), prov.polling.timeRandomEnd "HH:MM".
// UCS 5.8.1 Administrator's Guide, Provisional Polling of Polycom Phones: absolute = the same time
// every day; relative = every period seconds (period > 3600); random = with a period of a day or
// less, the first poll at a random time between start-up and the period, then every period; with
// a longer period (rounded up to whole days), on a day chosen from the MAC, at a random time
// between prov.polling.time and prov.polling.timeRandomEnd. Times are the phone's local time.
// Pure functions: the caller gives "now" and the random source, so tests need no clock.

export type PollingMode = 'abs' | 'rel' | 'random';

export interface PollingConfig {
  enabled: boolean;
  mode: PollingMode;
  periodSec: number;
  /** Minutes after midnight. */
  timeMin: number;
  /** Minutes after midnight; undefined when empty. */
  randomEndMin?: number;
}

const DAY_MS = 86_400_000;
/** "every x seconds, x > 3600" (UCS 5.8.1 AG); shorter periods are raised to an hour. */
export const MIN_REL_PERIOD_SEC = 3600;

function hhmm(s: string | undefined): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec((s ?? '').trim());
  if (!m) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  return h < 24 && mi < 60 ? h * 60 + mi : undefined;
}

/** Reads prov.polling.* from effective parameter values, with the template defaults (facts §2.5). */
export function pollingConfig(get: (name: string) => string | undefined): PollingConfig {
  const mode = (get('prov.polling.mode') ?? 'abs').trim().toLowerCase();
  const period = Number(get('prov.polling.period') ?? '86400');
  return {
    enabled: (get('prov.polling.enabled') ?? '0').trim() === '1',
    mode: mode === 'rel' || mode === 'random' ? mode : 'abs',
    periodSec: Number.isFinite(period) && period > 0 ? Math.floor(period) : 86400,
    timeMin: hhmm(get('prov.polling.time')) ?? 3 * 60,
    randomEndMin: hhmm(get('prov.polling.timeRandomEnd')),
  };
}

function atMinute(dayStart: Date, minute: number): number {
  const d = new Date(dayStart.getFullYear(), dayStart.getMonth(), dayStart.getDate(), 0, 0, 0, 0);
  d.setMinutes(minute);
  return d.getTime();
}

function addDays(t: number, n: number): Date {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}

/** A stable day slot from the MAC, 0 … days-1. */
export function macDaySlot(mac: string, days: number): number {
  const n = Number.parseInt(mac.slice(-8), 16);
  return Number.isFinite(n) ? n % days : 0;
}

function localDayNumber(t: number): number {
  const d = new Date(t);
  return Math.floor(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / DAY_MS);
}

export interface PollState {
  /** When the phone started (ms). */
  startedAt: number;
  /** The previous poll (ms), if any. */
  last?: number;
}

/**
 * The next poll after `now` (ms since the epoch), or undefined when polling is off.
 * `random()` returns [0, 1) and is only called in random mode.
 */
export function nextPoll(cfg: PollingConfig, now: number, st: PollState, mac: string, random: () => number): number | undefined {
  if (!cfg.enabled) return undefined;
  switch (cfg.mode) {
    case 'abs': {
      // The same time every day: today's if still ahead, else tomorrow's.
      const today = atMinute(new Date(now), cfg.timeMin);
      return today > now ? today : atMinute(addDays(now, 1), cfg.timeMin);
    }
    case 'rel': {
      const period = Math.max(cfg.periodSec, MIN_REL_PERIOD_SEC) * 1000;
      let next = (st.last ?? st.startedAt) + period;
      while (next <= now) next += period;
      return next;
    }
    case 'random': {
      if (cfg.periodSec <= 86400) {
        const period = cfg.periodSec * 1000;
        if (st.last === undefined) return Math.max(now + 1, st.startedAt + Math.floor(random() * period));
        let next = st.last + period;
        while (next <= now) next += period;
        return next;
      }
      const days = Math.ceil(cfg.periodSec / 86400);
      const slot = macDaySlot(mac, days);
      const start = cfg.timeMin;
      let end = cfg.randomEndMin ?? start;
      if (end < start) end += 24 * 60; // a window across midnight
      for (let i = 0; i <= days; i++) {
        const day = addDays(now, i);
        if (localDayNumber(day.getTime()) % days !== slot) continue;
        const minute = start + random() * (end - start);
        const t = atMinute(day, 0) + Math.floor(minute * 60_000);
        if (t > now) return t;
      }
      // Today was the slot but its window has passed: the same slot one cycle later.
      const day = addDays(now, days);
      return atMinute(day, 0) + Math.floor((start + random() * (end - start)) * 60_000);
    }
  }
}
