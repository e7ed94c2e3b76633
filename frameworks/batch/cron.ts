/**
 * Cron schedules for the batch framework, on croner: parsing with errors
 * named per field, the next ticks, the ticks in a window, and the catch-up
 * rule after downtime.
 *
 *   parseSchedule(cron, timezone) ──▶ {schedule} | {errors: [{path: '/cron' | '/timezone', errors[]}]}
 *   nextTicks(schedule, after, n)           ticks strictly after `after`
 *   ticksBetween(schedule, from, to, limit) ticks in (from, to], at most `limit`
 *   dueTick(schedule, lastTick, now, startingDeadlineSeconds)
 *       ──▶ the latest missed tick to run (one, never several) | none, with why
 *
 * Semantics (the README says where they differ from Metronome):
 * - Standard 5-field cron `minute hour day-of-month month day-of-week`, as
 *   Metronome's. Mezzanine's addition: an optional leading seconds field
 *   (6 fields, `*∕10 * * * * *`) for jobs on a cadence under a minute; no
 *   year field. Nicknames `@hourly` … `@yearly` are accepted.
 * - Day-of-month OR day-of-week when both are restricted (Vixie cron);
 *   `+` before the day-of-week (`0 0 13 * +FRI`) asks for AND, which is what
 *   Metronome always did.
 * - `L`, `LW`, `15W` in day-of-month; `5L`, `FRI#L`, `MON#2` in
 *   day-of-week; 0 and 7 are both Sunday; names JAN-DEC, SUN-SAT.
 * - A pattern no date ever matches (`0 0 31 2 *`) is refused.
 * - Daylight saving as Vixie cron (croner's `fixedTimeRule: 'no-wildcard'`):
 *   a job with no `*` or step in minute and hour is fixed-time; one whose
 *   time falls in a spring-forward gap runs once at the first instant after
 *   the gap (02:30 → 03:00), one whose time occurs twice runs once, at the
 *   first pass. Others (`0 * * * *`, `*∕15 * * * *`) follow real time: a
 *   repeated hour ticks on both passes, a skipped hour has no ticks.
 *
 * Pure: instants are epoch milliseconds passed in; nothing reads the clock.
 */
import { Cron } from 'croner';

/** A parsed schedule. Keep `cron` and `timezone` to store it; `matcher` is croner's and not serializable. */
export interface CronSchedule {
  /** The expression as written. */
  readonly cron: string;
  /** The IANA time zone as written (validated). */
  readonly timezone: string;
  readonly matcher: Cron;
}

export interface FieldErrors {
  path: string;
  errors: string[];
}

export type ScheduleResult = { schedule: CronSchedule; errors?: undefined } | { schedule?: undefined; errors: FieldErrors[] };

/** The catch-up decision; in every case but `not-due` the caller records `tick` as the schedule's last tick. */
export type DueTick =
  | {
      due: true;
      /** The latest tick at or before `now`: the one to run. */
      tick: number;
      /** now − tick. */
      lateMs: number;
      /** Older missed ticks that will not run (counted up to MISSED_COUNT_LIMIT). */
      skipped: number;
      skippedCapped: boolean;
    }
  | { due: false; reason: 'not-due'; /** The next tick after `now`, null if none. */ next: number | null }
  | {
      due: false;
      reason: 'too-late';
      /** The latest missed tick, beyond the deadline. */
      tick: number;
      lateMs: number;
      /** Every missed tick, the latest included (counted up to MISSED_COUNT_LIMIT). */
      skipped: number;
      skippedCapped: boolean;
      message: string;
    };

/** How many missed ticks dueTick counts at most: counting walks them one by one (≈50 µs each in a zone with DST). */
export const MISSED_COUNT_LIMIT = 100;

const SECOND = { name: 'second', allowed: '0-59' } as const;
const FIELDS = [
  { name: 'minute', allowed: '0-59' },
  { name: 'hour', allowed: '0-23' },
  { name: 'day-of-month', allowed: '1-31, L, LW, nW (nearest weekday)' },
  { name: 'month', allowed: '1-12 or JAN-DEC' },
  { name: 'day-of-week', allowed: '0-7 (0 and 7 are Sunday) or SUN-SAT, n#k (k-th), nL (last), a leading + for AND with day-of-month' },
] as const;

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

