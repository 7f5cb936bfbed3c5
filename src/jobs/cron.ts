import { CronError } from './errors.js';

/**
 * Five-field cron schedules, as the template accepts them (see `cronProblem`
 * in template/types/job.ts): minute hour day-of-month month day-of-week, each
 * `*` or a comma list of `N`, `A-B`, with an optional `/STEP` (`*\/15`,
 * `1-30/2`; `N/STEP` means N to the field's end). No names, no `@daily`.
 *
 * Times are the machine's local time, as Vixie cron's. Across daylight
 * saving changes a schedule follows the wall clock: a time that is skipped
 * when clocks go forward does not run that day, and one that happens twice
 * when clocks go back runs twice (Vixie cron special-cases both; we do not).
 *
 * Day-of-month and day-of-week follow Vixie cron: when both are restricted
 * (neither starts with `*`), a day matches if EITHER matches; otherwise both
 * must. So `0 0 1 * 1` runs on the 1st and on every Monday, while
 * `0 0 *\/2 * 1` runs on odd-numbered Mondays. Day-of-week 0 and 7 are Sunday.
 */
export interface CronSchedule {
  readonly expression: string;
  /** Whether the minute holding `date` is one of the schedule's. */
  matches(date: Date): boolean;
  /** The first matching minute strictly after `after`; undefined when there is none. */
  next(after: Date): Date | undefined;
}

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
];

/**
 * The Gregorian calendar repeats every 400 years (weekdays and leap years
 * alike), so a schedule with no match in that span never matches.
 */
const HORIZON_YEARS = 400;

/** Parses a schedule; throws CronError with what is wrong. */
export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronError(
      expression,
      `has ${parts.length} fields; a schedule has 5 (minute hour day month weekday)`,
    );
  }
  const [minutes, hours, days, months, weekdays] = FIELDS.map((field, i) =>
    parseField(expression, parts[i] ?? '', field),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekdays.delete(7)) weekdays.add(0);
  // Vixie cron's rule: a day field counts as unrestricted when it starts with '*' (even '*/2').
  const daysStar = parts[2]?.startsWith('*') ?? false;
  const weekdaysStar = parts[4]?.startsWith('*') ?? false;

  const dayMatches = (date: Date): boolean => {
    const dom = days.has(date.getDate());
    const dow = weekdays.has(date.getDay());
    return daysStar || weekdaysStar ? dom && dow : dom || dow;
  };

  const schedule: CronSchedule = {
    expression,
    matches: (date) =>
      minutes.has(date.getMinutes()) &&
      hours.has(date.getHours()) &&
      months.has(date.getMonth() + 1) &&
      dayMatches(date),
    next: (after) => {
      const limit = new Date(after);
      limit.setFullYear(limit.getFullYear() + HORIZON_YEARS);
      // The next whole minute after `after`, in local time.
      let t = new Date(after);
      t.setSeconds(0, 0);
      t = new Date(t.getTime() + 60_000);
      // Skip whole months, days and hours that cannot match before walking minutes.
      while (t <= limit) {
        if (!months.has(t.getMonth() + 1)) {
          t = new Date(t.getFullYear(), t.getMonth() + 1, 1, 0, 0);
        } else if (!dayMatches(t)) {
          t = new Date(t.getFullYear(), t.getMonth(), t.getDate() + 1, 0, 0);
        } else if (!hours.has(t.getHours())) {
          t = nextHour(t);
        } else if (!minutes.has(t.getMinutes())) {
          t = new Date(t.getTime() + 60_000);
        } else {
          return t;
        }
      }
      return undefined;
    },
  };
  return schedule;
}

/**
 * The start of the next hour. Added in absolute time, not by setting the
 * local hour, so an hour repeated when clocks go back is still walked.
 */
function nextHour(t: Date): Date {
  return new Date(t.getTime() + (60 - t.getMinutes()) * 60_000);
}

function parseField(expression: string, text: string, field: Field): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new CronError(expression, `'${part}' is not a cron ${field.name} field`);
    const [, range, from, to, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step === 0) throw new CronError(expression, `step 0 in '${part}'`);
    let lo = field.min;
    let hi = field.max;
    if (range !== '*') {
      lo = Number(from);
      // 'N/STEP' runs from N to the end of the field; a plain 'N' is just N.
      hi = to !== undefined ? Number(to) : stepText !== undefined ? field.max : lo;
    }
    if (lo < field.min || hi > field.max || hi < lo) {
      throw new CronError(
        expression,
        `'${part}' is outside ${field.name} ${field.min}-${field.max}`,
      );
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}
