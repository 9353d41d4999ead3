/**
 * Report periods in a time zone: a day runs from local midnight to the next local midnight (23 or
 * 25 hours across a daylight-saving change), a week from Monday 00:00 to the next Monday (ISO
 * 8601 weeks). Pure: the instant is passed in, the zone's offsets come from Intl's tz database.
 */

export type PeriodKind = 'daily' | 'weekly';

export interface Period {
  kind: PeriodKind | 'custom';
  start: Date;
  end: Date;
  timeZone: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall-clock fields of `ms` in `timeZone`. */
export function localFields(ms: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The zone's offset from UTC at `ms`, in ms (local = UTC + offset). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const f = localFields(ms, timeZone);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The instant of local midnight starting the civil date (year, month, day) in `timeZone`. Where
 * that midnight does not exist (a zone that springs forward at 00:00), the first instant of the
 * day after the gap.
 */
export function localMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day);
  const first = guess - zoneOffsetMs(guess, timeZone);
  const second = guess - zoneOffsetMs(first, timeZone);
  if (first === second) return new Date(first);
  // Across a change: take the candidate whose local date is the asked day at the earliest time.
  const candidates = [first, second].filter((t) => {
    const f = localFields(t, timeZone);
    return f.year === year && f.month === month && f.day === day;
  });
  return new Date(candidates.length > 0 ? Math.min(...candidates) : Math.max(first, second));
}

/** Adds `days` to a civil date. */
function addDays(year: number, month: number, day: number, days: number) {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The period of `kind` that contains the instant `ms`. */
export function periodContaining(kind: PeriodKind, ms: number, timeZone: string): Period {
  const f = localFields(ms, timeZone);
  let first = { year: f.year, month: f.month, day: f.day };
  // The local midnight may lie after `ms` only where a day starts late (a gap at midnight).
  if (localMidnight(first.year, first.month, first.day, timeZone).getTime() > ms)
    first = addDays(first.year, first.month, first.day, -1);
  let length = 1;
  if (kind === 'weekly') {
    const weekday = new Date(Date.UTC(first.year, first.month - 1, first.day)).getUTCDay(); // 0 = Sunday
    first = addDays(first.year, first.month, first.day, -((weekday + 6) % 7));
    length = 7;
  }
  const next = addDays(first.year, first.month, first.day, length);
  return {
    kind,
    start: localMidnight(first.year, first.month, first.day, timeZone),
    end: localMidnight(next.year, next.month, next.day, timeZone),
    timeZone,
  };
}

/** The period right before `period` (same kind and zone). */
export function previousPeriod(period: Period & { kind: PeriodKind }): Period & { kind: PeriodKind } {
  return { ...periodContaining(period.kind, period.start.getTime() - 1, period.timeZone), kind: period.kind };
}

/**
 * The periods a schedule owes at `now`: the latest complete period whose end is at least
 * `delayMs` in the past, and up to `catchUp` periods before it (missed while central was down),
 * oldest first. Which of them were already made is the database's business (the claim).
 */
export function duePeriods(
  kind: PeriodKind,
  now: number,
  timeZone: string,
  delayMs: number,
  catchUp: number,
): Array<Period & { kind: PeriodKind }> {
  let p = { ...periodContaining(kind, now - delayMs, timeZone), kind };
  const out: Array<Period & { kind: PeriodKind }> = [];
  for (let i = 0; i <= catchUp; i++) {
    p = previousPeriod(p);
    out.unshift(p);
  }
  return out;
}

/** `2026-03-01` or `2026-03-02 – 2026-03-08` (local dates, the end inclusive), for titles. */
export function periodLabel(period: Period): string {
  const day = (ms: number) => {
    const f = localFields(ms, period.timeZone);
    return `${f.year}-${String(f.month).padStart(2, '0')}-${String(f.day).padStart(2, '0')}`;
  };
  const first = day(period.start.getTime());
  const last = day(period.end.getTime() - 1);
  if (period.kind === 'custom') {
    const time = (ms: number) => {
      const f = localFields(ms, period.timeZone);
      return `${String(f.hour).padStart(2, '0')}:${String(f.minute).padStart(2, '0')}`;
    };
    return `${first} ${time(period.start.getTime())} – ${day(period.end.getTime())} ${time(period.end.getTime())}`;
  }
  return first === last ? first : `${first} – ${last}`;
}
