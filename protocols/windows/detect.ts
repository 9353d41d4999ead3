/**
 * Recognises a Windows event in a syslog message body by its first bytes, cheaply enough for the
 * syslog hot path: one character test rules out almost every other message. `MSWinEventLog` is
 * Snare, `<Event` Windows Event XML (WEF relays), `{` with `"EventID"` NXLog JSON, and a body
 * holding `EventID=` with `Channel=` or `SourceName=` NXLog key=value. Then the matching parser
 * runs (snare.ts, xml.ts, nxlog.ts). Pure.
 */
import { parseNxlogJson, parseNxlogKv } from './nxlog.ts';
import { parseSnare, SNARE_MARKER } from './snare.ts';
import type { WindowsParseResult } from './types.ts';
import { parseWindowsXml } from './xml.ts';

export type WindowsCarrier = 'snare' | 'xml' | 'nxlog_json' | 'nxlog_kv';

/** `[A-Za-z0-9_.-]`, by code (a regex per character would cost more than the whole check). */
function isKeyChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45
  );
}

/** Which Windows format the body looks like, from its first bytes; undefined for everything else. */
export function detectWindowsBody(body: string): WindowsCarrier | undefined {
  let i = 0;
  while (i < body.length && i < 8 && (body.charCodeAt(i) === 32 || body.charCodeAt(i) === 9)) i++;
  const c = body.charCodeAt(i);
  if (c === 77 /* M */) return body.startsWith(SNARE_MARKER, i) ? 'snare' : undefined;
  if (c === 60 /* < */)
    return body.startsWith('<Event', i) && /^<Event[\s>]/.test(body.slice(i, i + 7)) ? 'xml' : undefined;
  if (c === 123 /* { */) return body.includes('"EventID"') ? 'nxlog_json' : undefined;
  // NXLog key=value opens with `Key=`: a word then `=` within the first 64 characters.
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
    let j = i + 1;
    const end = Math.min(body.length, i + 64);
    while (j < end && isKeyChar(body.charCodeAt(j))) j++;
    if (body.charCodeAt(j) !== 61 /* = */) return undefined;
    return body.includes('EventID=') && (body.includes('Channel=') || body.includes('SourceName='))
      ? 'nxlog_kv'
      : undefined;
  }
  return undefined;
}

/**
 * The Windows event a syslog message carries, if any. An RFC 3164 parser reads the body's first
 * word as the TAG (`MSWinEventLog`, `{"EventTime":`, `EventTime="2024-01-02`, `<Event`) and drops
 * the one blank after it, so the body is put back together first: a TAB after Snare's marker (its
 * field separator), nothing after a tag ending in `:`, else a space. Only the first bytes are
 * looked at before a parser runs.
 */
export function parseSyslogWindows(tag: string | null, msg: string): WindowsParseResult | undefined {
  let body = msg;
  let carrier: WindowsCarrier | undefined;
  if (tag) {
    carrier = tag.charCodeAt(0) === 123 /* { */ ? detectWindowsBody(`${tag}${msg}`) : detectWindowsBody(tag);
    if (carrier) body = `${tag}${carrier === 'snare' ? '\t' : tag.endsWith(':') ? '' : ' '}${msg}`;
    else if (tag.indexOf('=') > 0 && /^[A-Za-z_][\w.-]*=/.test(tag)) {
      body = `${tag} ${msg}`;
      carrier = detectWindowsBody(body);
    }
  }
  // RFC 5424 (and a 3164 tag that is a program name): the body is the message itself.
  if (!carrier) {
    body = msg;
    carrier = detectWindowsBody(msg);
  }
  return carrier ? parseWindowsBody(body, carrier) : undefined;
}

/** Parses a body that `detectWindowsBody` recognised. */
export function parseWindowsBody(body: string, carrier: WindowsCarrier): WindowsParseResult {
  switch (carrier) {
    case 'snare':
      return parseSnare(body);
    case 'xml':
      return parseWindowsXml(body);
    case 'nxlog_json':
      return parseNxlogJson(body.trim());
    case 'nxlog_kv':
      return parseNxlogKv(body);
  }
}