// Characters croner reads in a field. Anything else is refused here first: a
// ':' would make croner read the whole pattern as a one-off ISO date.
const FIELD_CHARS = /^[0-9A-Za-z*?,\-/#+]+$/;
// An IANA name; newer Intl also accepts offsets such as "+01:00", which are not zones.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;
// Where the "does it ever run" search starts; croner searches up to the year
// 3000 from there, which spans more than two full 400-year Gregorian cycles.
const EVER_FROM = new Date(Date.UTC(2000, 0, 1));

/**
 * Reads a cron expression in a time zone (default UTC). Returns the schedule,
 * or every problem found at `/cron` and `/timezone`, each naming the field and
 * what it allows. Never throws on bad input.
 */
export function parseSchedule(cron: string, timezone = 'UTC'): ScheduleResult {
  const errors: FieldErrors[] = [];
  const zoneError = checkZone(timezone);
  if (zoneError) errors.push({ path: '/timezone', errors: [zoneError] });
  const fields = cronFields(cron);
  if ('error' in fields) errors.push({ path: '/cron', errors: [fields.error] });
  else {
    const fieldErrors = fields.list.flatMap((_, i) => fieldError(fields.list, i) ?? []);
    if (fieldErrors.length) errors.push({ path: '/cron', errors: fieldErrors });
  }
  if (errors.length || 'error' in fields) return { errors };
  const matcher = cronOf(fields.list.join(' '), timezone);
  if (matcher.nextRun(EVER_FROM) === null) return { errors: [{ path: '/cron', errors: [neverRuns(cron, fields.list)] }] };
  return { schedule: { cron, timezone, matcher } };
}

/** The next `n` ticks strictly after `after`, in order (fewer only if the schedule ends, which a 5-field one does not before the year 3000). */
export function nextTicks(schedule: CronSchedule, after: number, n: number): number[] {
  instant('after', after);
  count('n', n);
  return schedule.matcher.nextRuns(n, new Date(after)).map((d) => d.getTime());
}

/** The ticks in (from, to], in order, at most `limit`; `truncated` when more lie in the window. */
export function ticksBetween(schedule: CronSchedule, from: number, to: number, limit: number): { ticks: number[]; truncated: boolean } {
  instant('from', from);
  instant('to', to);
  count('limit', limit);
  const ticks: number[] = [];
  let cursor = from;
  while (ticks.length <= limit) {
    const next = schedule.matcher.nextRun(new Date(cursor));
    if (next === null || next.getTime() > to) break;
    cursor = next.getTime();
    ticks.push(cursor);
  }
  return ticks.length > limit ? { ticks: ticks.slice(0, limit), truncated: true } : { ticks, truncated: false };
}

/**
 * The catch-up rule (Kubernetes CronJob's, where Chronos ran every missed
 * tick): of the ticks in (lastTick, now] at most ONE runs, the latest, and
 * only if it is at most `startingDeadlineSeconds` old. `lastTick` is the last
 * tick already handled (run or skipped); for a schedule that never ticked,
 * the instant it was created or last changed, so nothing before it counts.
 */
export function dueTick(schedule: CronSchedule, lastTick: number, now: number, startingDeadlineSeconds: number): DueTick {
  instant('lastTick', lastTick);
  instant('now', now);
  if (!(startingDeadlineSeconds >= 0)) throw new RangeError(`startingDeadlineSeconds must be ≥ 0, got ${startingDeadlineSeconds}`);
  const missed = ticksBetween(schedule, lastTick, now, MISSED_COUNT_LIMIT);
  if (missed.ticks.length === 0) {
    const next = schedule.matcher.nextRun(new Date(Math.max(lastTick, now)));
    return { due: false, reason: 'not-due', next: next?.getTime() ?? null };
  }
  const tick = missed.truncated ? latestAtOrBefore(schedule, now) : (missed.ticks.at(-1) as number);
  const lateMs = now - tick;
  if (lateMs <= startingDeadlineSeconds * 1000) {
    return { due: true, tick, lateMs, skipped: missed.ticks.length - 1, skippedCapped: missed.truncated };
  }
  const counted = `${missed.truncated ? 'more than ' : ''}${missed.ticks.length}`;
  return {
    due: false,
    reason: 'too-late',
    tick,
    lateMs,
    skipped: missed.ticks.length,
    skippedCapped: missed.truncated,
    message: `${counted} tick(s) missed; the latest, ${new Date(tick).toISOString()}, is ${Math.floor(lateMs / 1000)} s late, beyond startingDeadlineSeconds ${startingDeadlineSeconds}: none runs`,
  };
}

function latestAtOrBefore(schedule: CronSchedule, now: number): number {
  // croner's previous runs are strictly before the reference; +1 ms makes it "at or before".
  const [latest] = schedule.matcher.previousRuns(1, new Date(now + 1));
  if (!latest) throw new Error(`cron ${schedule.cron}: ticks were found before ${now} but no previous run`);
  return latest.getTime();
}

function cronOf(pattern: string, timezone: string): Cron {
  const mode = pattern.split(' ').length === 6 ? '6-part' : '5-part';
  return new Cron(pattern, { mode, timezone, fixedTimeRule: 'no-wildcard', domAndDow: false });
}

function checkZone(timezone: string): string | undefined {
  if (typeof timezone !== 'string') return `must be a string, an IANA time zone name (got ${typeof timezone})`;
  const refuse = `'${timezone}' is not an IANA time zone (such as UTC, Europe/Berlin, America/New_York)`;
  if (!ZONE_NAME.test(timezone)) return refuse;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return refuse;
  }
}

