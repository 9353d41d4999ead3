/**
 * RFC 3164 / BSD body parser: everything after the (possibly absent) `<PRI>`. RFC 3164 §4.1.2
 * describes `TIMESTAMP SP HOSTNAME SP TAG CONTENT`, but devices send every variation of it, so
 * this follows rsyslog's pmrfc3164 heuristics, which twenty years of real devices have shaped:
 * an RFC 3339 or BSD timestamp (or none), a hostname only when it looks like one, and a TAG ended
 * by ':' (kept) or SP. Cisco IOS headers are recognised first (cisco.ts). Deliberate differences
 * from rsyslog are listed in SPEC.md.
 */
import { emptySyslogBody } from './body.ts';
import { parseCiscoIos } from './cisco.ts';
import type { SyslogBody } from './types.ts';
import { procIdOf, programNameOf } from './tag.ts';
import {
  type ParsedTimestamp,
  parseRfc3164Timestamp,
  parseRfc3339,
  type TimestampContext,
} from './timestamp.ts';

/** rsyslog's CONF_HOSTNAME_MAXSIZE - 1: a longer run of hostname characters is not a hostname. */
const MAX_HOSTNAME = 255;
/** rsyslog's CONF_TAG_MAXSIZE - 2 (RFC 3164's 32-character limit is not enforced by anyone). */
const MAX_TAG = 510;
/** Tags after which a TAB, not a SP, separates the Snare fields (rsyslog's pmsnare). */
const SNARE_TAGS = ['MSWinEventLog', 'LinuxKAudit'];

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Hostname characters as rsyslog accepts them: letters, digits, '.', '_' and '-'. */
function isHostnameChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 45;
}

function startsWithSnareTag(text: string, pos: number): boolean {
  for (const tag of SNARE_TAGS) {
    if (
      text.slice(pos, pos + tag.length).toLowerCase() === tag.toLowerCase() &&
      text[pos + tag.length] === '\t'
    ) {
      return true;
    }
  }
  return false;
}

/** A timestamp at `pos`: RFC 3339 first, then BSD, then BSD after one stray SP (HP ProCurve). */
function timestampAt(text: string, pos: number, ctx: TimestampContext): ParsedTimestamp | null {
  const ts = parseRfc3339(text, pos, ctx) ?? parseRfc3164Timestamp(text, pos, ctx);
  if (ts || text[pos] !== ' ' || pos + 1 >= text.length) return ts;
  return parseRfc3164Timestamp(text, pos + 1, ctx);
}

/**
 * rsyslog's hostname test: a run of hostname characters that ends the message, or that ends in a
 * letter or digit and is followed by SP. A run with ':' or '[' after it is a tag, not a hostname.
 * A TAB is accepted as the separator only before a Snare tag (rsyslog's pmsnare).
 */
function hostnameAt(text: string, pos: number): [string, number] | null {
  let i = pos;
  while (i < text.length && i - pos < MAX_HOSTNAME && isHostnameChar(text.charCodeAt(i))) i++;
  if (i === pos) return null;
  if (i === text.length) return [text.slice(pos, i), i];
  if (!isAlnum(text.charCodeAt(i - 1))) return null;
  const sep = text[i];
  if (sep === ' ' || (sep === '\t' && startsWithSnareTag(text, i + 1))) return [text.slice(pos, i), i + 1];
  return null;
}

/** One SP or HT that separates TAG from CONTENT is not part of the message (rsyslog remove.msgfirstspace). */
function content(text: string, pos: number): string {
  const c = text[pos];
  return text.slice(c === ' ' || c === '\t' ? pos + 1 : pos);
}

export function parseRfc3164(text: string, pos: number, ctx: TimestampContext): SyslogBody {
  const body: SyslogBody = emptySyslogBody();
  // rsyslog: a message whose text starts (after blanks) with '{' or '[' has no header at all (JSON).
  let i = pos;
  while (text[i] === ' ' || text[i] === '\t') i++;
  if (text[i] === '{' || text[i] === '[') {
    body.msg = content(text, pos);
    return body;
  }

  const cisco = text.charCodeAt(pos) <= 57 ? parseCiscoIos(text, pos, ctx) : null;
  if (cisco) return cisco;

  i = pos;
  const ts = timestampAt(text, i, ctx);
  if (ts) {
    body.timestamp = ts.date;
    body.timestampText = ts.text;
    i = ts.end;
  }
  // No TIMESTAMP means no HEADER, so no HOSTNAME either (RFC 3164 §4.3.2, §4.3.3): the first
  // word is the TAG. rsyslog guesses a hostname here; "myapp started" is not from host "myapp".
  const host = ts && i < text.length ? hostnameAt(text, i) : null;
  if (host) {
    body.hostname = host[0];
    i = host[1];
  }

  // TAG (RFC 3164 §4.1.3) ends at ':' (kept, as rsyslog does) or SP; also at HT, which never
  // belongs in a tag and is how Snare separates its fields (rsyslog needs pmsnare for that).
  const tagStart = i;
  while (i < text.length && i - tagStart < MAX_TAG) {
    const c = text.charCodeAt(i);
    if (c === 58 || c === 32 || c === 9) break;
    i++;
  }
  if (text.charCodeAt(i) === 58) i++;
  if (i > tagStart) {
    const tag = text.slice(tagStart, i);
    body.tag = tag;
    body.programName = programNameOf(tag);
    body.procId = procIdOf(tag);
  }
  body.msg = content(text, i);
  return body;
}
