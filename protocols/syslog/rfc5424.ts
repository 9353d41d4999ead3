/**
 * RFC 5424 (§6) body parser: everything after `<PRI>1 `. Header fields are single-SP separated,
 * `-` is the NILVALUE, STRUCTURED-DATA is parsed into elements with the §6.3.3 escapes undone, and
 * a leading BOM is removed from MSG (§6.4). Where devices bend the grammar we bend with them and
 * keep every byte: see SPEC.md.
 */
import { emptySyslogBody } from './body.ts';
import type { SyslogBody, SyslogSdElement } from './types.ts';
import { parseRfc3339, type TimestampContext } from './timestamp.ts';

const NIL = '-';
const BOM = '\uFEFF';

/** Reads one SP-terminated header field at `pos`: [value, index after the SP]. */
function field(text: string, pos: number): [string, number] {
  const sp = text.indexOf(' ', pos);
  if (sp < 0) return [text.slice(pos), text.length];
  return [text.slice(pos, sp), sp + 1];
}

function nil(value: string): string | null {
  return value === NIL || value === '' ? null : value;
}

/** SD-NAME characters (§6.3.2): PRINTUSASCII except '=', SP, ']' and '"'. */
function isSdNameChar(c: number): boolean {
  return c > 32 && c < 127 && c !== 61 && c !== 93 && c !== 34;
}

function sdName(text: string, pos: number): [string, number] {
  let i = pos;
  while (i < text.length && isSdNameChar(text.charCodeAt(i))) i++;
  return [text.slice(pos, i), i];
}

function skipSpaces(text: string, pos: number): number {
  let i = pos;
  while (text.charCodeAt(i) === 32) i++;
  return i;
}

/**
 * PARAM-VALUE after its opening quote (§6.3.3): `\"`, `\\` and `\]` are escapes; a backslash
 * before anything else is an ordinary backslash. Returns [value, index after the closing quote].
 */
function paramValue(text: string, pos: number): [string, number] | null {
  let out = '';
  let run = pos;
  let i = pos;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return [out + text.slice(run, i), i + 1];
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '"' || next === '\\' || next === ']') {
        out += text.slice(run, i) + next;
        i += 2;
        run = i;
        continue;
      }
    }
    i++;
  }
  return null;
}

/**
 * One SD-ELEMENT at `pos` (which holds '['): `[SD-ID *(SP SD-PARAM)]` (§6.3.1). Tolerates extra
 * spaces between params and around '=' (seen in the wild and in rsyslog's own test vectors).
 */
function sdElement(text: string, pos: number): [SyslogSdElement, number] | null {
  const [id, afterId] = sdName(text, pos + 1);
  if (id.length === 0) return null;
  const params: Array<[string, string]> = [];
  let i = afterId;
  for (;;) {
    const c = text[i];
    if (c === ']') return [{ id, params }, i + 1];
    if (c !== ' ') return null;
    i = skipSpaces(text, i);
    if (text[i] === ']') continue;
    const [name, afterName] = sdName(text, i);
    if (name.length === 0) return null;
    i = skipSpaces(text, afterName);
    if (text[i] !== '=') return null;
    i = skipSpaces(text, i + 1);
    if (text[i] !== '"') return null;
    const value = paramValue(text, i + 1);
    if (!value) return null;
    params.push([name, value[0]]);
    i = value[1];
  }
}

/** STRUCTURED-DATA at `pos`: NILVALUE or one or more SD-ELEMENTs (§6.3). Null when malformed. */
function structuredData(text: string, pos: number): [SyslogSdElement[], number] | null {
  if (text[pos] === NIL) return [[], pos + 1];
  const elements: SyslogSdElement[] = [];
  let i = pos;
  while (text[i] === '[') {
    const el = sdElement(text, i);
    if (!el) return null;
    elements.push(el[0]);
    i = el[1];
  }
  return elements.length > 0 ? [elements, i] : null;
}

function stripBom(msg: string): string {
  return msg.startsWith(BOM) ? msg.slice(1) : msg;
}

/**
 * Parses the RFC 5424 fields starting at `pos` (just after `1 `). A TIMESTAMP that is neither `-`
 * nor RFC 3339 means the header cannot be trusted: as rsyslog does, the header fields are left
 * null and the rest is MSG. Malformed STRUCTURED-DATA is kept, unparsed, at the start of MSG.
 */
export function parseRfc5424(text: string, pos: number, ctx: TimestampContext): SyslogBody {
  const body: SyslogBody = emptySyslogBody();
  let i = pos;
  if (text[i] === NIL && (i + 1 === text.length || text[i + 1] === ' ')) {
    i = Math.min(i + 2, text.length);
  } else {
    const ts = parseRfc3339(text, i, ctx);
    if (!ts) {
      body.msg = stripBom(text.slice(i));
      return body;
    }
    body.timestamp = ts.date;
    body.timestampText = ts.text;
    i = ts.end;
  }
  let value: string;
  [value, i] = field(text, i);
  body.hostname = nil(value);
  [value, i] = field(text, i);
  body.appName = nil(value);
  [value, i] = field(text, i);
  body.procId = nil(value);
  [value, i] = field(text, i);
  body.msgId = nil(value);
  // rsyslog's syslogtag for RFC 5424: APP-NAME, with [PROCID] when there is one.
  if (body.appName !== null || body.procId !== null) {
    body.tag = `${body.appName ?? NIL}${body.procId !== null ? `[${body.procId}]` : ''}`;
  }
  body.programName = body.appName;
  if (i >= text.length) return body;

  const sd = structuredData(text, i);
  if (sd) {
    body.structuredData = sd[0];
    i = sd[1];
    // MSG follows STRUCTURED-DATA after one SP (§6); a missing SP is tolerated.
    if (text[i] === ' ') i++;
  }
  body.msg = stripBom(text.slice(i));
  return body;
}