function cronFields(cron: string): { list: string[] } | { error: string } {
  // The type says string, but a body parsed without a schema may hold anything.
  if (typeof cron !== 'string') return { error: `must be a string, a cron expression (got ${typeof cron})` };
  const text = cron.trim();
  if (text === '') return { error: 'is empty: expected 5 fields, minute hour day-of-month month day-of-week' };
  if (text.startsWith('@')) {
    const nickname = NICKNAMES[text.toLowerCase()];
    if (nickname) return { list: nickname.split(' ') };
    if (text.toLowerCase() === '@reboot') return { error: "'@reboot' is not supported: a schedule runs at times, not at start-up" };
    return { error: `'${text}' is not a known nickname (${Object.keys(NICKNAMES).join(', ')})` };
  }
  const list = text.split(/\s+/);
  if (list.length !== 5 && list.length !== 6) {
    const extra = list.length > 6 ? ' (a year field is not accepted)' : '';
    return { error: `has ${list.length} field(s), expected 5: minute hour day-of-month month day-of-week (or 6, with a leading second)${extra}` };
  }
  return { list };
}

/** Why field `i` is invalid, checked alone (the others `*`) so the message names it; undefined if valid. */
function fieldError(list: readonly string[], i: number): string | undefined {
  const value = list[i] as string;
  const names = list.length === 6 ? [SECOND, ...FIELDS] : FIELDS;
  const { name, allowed } = names[i]!;
  if (!FIELD_CHARS.test(value)) return `${name} '${value}' has characters cron does not use (allowed: ${allowed})`;
  const alone = names.map((_, j) => (j === i ? value : '*')).join(' ');
  try {
    cronOf(alone, 'UTC');
    return undefined;
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^\w+: /, '') : String(e);
    // croner reports ranges with its zero-based index ("day: -1" for 0): say the limit instead.
    const detail = /^Invalid value for/.test(why) ? 'is out of range' : `is invalid: ${why}`;
    return `${name} '${value}' ${detail} (allowed: ${allowed})`;
  }
}

function neverRuns(cron: string, list: readonly string[]): string {
  const [, , dom, month, dow] = list.length === 6 ? list.slice(1) : list;
  const andDow = dow?.startsWith('+') ? ` on day-of-week '${dow}'` : '';
  return `'${cron}' never runs: no date has day-of-month '${dom}' in month '${month}'${andDow}`;
}

function instant(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be an instant in epoch milliseconds, got ${value}`);
}

function count(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${value}`);
}
