// The real clocks behind the domain's one Clock interface (src/domain.ts), and sleep() over any
// Clock, so code that waits can be driven by a virtual clock in tests. Ground floor.
import type { Clock } from '../domain.ts';

/** Monotonic milliseconds (performance.now): for timeouts and durations, never moved by NTP. */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Unix-time milliseconds (Date.now): for times of day (the phone's prov.polling schedule). */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Resolves after `ms` of `clock`'s time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
