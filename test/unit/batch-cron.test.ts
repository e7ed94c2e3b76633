/**
 * The batch framework's cron (frameworks/batch/cron.ts): parsing with named
 * errors, L/W/#, Sunday as 0 and 7, day-of-month OR day-of-week, next ticks in
 * real zones across the 2026 daylight-saving changes, the catch-up rule, and a
 * property test that next ticks increase and each is a tick.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cron } from 'croner';
import fc from 'fast-check';
import { dueTick, MISSED_COUNT_LIMIT, nextTicks, parseSchedule, ticksBetween, type CronSchedule } from '../../frameworks/batch/cron';

const iso = (s: string): number => Date.parse(s);
const isos = (ticks: number[]): string[] => ticks.map((t) => new Date(t).toISOString());

function schedule(cron: string, timezone = 'UTC'): CronSchedule {
  const r = parseSchedule(cron, timezone);
  if (!r.schedule) throw new Error(`${cron} ${timezone}: ${JSON.stringify(r.errors)}`);
  return r.schedule;
}

describe('parseSchedule', () => {
  const valid: [string, string][] = [
    ['* * * * *', 'UTC'],
    ['*/15 9-17 * * MON-FRI', 'Europe/Berlin'],
    ['0 0 L * *', 'UTC'],
    ['0 0 LW * *', 'UTC'],
    ['0 0 15W * *', 'UTC'],
    ['0 0 * * 5#2', 'UTC'],
    ['0 0 * * FRI#L', 'UTC'],
    ['0 0 * * 5L', 'UTC'],
    ['0 0 13 * +FRI', 'UTC'],
    ['0 0 29 2 *', 'UTC'], // leap years only, but it runs
    ['0 0 31 2 MON', 'UTC'], // OR: every Monday in February
    ['@hourly', 'America/New_York'],
    ['0 0 ? * *', 'Australia/Lord_Howe'],
    ['0 12 * * *', 'europe/berlin'],
  ];
  for (const [cron, tz] of valid) {
    test(`accepts '${cron}' in ${tz}`, () => {
      const r = parseSchedule(cron, tz);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      assert.equal(r.schedule?.cron, cron);
    });
  }

  const invalid: { cron: string; tz?: string; path: string; has: RegExp }[] = [
    { cron: '', path: '/cron', has: /is empty/ },
    { cron: '* * * *', path: '/cron', has: /has 4 field\(s\), expected 5/ },
    { cron: '0 0 * * * * 2030', path: '/cron', has: /has 7 field\(s\).*year field is not accepted/ },
    { cron: '61 * * * * *', path: '/cron', has: /second '61' is out of range \(allowed: 0-59\)/ },
    { cron: '0 0 0 31 2 *', path: '/cron', has: /never runs: no date has day-of-month '31' in month '2'/ },
    { cron: '60 * * * *', path: '/cron', has: /^minute '60' is out of range \(allowed: 0-59\)/ },
    { cron: '0 24 * * *', path: '/cron', has: /^hour '24' is out of range \(allowed: 0-23\)/ },
    { cron: '0 0 0 * *', path: '/cron', has: /^day-of-month '0' is out of range \(allowed: 1-31/ },
    { cron: '0 0 32 * *', path: '/cron', has: /^day-of-month '32' is out of range/ },
    { cron: '0 0 * 13 *', path: '/cron', has: /^month '13' is out of range \(allowed: 1-12/ },
    { cron: '0 0 * * 8', path: '/cron', has: /^day-of-week '8' is out of range \(allowed: 0-7/ },
    { cron: '0 0 * * 5#6', path: '/cron', has: /^day-of-week '5#6' is invalid/ },
    { cron: '*/0 * * * *', path: '/cron', has: /^minute '\*\/0' is invalid: .*stepping/ },
    { cron: 'a * * * *', path: '/cron', has: /^minute 'a' is invalid/ },
    { cron: '0 0 1 1 2030-01-01T00:00', path: '/cron', has: /^day-of-week '2030-01-01T00:00' has characters cron does not use/ },
    { cron: '@reboot', path: '/cron', has: /not supported/ },
    { cron: '@fortnightly', path: '/cron', has: /not a known nickname/ },
    { cron: '0 0 31 2 *', path: '/cron', has: /never runs: no date has day-of-month '31' in month '2'/ },
    { cron: '0 0 30 2 *', path: '/cron', has: /never runs/ },
    { cron: '0 0 31 4,6,9,11 *', path: '/cron', has: /never runs/ },
    { cron: '0 0 31 2 +MON', path: '/cron', has: /never runs.*on day-of-week '\+MON'/ },
    { cron: '* * * * *', tz: 'Mars/Olympus', path: '/timezone', has: /'Mars\/Olympus' is not an IANA time zone/ },
    { cron: '* * * * *', tz: '+01:00', path: '/timezone', has: /is not an IANA time zone/ },
    { cron: '* * * * *', tz: '', path: '/timezone', has: /is not an IANA time zone/ },
  ];
  for (const c of invalid) {
    test(`refuses '${c.cron}'${c.tz !== undefined ? ` in '${c.tz}'` : ''} at ${c.path}`, () => {
      const r = parseSchedule(c.cron, c.tz);
      assert.equal(r.schedule, undefined);
      const at = r.errors?.find((e) => e.path === c.path);
      assert.ok(at, JSON.stringify(r.errors));
      assert.ok(at.errors.some((m) => c.has.test(m)), JSON.stringify(at.errors));
    });
  }

  test('a value that is not a string is refused, not thrown on', () => {
    const r = parseSchedule(5 as unknown as string, null as unknown as string);
    assert.deepEqual(r.errors?.map((e) => e.path), ['/timezone', '/cron']);
  });

  test('every bad field is named, and a bad zone beside them', () => {
    const r = parseSchedule('61 25 * * *', 'Nowhere/Land');
    assert.deepEqual(
      r.errors?.map((e) => [e.path, e.errors.length]),
      [
        ['/timezone', 1],
        ['/cron', 2],
      ],
    );
  });
});

describe('nextTicks', () => {
  test('a leading seconds field (Mezzanine\'s addition) ticks under a minute, in the zone', () => {
    const from = iso('2026-03-01T10:00:00Z');
    assert.deepEqual(isos(nextTicks(schedule('*/20 * * * * *', 'Asia/Kolkata'), from, 3)), ['2026-03-01T10:00:20.000Z', '2026-03-01T10:00:40.000Z', '2026-03-01T10:01:00.000Z']);
    // 10:30 in Kolkata (+05:30) is 05:00 UTC
    assert.deepEqual(isos(nextTicks(schedule('15 30 10 * * *', 'Asia/Kolkata'), from, 1)), ['2026-03-02T05:00:15.000Z']);
  });

  test('0 and 7 are both Sunday', () => {
    // 2026-01-04 is a Sunday
    const want = ['2026-01-04T00:00:00.000Z', '2026-01-11T00:00:00.000Z'];
    assert.deepEqual(isos(nextTicks(schedule('0 0 * * 0'), iso('2026-01-01T00:00:00Z'), 2)), want);
    assert.deepEqual(isos(nextTicks(schedule('0 0 * * 7'), iso('2026-01-01T00:00:00Z'), 2)), want);
    assert.deepEqual(isos(nextTicks(schedule('0 0 * * SUN'), iso('2026-01-01T00:00:00Z'), 2)), want);
  });

  test('L, LW, W and # in 2026', () => {
    const from = iso('2026-01-01T00:00:00Z');
    // last day: Jan 31, Feb 28 (2026 is no leap year)
    assert.deepEqual(isos(nextTicks(schedule('0 0 L * *'), from, 2)), ['2026-01-31T00:00:00.000Z', '2026-02-28T00:00:00.000Z']);
    // last weekday: Fri Jan 30 (31st is a Saturday), Fri Feb 27
    assert.deepEqual(isos(nextTicks(schedule('0 0 LW * *'), from, 2)), ['2026-01-30T00:00:00.000Z', '2026-02-27T00:00:00.000Z']);
    // nearest weekday to the 15th: Thu Jan 15; Feb 15 is a Sunday → Mon Feb 16
    assert.deepEqual(isos(nextTicks(schedule('0 0 15W * *'), from, 2)), ['2026-01-15T00:00:00.000Z', '2026-02-16T00:00:00.000Z']);
    // second Friday: Jan 9, Feb 13
    assert.deepEqual(isos(nextTicks(schedule('0 0 * * 5#2'), from, 2)), ['2026-01-09T00:00:00.000Z', '2026-02-13T00:00:00.000Z']);
    // last Friday: Jan 30, Feb 27
    assert.deepEqual(isos(nextTicks(schedule('0 0 * * FRI#L'), from, 2)), ['2026-01-30T00:00:00.000Z', '2026-02-27T00:00:00.000Z']);
  });

  test('day-of-month OR day-of-week when both are restricted; + asks for AND', () => {
    const from = iso('2026-01-01T00:00:00Z');
    // the 13th OR a Friday: Fri Jan 2, Fri Jan 9, Tue Jan 13, Fri Jan 16
    assert.deepEqual(isos(nextTicks(schedule('0 0 13 * FRI'), from, 4)), [
      '2026-01-02T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
      '2026-01-13T00:00:00.000Z',
      '2026-01-16T00:00:00.000Z',
    ]);
    // Friday the 13th only (Metronome's AND): Feb 13, Mar 13, Nov 13 2026
    assert.deepEqual(isos(nextTicks(schedule('0 0 13 * +FRI'), from, 3)), ['2026-02-13T00:00:00.000Z', '2026-03-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z']);
  });

  test('strictly after: a tick exactly at `after` is not returned', () => {
    const s = schedule('0 * * * *');
    assert.deepEqual(isos(nextTicks(s, iso('2026-01-01T10:00:00Z'), 1)), ['2026-01-01T11:00:00.000Z']);
    assert.deepEqual(isos(nextTicks(s, iso('2026-01-01T10:00:00Z') - 1, 1)), ['2026-01-01T10:00:00.000Z']);
  });

  test('in a non-UTC zone: 09:00 in New York is 14:00Z in winter, 13:00Z in summer', () => {
    const s = schedule('0 9 * * *', 'America/New_York');
    assert.deepEqual(isos(nextTicks(s, iso('2026-01-05T00:00:00Z'), 3)), ['2026-01-05T14:00:00.000Z', '2026-01-06T14:00:00.000Z', '2026-01-07T14:00:00.000Z']);
    assert.deepEqual(isos(nextTicks(s, iso('2026-07-01T00:00:00Z'), 1)), ['2026-07-01T13:00:00.000Z']);
  });

  test('bad arguments throw', () => {
    assert.throws(() => nextTicks(schedule('* * * * *'), Number.NaN, 1), RangeError);
    assert.throws(() => nextTicks(schedule('* * * * *'), 0, -1), RangeError);
  });
});

describe('daylight saving (2026 transitions)', () => {
  const cases: { name: string; cron: string; tz: string; from: string; to: string; want: string[] }[] = [
    {
      // Berlin springs forward 02:00 CET → 03:00 CEST on Mar 29: 02:30 does not exist; it runs once, at 03:00 CEST (01:00Z)
      name: 'Berlin spring forward: 02:30 runs once, at 03:00 local',
      cron: '30 2 * * *',
      tz: 'Europe/Berlin',
      from: '2026-03-28T12:00:00Z',
      to: '2026-03-30T12:00:00Z',
      want: ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    },
    {
      // Berlin falls back 03:00 CEST → 02:00 CET on Oct 25: 02:30 happens at 00:30Z and 01:30Z; it runs once, the first
      name: 'Berlin fall back: 02:30 runs once, at the first pass',
      cron: '30 2 * * *',
      tz: 'Europe/Berlin',
      from: '2026-10-24T12:00:00Z',
      to: '2026-10-26T12:00:00Z',
      want: ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    },
    {
      name: 'Berlin fall back: 01:30 (not repeated there) runs once',
      cron: '30 1 * * *',
      tz: 'Europe/Berlin',
      from: '2026-10-24T12:00:00Z',
      to: '2026-10-26T12:00:00Z',
      want: ['2026-10-24T23:30:00.000Z', '2026-10-26T00:30:00.000Z'],
    },
    {
      // New York springs forward 02:00 EST → 03:00 EDT on Mar 8: 02:30 runs at 03:00 EDT (07:00Z)
      name: 'New York spring forward: 02:30 runs once, at 03:00 local',
      cron: '30 2 * * *',
      tz: 'America/New_York',
      from: '2026-03-07T12:00:00Z',
      to: '2026-03-09T12:00:00Z',
      want: ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
    },
    {
      // New York falls back 02:00 EDT → 01:00 EST on Nov 1: 01:30 happens at 05:30Z and 06:30Z; once, the first
      name: 'New York fall back: 01:30 runs once',
      cron: '30 1 * * *',
      tz: 'America/New_York',
      from: '2026-10-31T12:00:00Z',
      to: '2026-11-02T12:00:00Z',
      want: ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    },
    {
      name: 'New York fall back: a list of hours (01:30 and 02:30) is fixed-time too, each once',
      cron: '30 1,2 * * *',
      tz: 'America/New_York',
      from: '2026-10-31T12:00:00Z',
      to: '2026-11-01T12:00:00Z',
      want: ['2026-11-01T05:30:00.000Z', '2026-11-01T07:30:00.000Z'],
    },
    {
      // hourly follows real time: the repeated 01:00 hour ticks on both passes, one hour apart
      name: 'New York fall back: hourly ticks every real hour',
      cron: '0 * * * *',
      tz: 'America/New_York',
      from: '2026-11-01T04:30:00Z',
      to: '2026-11-01T08:00:00Z',
      want: ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z'],
    },
    {
      // Lord Howe springs forward half an hour, 02:00 → 02:30 (+10:30 → +11) on Oct 4: 02:15 runs at 02:30 local (15:30Z Oct 3)
      name: 'Lord Howe half-hour spring forward: 02:15 runs once, at 02:30 local',
      cron: '15 2 * * *',
      tz: 'Australia/Lord_Howe',
      from: '2026-10-03T00:00:00Z',
      to: '2026-10-05T00:00:00Z',
      want: ['2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z'],
    },
    {
      // Lord Howe falls back 02:00 → 01:30 (+11 → +10:30) on Apr 5: 01:45 happens at 14:45Z and 15:15Z; once, the first
      name: 'Lord Howe half-hour fall back: 01:45 runs once',
      cron: '45 1 * * *',
      tz: 'Australia/Lord_Howe',
      from: '2026-04-04T00:00:00Z',
      to: '2026-04-06T00:00:00Z',
      want: ['2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { ticks, truncated } = ticksBetween(schedule(c.cron, c.tz), iso(c.from), iso(c.to), 10);
      assert.equal(truncated, false);
      assert.deepEqual(isos(ticks), c.want);
    });
  }

  test('a cursor between the two passes of a repeated time does not run it again', () => {
    // 05:45Z is after the first 01:30 (05:30Z EDT) and before the second (06:30Z EST)
    assert.deepEqual(isos(nextTicks(schedule('30 1 * * *', 'America/New_York'), iso('2026-11-01T05:45:00Z'), 1)), ['2026-11-02T06:30:00.000Z']);
  });
});

describe('ticksBetween', () => {
  test('(from, to]: from excluded, to included', () => {
    const s = schedule('0 * * * *');
    assert.deepEqual(isos(ticksBetween(s, iso('2026-01-01T10:00:00Z'), iso('2026-01-01T12:00:00Z'), 10).ticks), [
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
    ]);
  });

  test('bounded: a year of minutes stops at the limit and says so', () => {
    const r = ticksBetween(schedule('* * * * *'), iso('2026-01-01T00:00:00Z'), iso('2027-01-01T00:00:00Z'), 5);
    assert.equal(r.ticks.length, 5);
    assert.equal(r.truncated, true);
    // exactly the limit in the window is not truncated
    const exact = ticksBetween(schedule('* * * * *'), iso('2026-01-01T00:00:00Z'), iso('2026-01-01T00:05:00Z'), 5);
    assert.deepEqual([exact.ticks.length, exact.truncated], [5, false]);
  });
});

describe('dueTick: at most one catch-up run, the latest, within the deadline', () => {
  const hourly = schedule('0 * * * *');
  const lastTick = iso('2026-01-01T09:00:00Z');

  test('3 h down with an hourly schedule: one run, the latest tick, when within the deadline', () => {
    // missed 10:00, 11:00, 12:00; now 12:05 → 12:00 is 300 s late ≤ 900
    const r = dueTick(hourly, lastTick, iso('2026-01-01T12:05:00Z'), 900);
    assert.deepEqual(r, { due: true, tick: iso('2026-01-01T12:00:00Z'), lateMs: 300_000, skipped: 2, skippedCapped: false });
  });

  test('3 h down, the latest tick beyond the deadline: none runs, the three missed are counted', () => {
    // now 12:20 → 12:00 is 1200 s late > 900
    const r = dueTick(hourly, lastTick, iso('2026-01-01T12:20:00Z'), 900);
    assert.equal(r.due, false);
    assert.ok(r.reason === 'too-late');
    assert.equal(r.tick, iso('2026-01-01T12:00:00Z'));
    assert.equal(r.lateMs, 1_200_000);
    assert.equal(r.skipped, 3);
    assert.match(r.message, /3 tick\(s\) missed.*1200 s late, beyond startingDeadlineSeconds 900/);
  });

  test('exactly at the deadline still runs', () => {
    const r = dueTick(hourly, lastTick, iso('2026-01-01T12:15:00Z'), 900);
    assert.equal(r.due, true);
  });

  test('on time: the tick just passed, nothing skipped', () => {
    const r = dueTick(hourly, lastTick, iso('2026-01-01T10:00:00.300Z'), 900);
    assert.deepEqual(r, { due: true, tick: iso('2026-01-01T10:00:00Z'), lateMs: 300, skipped: 0, skippedCapped: false });
  });

  test('nothing missed: not due, with the next tick', () => {
    const r = dueTick(hourly, lastTick, iso('2026-01-01T09:30:00Z'), 900);
    assert.deepEqual(r, { due: false, reason: 'not-due', next: iso('2026-01-01T10:00:00Z') });
  });

  test('a long outage of an every-minute schedule: one run, the count capped', () => {
    // a week down: 10080 minutes missed, the latest 30 s ago
    const r = dueTick(schedule('* * * * *'), iso('2026-01-01T00:00:00Z'), iso('2026-01-08T00:00:30Z'), 60);
    assert.equal(r.due, true);
    assert.ok(r.due);
    assert.equal(r.tick, iso('2026-01-08T00:00:00Z'));
    assert.equal(r.skippedCapped, true);
    assert.equal(r.skipped, MISSED_COUNT_LIMIT - 1);
  });
});

describe('properties', () => {
  const exprs = ['* * * * *', '*/7 * * * *', '0 * * * *', '30 2 * * *', '30 1,2 * * *', '0 0 L * *', '0 9 * * MON-FRI', '0 0 13 * FRI', '15 3 * * 0#1', '45 1 * * *'];
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  const when = fc.integer({ min: iso('2000-01-01T00:00:00Z'), max: iso('2099-12-31T00:00:00Z') });

  test('nextTicks are strictly increasing, after `after`, each a tick (or the first instant after a DST gap), and ticksBetween agrees', () => {
    fc.assert(
      fc.property(fc.constantFrom(...exprs), fc.constantFrom(...zones), when, fc.integer({ min: 1, max: 8 }), (cron, tz, after, n) => {
        const s = schedule(cron, tz);
        const oracle = new Cron(cron, { timezone: tz });
        const ticks = nextTicks(s, after, n);
        assert.equal(ticks.length, n);
        let prev = after;
        for (const t of ticks) {
          assert.ok(t > prev, `${cron} ${tz}: ${t} after ${prev}`);
          assert.ok(oracle.match(new Date(t)) || afterGap(tz, t), `${cron} ${tz}: ${new Date(t).toISOString()} is no tick`);
          prev = t;
        }
        assert.deepEqual(ticksBetween(s, after, ticks.at(-1) as number, n + 1).ticks, ticks);
      }),
      { numRuns: 200 },
    );
  });

  test('dueTick picks the latest tick of the window, never an older one', () => {
    fc.assert(
      fc.property(fc.constantFrom(...exprs), fc.constantFrom(...zones), when, fc.integer({ min: 0, max: 3 * 86_400_000 }), (cron, tz, last, gap) => {
        const s = schedule(cron, tz);
        const now = last + gap;
        const window = ticksBetween(s, last, now, 10_000).ticks;
        const r = dueTick(s, last, now, 3600);
        if (window.length === 0) assert.equal(r.due ? 'due' : r.reason, 'not-due');
        else {
          assert.ok(r.due || r.reason === 'too-late');
          assert.equal('tick' in r && r.tick, window.at(-1));
          assert.equal(r.due, now - (window.at(-1) as number) <= 3_600_000);
        }
      }),
      { numRuns: 100 },
    );
  });
});

/** True when the UTC offset changed in the minute before `t`: a fixed-time tick moved out of a spring-forward gap. */
function afterGap(tz: string, t: number): boolean {
  return offsetAt(tz, t) !== offsetAt(tz, t - 60_000);
}

function offsetAt(tz: string, t: number): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).format(new Date(t)).split(' ').at(-1) ?? '';
}
