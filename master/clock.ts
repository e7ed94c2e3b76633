/**
 * Time as the master sees it: the clock and every timer it arms come from
 * here, so a stall, a timeout or a failover is a unit test with a manual
 * clock (test/fixtures/manual-clock.ts) instead of a sleep.
 */

/** An armed timer; cancel it with `Clock.cancel`. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` (clamped to what a timer can hold; see `after`). */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
}

/** setTimeout holds at most 2^31-1 ms (~24.8 days); longer waits are re-armed. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The process's clock: Date.now and unref'd Node timers (a timer never keeps a stopping process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const deadline = Date.now() + ms;
    let handle: NodeJS.Timeout;
    const arm = (): void => {
      const left = deadline - Date.now();
      handle = setTimeout(() => (deadline - Date.now() > 1 ? arm() : fn()), Math.max(0, Math.min(left, MAX_TIMER_MS)));
      handle.unref();
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  },
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};
