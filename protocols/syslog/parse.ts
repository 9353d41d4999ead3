/**
 * The syslog message parser: one message's bytes (however they were framed) in, a `SyslogMessage`
 * or a typed error out. It reads RFC 5424 and RFC 3164/BSD as devices really send them, taking
 * rsyslog's behaviour as the reference (see SPEC.md for what is accepted and where we differ).
 * Pure: no sockets, no timers, no clock (the caller passes `now`), and it never throws. Bad UTF-8
 * is decoded with U+FFFD and flagged rather than rejected, so no good event is lost.
 */
import { DEFAULT_PRI, MAX_PRI } from './names.ts';
import { parseRfc3164 } from './rfc3164.ts';
import { parseRfc5424 } from './rfc5424.ts';
import type { TimestampContext } from './timestamp.ts';
import type { SyslogParseResult } from './types.ts';

export interface SyslogParseOptions {
  /** The receiving clock: used only to infer the year of RFC 3164 timestamps. */
  now: Date;
  /** Largest accepted input in bytes (default 65536); larger input is the error `too_large`. */
  maxBytes?: number;
  /** `replace` (default) decodes invalid UTF-8 with U+FFFD and flags it; `reject` returns `invalid_utf8`. */
  invalidUtf8?: 'replace' | 'reject';
  /** Offset from UTC of senders' clocks, for timestamps without a zone (default 0: UTC). */
  utcOffsetMinutes?: number;
}

export const SYSLOG_DEFAULT_MAX_BYTES = 65_536;

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LENIENT_UTF8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 length of a string without encoding it. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Decodes bytes as UTF-8; invalid sequences become U+FFFD and are reported, never thrown. */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: boolean } {
  try {
    return { text: STRICT_UTF8.decode(bytes), invalid: false };
  } catch {
    return { text: LENIENT_UTF8.decode(bytes), invalid: true };
  }
}

/**
 * `<PRI>` at the start (RFC 5424 §6.2.1, RFC 3164 §4.1.1): 1 to 3 digits, at most 191. Leading
 * zeros are accepted, as rsyslog does. Anything else is "no PRI": the default 13 is assumed and
 * the text is parsed from its first character, so nothing the device sent is dropped.
 */
export function parsePri(text: string): { pri: number; present: boolean; end: number } {
  if (text.charCodeAt(0) === 60 /* < */) {
    let pri = 0;
    let i = 1;
    while (i <= 3) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      pri = pri * 10 + (c - 48);
      i++;
    }
    if (i > 1 && text[i] === '>' && pri <= MAX_PRI) return { pri, present: true, end: i + 1 };
  }
  return { pri: DEFAULT_PRI, present: false, end: 0 };
}

/**
 * Strips what framing and senders append after a message: trailing NULs, LF and CR (rsyslog
 * drops a trailing LF and NUL too; RFC 6587 §3.4.2 trailers sent over UDP are common).
 */
function stripTrailer(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0 && c !== 10 && c !== 13) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

/** Parses one syslog message. Never throws; bad input is a typed error. */
export function parseSyslog(input: string | Uint8Array, options: SyslogParseOptions): SyslogParseResult {
  const maxBytes = options.maxBytes ?? SYSLOG_DEFAULT_MAX_BYTES;
  const size = typeof input === 'string' ? utf8Length(input) : input.length;
  if (size > maxBytes) {
    return {
      ok: false,
      error: { code: 'too_large', message: `message is ${size} bytes, over the ${maxBytes} byte limit` },
    };
  }
  let text: string;
  let invalidUtf8 = false;
  if (typeof input === 'string') {
    text = input;
  } else {
    const decoded = decodeUtf8(input);
    if (decoded.invalid && options.invalidUtf8 === 'reject') {
      return { ok: false, error: { code: 'invalid_utf8', message: 'message is not valid UTF-8' } };
    }
    text = decoded.text;
    invalidUtf8 = decoded.invalid;
  }
  text = stripTrailer(text);
  if (text.length === 0) return { ok: false, error: { code: 'empty', message: 'empty message' } };

  const ctx: TimestampContext = { now: options.now, utcOffsetMinutes: options.utcOffsetMinutes ?? 0 };
  const pri = parsePri(text);
  // RFC 5424 §6: HEADER = PRI VERSION SP ...; rsyslog's test for the format is exactly "1 " after PRI.
  const is5424 = pri.present && text.charCodeAt(pri.end) === 49 && text.charCodeAt(pri.end + 1) === 32;
  const body = is5424 ? parseRfc5424(text, pri.end + 2, ctx) : parseRfc3164(text, pri.end, ctx);
  return {
    ok: true,
    message: {
      format: is5424 ? 'rfc5424' : 'rfc3164',
      pri: pri.pri,
      facility: pri.pri >> 3,
      severity: pri.pri & 7,
      priPresent: pri.present,
      ...body,
      invalidUtf8,
    },
  };
}
