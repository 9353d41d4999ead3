/**
 * Writes syslog messages: RFC 5424 (§6) and RFC 3164/BSD (§4.1). Used to forward alerts to a
 * SOC's syslog receiver, by the device simulators, and by the round-trip property tests: for a
 * well-formed message, `parseSyslog(formatRfc5424(m))` gives back m's fields, and likewise for
 * RFC 3164 within what that format can carry (whole seconds, a year inferred from `now` unless
 * `includeYear`, a hostname only when a tag with ':' or '[' tells the two apart).
 */
import { DEFAULT_PRI, MAX_PRI } from './names.ts';
import type { SyslogMessage, SyslogSdElement } from './types.ts';
import { MONTHS } from './timestamp.ts';

/** What the formatters read; a parsed `SyslogMessage` is one. */
export type SyslogFormatInput = Pick<SyslogMessage, 'pri' | 'msg'> &
  Partial<
    Pick<
      SyslogMessage,
      | 'format'
      | 'priPresent'
      | 'timestamp'
      | 'hostname'
      | 'appName'
      | 'procId'
      | 'msgId'
      | 'structuredData'
      | 'tag'
      | 'programName'
    >
  >;

export interface FormatRfc5424Options {
  /** Start MSG with a BOM (§6.4). Default: only when MSG is not plain ASCII. */
  bom?: boolean;
}

export interface FormatRfc3164Options {
  /** Write `Mmm dd yyyy hh:mm:ss` (accepted by rsyslog and Cisco gear) instead of inferring the year. */
  includeYear?: boolean;
  /** Zone of the written wall-clock time, as minutes east of UTC (default 0: UTC). */
  utcOffsetMinutes?: number;
}

/** RFC 5424 §6 header field limits. */
const LIMITS = { hostname: 255, appName: 48, procId: 128, msgId: 32, sdName: 32 } as const;

function validPri(pri: number): number {
  return Number.isInteger(pri) && pri >= 0 && pri <= MAX_PRI ? pri : DEFAULT_PRI;
}

/** A header field as PRINTUSASCII (§6): other characters become '_', empty or null is NILVALUE. */
function headerField(value: string | null | undefined, max: number): string {
  if (value === null || value === undefined || value === '') return '-';
  return value.slice(0, max).replace(/[^\x21-\x7e]/g, '_');
}

/** SD-NAME (§6.3.2): PRINTUSASCII except '=', SP, ']', '"'. */
function sdName(value: string): string {
  const name = value.slice(0, LIMITS.sdName).replace(/[^\x21-\x7e]|[=\]"]/g, '_');
  return name === '' ? '_' : name;
}

/** PARAM-VALUE escaping (§6.3.3): '"', '\' and ']' are preceded by a backslash. */
function sdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

export function formatStructuredData(elements: readonly SyslogSdElement[] | undefined): string {
  if (!elements || elements.length === 0) return '-';
  return elements
    .map((el) => `[${sdName(el.id)}${el.params.map(([k, v]) => ` ${sdName(k)}="${sdValue(v)}"`).join('')}]`)
    .join('');
}

/** RFC 5424 §6.2.3 TIMESTAMP: UTC with milliseconds, or NILVALUE for none or a year outside 0–9999. */
function timestamp5424(ts: Date | null | undefined): string {
  if (!ts || !Number.isFinite(ts.getTime())) return '-';
  const year = ts.getUTCFullYear();
  return year < 0 || year > 9999 ? '-' : ts.toISOString();
}

/** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]` (RFC 5424 §6). */
export function formatRfc5424(msg: SyslogFormatInput, options: FormatRfc5424Options = {}): string {
  const appName = msg.appName ?? (msg.format === 'rfc5424' ? null : msg.programName);
  const header = [
    `<${validPri(msg.pri)}>1`,
    timestamp5424(msg.timestamp),
    headerField(msg.hostname, LIMITS.hostname),
    headerField(appName, LIMITS.appName),
    headerField(msg.procId, LIMITS.procId),
    headerField(msg.msgId, LIMITS.msgId),
    formatStructuredData(msg.structuredData),
  ].join(' ');
  // §6.4: a UTF-8 MSG SHOULD start with a BOM; plain ASCII needs none.
  const bom = options.bom ?? /[^\x00-\x7f]/.test(msg.msg);
  if (msg.msg === '' && !bom) return header;
  return `${header} ${bom ? '\uFEFF' : ''}${msg.msg}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** RFC 3164 §4.1.2 TIMESTAMP: `Mmm dd hh:mm:ss`, the day padded with a space. */
function timestamp3164(ts: Date, options: FormatRfc3164Options): string {
  const local = new Date(ts.getTime() + (options.utcOffsetMinutes ?? 0) * 60_000);
  const day = local.getUTCDate();
  const year = options.includeYear ? `${local.getUTCFullYear()} ` : '';
  const time = `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  return `${MONTHS[local.getUTCMonth()]} ${day < 10 ? ' ' : ''}${day} ${year}${time}`;
}

function noBlanks(value: string): string {
  return value.replace(/[\s]/g, '_');
}

/** The TAG to write: the parsed one for RFC 3164 input, else `APP-NAME[PROCID]:`. */
function tag3164(msg: SyslogFormatInput): string | null {
  if (msg.format !== 'rfc5424' && msg.tag) return noBlanks(msg.tag);
  const app = msg.appName ?? msg.programName;
  if (!app) return null;
  return `${noBlanks(app)}${msg.procId ? `[${noBlanks(msg.procId)}]` : ''}:`;
}

/** `<PRI>TIMESTAMP SP HOSTNAME SP TAG SP CONTENT` (RFC 3164 §4.1); PRI omitted when it was absent. */
export function formatRfc3164(msg: SyslogFormatInput, options: FormatRfc3164Options = {}): string {
  let out = msg.priPresent === false ? '' : `<${validPri(msg.pri)}>`;
  const ts = msg.timestamp && Number.isFinite(msg.timestamp.getTime()) ? msg.timestamp : null;
  if (ts) out += `${timestamp3164(ts, options)} `;
  if (msg.hostname) out += `${noBlanks(msg.hostname)} `;
  out += tag3164(msg) ?? '';
  if (msg.msg !== '') out += ` ${msg.msg}`;
  return out;
}
