/**
 * The two syslog timestamp shapes: RFC 3339 as profiled by RFC 5424 §6.2.3, and the BSD
 * `Mmm dd hh:mm:ss` of RFC 3164 §4.1.2 with the variations real devices send (upper-case month,
 * one-digit day, a year before the time, a colon after it). BSD timestamps carry no year and no
 * zone: the year is inferred from the caller's `now`, the zone is the caller's `utcOffsetMinutes`.
 * Every function here is pure and returns null rather than throwing.
 */

export const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;

const DAY_MS = 86_400_000;
/** How far ahead of `now` an inferred BSD timestamp may lie (clock skew, a device ahead of us). */
const MAX_FUTURE_MS = 31 * DAY_MS;

export interface ParsedTimestamp {
  /** The instant, or null when the text had the right shape but names no real date (Feb 30). */
  date: Date | null;
  /** The timestamp as written, without the delimiter that follows it. */
  text: string;
  /** Index just past the timestamp and the SP (or end of input) that ends it. */
  end: number;
}

export interface TimestampContext {
  now: Date;
  /** Offset of the sender's clock from UTC, for timestamps that do not say (default 0: UTC). */
  utcOffsetMinutes: number;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Milliseconds since the epoch for a wall-clock time, or null for an impossible date. Built with
 * setUTCFullYear because Date.UTC maps years 0–99 to 1900–1999.
 */
export function wallClockToMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number | null {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  // Years from 100 on need no Date object (this runs for every BSD timestamp, three times).
  if (year >= 100) {
    const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    return Number.isFinite(t) ? t : null;
  }
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  d.setUTCFullYear(year, month - 1, day);
  const t = d.getTime();
  return Number.isFinite(t) ? t : null;
}

/** Reads exactly `n` ASCII digits at `pos`, or returns -1. */
function digits(text: string, pos: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(pos + i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/**
 * Reads 1 to `max` (at most 4) ASCII digits at `pos`: value × 16 + length, or -1 when there is
 * none. One number, not a [value, length] pair: no array per call (each BSD timestamp reads two
 * or three of these).
 */
function someDigits(text: string, pos: number, max: number): number {
  let v = 0;
  let n = 0;
  while (n < max) {
    const c = text.charCodeAt(pos + n);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    n++;
  }
  return n === 0 ? -1 : v * 16 + n;
}

/** A run of fractional-second digits as milliseconds (truncated: RFC 5424 allows 6, we read up to 9). */
function fraction(text: string, pos: number): [number, number] | null {
  let n = 0;
  let ms = 0;
  while (n < 9) {
    const c = text.charCodeAt(pos + n);
    if (c < 48 || c > 57) break;
    if (n < 3) ms = ms * 10 + (c - 48);
    n++;
  }
  if (n === 0) return null;
  for (let i = n; i < 3; i++) ms *= 10;
  return [ms, n];
}

/**
 * RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` at `pos` (RFC 5424 §6.2.3). Lenient where devices
 * are: a lower-case `t`/`z` (RFC 3339 §5.6 permits them), up to 9 fraction digits, and a missing
 * offset, which is read in the caller's zone. Must be followed by SP or the end of input.
 */
export function parseRfc3339(text: string, pos: number, ctx: TimestampContext): ParsedTimestamp | null {
  const year = digits(text, pos, 4);
  if (year < 0 || text[pos + 4] !== '-') return null;
  const month = digits(text, pos + 5, 2);
  if (month < 0 || text[pos + 7] !== '-') return null;
  const day = digits(text, pos + 8, 2);
  const t = text[pos + 10];
  if (day < 0 || (t !== 'T' && t !== 't')) return null;
  const hour = digits(text, pos + 11, 2);
  if (hour < 0 || text[pos + 13] !== ':') return null;
  const minute = digits(text, pos + 14, 2);
  if (minute < 0 || text[pos + 16] !== ':') return null;
  const second = digits(text, pos + 17, 2);
  if (second < 0) return null;
  let i = pos + 19;
  let ms = 0;
  if (text[i] === '.') {
    const f = fraction(text, i + 1);
    if (!f) return null;
    ms = f[0];
    i += 1 + f[1];
  }
  let offsetMinutes = ctx.utcOffsetMinutes;
  const z = text[i];
  if (z === 'Z' || z === 'z') {
    offsetMinutes = 0;
    i += 1;
  } else if (z === '+' || z === '-') {
    const oh = digits(text, i + 1, 2);
    const om = digits(text, i + 4, 2);
    if (oh < 0 || om < 0 || text[i + 3] !== ':' || oh > 23 || om > 59) return null;
    offsetMinutes = (z === '-' ? -1 : 1) * (oh * 60 + om);
    i += 6;
  }
  if (i < text.length && text[i] !== ' ') return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const wall = wallClockToMs(year, month, day, hour, minute, second, ms);
  const date = wall === null ? null : new Date(wall - offsetMinutes * 60_000);
  return { date, text: text.slice(pos, i), end: i < text.length ? i + 1 : i };
}

/** Month number (1–12) of a case-insensitive three-letter English month name at `pos`, or 0. */
function monthAt(text: string, pos: number): number {
  if (pos + 3 > text.length) return 0;
  // Char codes with the ASCII case bit set: no string is made per message.
  const a = text.charCodeAt(pos) | 0x20;
  const b = text.charCodeAt(pos + 1) | 0x20;
  const c = text.charCodeAt(pos + 2) | 0x20;
  for (let i = 0; i < 12; i++) {
    const name = MONTHS_LOWER[i]!;
    if (name.charCodeAt(0) === a && name.charCodeAt(1) === b && name.charCodeAt(2) === c) return i + 1;
  }
  return 0;
}
const MONTHS_LOWER = MONTHS.map((m) => m.toLowerCase());

/**
 * The instant (ms) of a year-less BSD timestamp, in the year that puts it nearest to `now` without
 * being more than a month after it (RFC 3164 §4.1.2 has no year). Null when no candidate year has
 * that date (Feb 29 in a run of common years).
 */
/** The UTC year of an instant, remembered for the last one asked (a burst shares its clock). */
const yearCache = { ms: Number.NaN, year: 0 };
function utcYear(ms: number): number {
  if (ms !== yearCache.ms) {
    yearCache.year = new Date(ms).getUTCFullYear();
    yearCache.ms = ms;
  }
  return yearCache.year;
}

export function inferBsdInstant(
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  ctx: TimestampContext,
): number | null {
  const now = ctx.now.getTime();
  const nowYear = utcYear(now + ctx.utcOffsetMinutes * 60_000);
  let best: number | null = null;
  for (let year = nowYear + 1; year >= nowYear - 1; year--) {
    const wall = wallClockToMs(year, month, day, hour, minute, second, ms);
    if (wall === null) continue;
    const t = wall - ctx.utcOffsetMinutes * 60_000;
    if (t - now > MAX_FUTURE_MS) continue;
    if (best === null) best = t;
    else if (Math.abs(t - now) < Math.abs(best - now)) best = t;
  }
  return best;
}

/**
 * BSD `Mmm dd hh:mm:ss` at `pos` (RFC 3164 §4.1.2), accepting what rsyslog accepts: any letter
 * case, a one-digit day after one or two spaces, a year between the day and the time (Cisco), a
 * colon after the time. Also accepts `.fff` fractional seconds (Cisco `service timestamps msec`).
 * Must be followed by SP (consumed) or the end of input.
 */
export function parseRfc3164Timestamp(
  text: string,
  pos: number,
  ctx: TimestampContext,
): ParsedTimestamp | null {
  const month = monthAt(text, pos);
  if (month === 0 || text[pos + 3] !== ' ') return null;
  let i = pos + 4;
  if (text[i] === ' ') i++;
  const dayRead = someDigits(text, i, 2);
  const day = dayRead >> 4;
  if (dayRead < 0 || day < 1 || day > 31) return null;
  i += dayRead & 15;
  if (text[i] !== ' ') return null;
  i++;
  let hourRead = someDigits(text, i, 4);
  if (hourRead < 0) return null;
  let year: number | null = null;
  if ((hourRead & 15) === 4 && hourRead >> 4 > 1970 && hourRead >> 4 < 2100) {
    // rsyslog's rule: a four-digit number where the hour should be is a year (Cisco devices).
    year = hourRead >> 4;
    i += 4;
    if (text[i] !== ' ') return null;
    i++;
    hourRead = someDigits(text, i, 2);
    if (hourRead < 0) return null;
  }
  const hour = hourRead >> 4;
  const hourDigits = hourRead & 15;
  if (hourDigits > 2 || hour > 23 || text[i + hourDigits] !== ':') return null;
  i += hourDigits + 1;
  const minute = digits(text, i, 2);
  if (minute < 0 || minute > 59 || text[i + 2] !== ':') return null;
  i += 3;
  const second = digits(text, i, 2);
  if (second < 0 || second > 60) return null;
  i += 2;
  let ms = 0;
  if (text[i] === '.') {
    const f = fraction(text, i + 1);
    if (!f) return null;
    ms = f[0];
    i += 1 + f[1];
  }
  const textEnd = i;
  if (text[i] === ':') i++;
  if (i < text.length && text[i] !== ' ') return null;
  let t: number | null;
  if (year !== null) {
    const wall = wallClockToMs(year, month, day, hour, minute, second, ms);
    t = wall === null ? null : wall - ctx.utcOffsetMinutes * 60_000;
  } else {
    t = inferBsdInstant(month, day, hour, minute, second, ms, ctx);
  }
  return {
    date: t === null ? null : new Date(t),
    text: text.slice(pos, textEnd),
    end: i < text.length ? i + 1 : i,
  };
}
