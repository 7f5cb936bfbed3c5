import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

// Test-only, to hold the two parsers to one grammar; the template layer does not export it.
import { cronProblem } from '../template/types/job.js';

import { parseCron } from './cron.js';
import { CronError } from './errors.js';

/** Local time, as schedules are. */
function at(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Date {
  return new Date(year, month - 1, day, hour, minute, second);
}

/** 'YYYY-MM-DD HH:MM (Dow)' in local time, for readable failures. */
function show(date: Date | undefined): string {
  if (date === undefined) return 'never';
  const p = (n: number): string => String(n).padStart(2, '0');
  const dow = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getDay()];
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())} (${dow})`;
}

describe('parseCron: next', () => {
  // 2025-01-01 is a Wednesday.
  const cases: [expression: string, from: Date, expected: string[]][] = [
    ['* * * * *', at(2025, 1, 1, 10, 0, 30), ['2025-01-01 10:01 (Wed)', '2025-01-01 10:02 (Wed)']],
    // Strictly after: a time that matches is not its own next.
    ['0 * * * *', at(2025, 1, 1, 10, 0), ['2025-01-01 11:00 (Wed)']],
    [
      '*/15 * * * *',
      at(2025, 1, 1, 10, 7),
      [
        '2025-01-01 10:15 (Wed)',
        '2025-01-01 10:30 (Wed)',
        '2025-01-01 10:45 (Wed)',
        '2025-01-01 11:00 (Wed)',
      ],
    ],
    ['5/15 * * * *', at(2025, 1, 1, 10, 40), ['2025-01-01 10:50 (Wed)', '2025-01-01 11:05 (Wed)']],
    ['1-5 * * * *', at(2025, 1, 1, 10, 4), ['2025-01-01 10:05 (Wed)', '2025-01-01 11:01 (Wed)']],
    [
      '10-50/20 * * * *',
      at(2025, 1, 1, 10, 0),
      [
        '2025-01-01 10:10 (Wed)',
        '2025-01-01 10:30 (Wed)',
        '2025-01-01 10:50 (Wed)',
        '2025-01-01 11:10 (Wed)',
      ],
    ],
    ['30 4 1,15 * *', at(2025, 1, 1, 5, 0), ['2025-01-15 04:30 (Wed)', '2025-02-01 04:30 (Sat)']],
    [
      '0 9-17/4 * * 1-5',
      at(2025, 1, 3, 14, 0),
      ['2025-01-03 17:00 (Fri)', '2025-01-06 09:00 (Mon)'],
    ],
    // Leap days: 2100 is not a leap year.
    ['0 0 29 2 *', at(2025, 3, 1), ['2028-02-29 00:00 (Tue)', '2032-02-29 00:00 (Sun)']],
    ['0 0 29 2 *', at(2096, 3, 1), ['2104-02-29 00:00 (Fri)']],
    ['0 0 31 * *', at(2025, 1, 31, 0, 1), ['2025-03-31 00:00 (Mon)', '2025-05-31 00:00 (Sat)']],
    ['59 23 31 12 *', at(2025, 6, 1), ['2025-12-31 23:59 (Wed)', '2026-12-31 23:59 (Thu)']],
    ['0 0 1 1 *', at(2025, 12, 31, 23, 59, 59), ['2026-01-01 00:00 (Thu)']],
    // Sunday is 0 and 7.
    ['0 0 * * 0', at(2025, 1, 1), ['2025-01-05 00:00 (Sun)', '2025-01-12 00:00 (Sun)']],
    ['0 0 * * 7', at(2025, 1, 1), ['2025-01-05 00:00 (Sun)', '2025-01-12 00:00 (Sun)']],
    [
      '0 12 * * 5-7',
      at(2025, 1, 1),
      [
        '2025-01-03 12:00 (Fri)',
        '2025-01-04 12:00 (Sat)',
        '2025-01-05 12:00 (Sun)',
        '2025-01-10 12:00 (Fri)',
      ],
    ],
    // Both day fields restricted: either one (Vixie cron's OR).
    [
      '0 0 1 * 1',
      at(2025, 1, 1),
      [
        '2025-01-06 00:00 (Mon)',
        '2025-01-13 00:00 (Mon)',
        '2025-01-20 00:00 (Mon)',
        '2025-01-27 00:00 (Mon)',
        '2025-02-01 00:00 (Sat)',
        '2025-02-03 00:00 (Mon)',
      ],
    ],
    [
      '0 0 13 * 5',
      at(2025, 6, 1),
      ['2025-06-06 00:00 (Fri)', '2025-06-13 00:00 (Fri)', '2025-06-20 00:00 (Fri)'],
    ],
    // A day field starting with '*' counts as unrestricted: both must match (odd-numbered
    // Mondays; the 1st when it is a Sunday, Wednesday or Saturday).
    [
      '0 0 */2 * 1',
      at(2025, 1, 1),
      ['2025-01-13 00:00 (Mon)', '2025-01-27 00:00 (Mon)', '2025-02-03 00:00 (Mon)'],
    ],
    [
      '0 0 1 * */3',
      at(2025, 1, 1),
      ['2025-02-01 00:00 (Sat)', '2025-03-01 00:00 (Sat)', '2025-06-01 00:00 (Sun)'],
    ],
    // Month restricted with both day fields: OR only within the month.
    [
      '0 0 1 3 0',
      at(2025, 1, 1),
      ['2025-03-01 00:00 (Sat)', '2025-03-02 00:00 (Sun)', '2025-03-09 00:00 (Sun)'],
    ],
  ];

  for (const [expression, from, expected] of cases) {
    it(`${expression} from ${show(from)}`, () => {
      const schedule = parseCron(expression);
      const got: string[] = [];
      let t: Date | undefined = from;
      for (let i = 0; i < expected.length && t !== undefined; i++) {
        t = schedule.next(t);
        got.push(show(t));
      }
      expect(got).toEqual(expected);
    });
  }

  it('finds nothing for a date that never comes', () => {
    for (const expression of ['0 0 30 2 *', '0 0 31 4,6,9,11 *', '0 0 31 2 *']) {
      expect(parseCron(expression).next(at(2025, 1, 1)), expression).toBeUndefined();
    }
  });

  it('ignores seconds and milliseconds of the start', () => {
    const schedule = parseCron('*/5 * * * *');
    expect(show(schedule.next(at(2025, 1, 1, 10, 4, 59)))).toBe('2025-01-01 10:05 (Wed)');
    expect(schedule.next(at(2025, 1, 1, 10, 4, 59))?.getSeconds()).toBe(0);
    expect(show(schedule.next(new Date(at(2025, 1, 1, 10, 5).getTime() + 999)))).toBe(
      '2025-01-01 10:10 (Wed)',
    );
  });
});

describe('parseCron: matches', () => {
  const cases: [expression: string, date: Date, expected: boolean][] = [
    ['*/15 * * * *', at(2025, 1, 1, 10, 45, 30), true],
    ['*/15 * * * *', at(2025, 1, 1, 10, 46), false],
    ['0 0 1 * 1', at(2025, 1, 6), true], // a Monday
    ['0 0 1 * 1', at(2025, 2, 1), true], // the 1st
    ['0 0 1 * 1', at(2025, 1, 7), false],
    ['0 0 */2 * 1', at(2025, 1, 6), false], // an even-numbered Monday
    ['0 0 */2 * 1', at(2025, 1, 13), true],
    ['0 0 * * 7', at(2025, 1, 5), true],
    ['0 0 * * 0', at(2025, 1, 5), true],
    ['0 0 * * 1-6', at(2025, 1, 5), false],
    ['0 0 29 2 *', at(2028, 2, 29), true],
  ];
  for (const [expression, date, expected] of cases) {
    it(`${expression} at ${show(date)}: ${expected}`, () => {
      expect(parseCron(expression).matches(date)).toBe(expected);
    });
  }
});

describe('parseCron: syntax', () => {
  const valid = [
    '* * * * *',
    ' 0  3 * * * ',
    '0,30 0-23/2 1-31 1-12 0-7',
    '5/15 * * * *',
    '59 23 31 12 7',
    '0 0 29 2 *',
  ];
  const invalid = [
    '',
    '* * * *',
    '* * * * * *',
    '60 * * * *',
    '* 24 * * *',
    '* * 0 * *',
    '* * 32 * *',
    '* * * 0 *',
    '* * * 13 *',
    '* * * * 8',
    '*/0 * * * *',
    '5-1 * * * *',
    'a * * * *',
    '* * * JAN *',
    '* * * * MON',
    '@daily',
    '1,,2 * * * *',
    '-1 * * * *',
    '*/ * * * *',
    '? * * * *',
    'L * * * *',
  ];

  for (const expression of valid) {
    it(`accepts '${expression}'`, () => {
      expect(() => parseCron(expression)).not.toThrow();
    });
  }

  for (const expression of invalid) {
    it(`refuses '${expression}'`, () => {
      let error: unknown;
      try {
        parseCron(expression);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CronError);
      expect((error as CronError).code).toBe('CRON_INVALID');
      expect((error as CronError).message).toContain(expression);
    });
  }

  it('agrees with the template validator on every case', () => {
    for (const expression of [...valid, ...invalid]) {
      let refused = false;
      try {
        parseCron(expression);
      } catch {
        refused = true;
      }
      expect(refused, expression).toBe(cronProblem(expression) !== undefined);
    }
  });
});

describe('parseCron: next is the first match (property)', () => {
  // Mostly frequent schedules, so that the minute-by-minute oracle stays cheap.
  const minute = fc.constantFrom('*', '*/5', '0', '15,45', '10-20', '7/20', '59');
  const hour = fc.constantFrom('*', '*/6', '0', '9-17', '23', '3,4');
  const day = fc.constantFrom('*', '*/2', '1', '15', '28-31', '13');
  const month = fc.constantFrom('*', '*', '*', '2', '1-6');
  const weekday = fc.constantFrom('*', '*', '0', '7', '1-5', '6,0', '*/3');
  const expression = fc.tuple(minute, hour, day, month, weekday).map((fields) => fields.join(' '));
  const start = fc.date({
    min: new Date(2000, 0, 1),
    max: new Date(2035, 0, 1),
    noInvalidDate: true,
  });

  it('matches, comes after the start, and no earlier minute matches', () => {
    fc.assert(
      fc.property(expression, start, (expr, from) => {
        const schedule = parseCron(expr);
        const next = schedule.next(from);
        expect(next).toBeDefined();
        if (next === undefined) return;
        expect(next.getTime()).toBeGreaterThan(from.getTime());
        expect(next.getSeconds()).toBe(0);
        expect(schedule.matches(next)).toBe(true);
        // Check every minute in between, up to 40 days of them.
        const first = Math.floor(from.getTime() / 60_000) * 60_000 + 60_000;
        const last = Math.min(next.getTime(), first + 40 * 24 * 3600_000);
        for (let t = first; t < last; t += 60_000) {
          if (schedule.matches(new Date(t))) {
            throw new Error(`${expr}: ${show(new Date(t))} matches before ${show(next)}`);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('parseCron: daylight saving time (America/New_York)', () => {
  const saved = process.env['TZ'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TZ'];
    else process.env['TZ'] = saved;
  });

  it('follows the wall clock across the changes', () => {
    process.env['TZ'] = 'America/New_York';
    // Node reads TZ again when it changes; check it did, or the test means nothing.
    expect(new Date(Date.UTC(2025, 0, 1, 12)).getHours()).toBe(7);
    // 2025-03-09: 02:00 → 03:00. A 02:30 job does not run that day.
    expect(show(parseCron('30 2 * * *').next(at(2025, 3, 8, 12)))).toBe('2025-03-10 02:30 (Mon)');
    // Hourly jobs are an hour apart in real time across the change.
    const hourly = parseCron('0 * * * *');
    const before = at(2025, 3, 9, 1, 30);
    const next = hourly.next(before);
    expect(show(next)).toBe('2025-03-09 03:00 (Sun)');
    expect((next?.getTime() ?? 0) - before.getTime()).toBe(30 * 60_000);
    // 2025-11-02: 02:00 → 01:00. 01:30 happens twice, and so does the job.
    const first = parseCron('30 1 * * *').next(at(2025, 11, 2, 0, 0));
    const second = parseCron('30 1 * * *').next(first ?? new Date(0));
    expect(show(first)).toBe('2025-11-02 01:30 (Sun)');
    expect(show(second)).toBe('2025-11-02 01:30 (Sun)');
    expect((second?.getTime() ?? 0) - (first?.getTime() ?? 0)).toBe(3600_000);
  });
});
