/**
 * The syslog message as the parser gives it: the message, its structured data, the parse result
 * and its error, and the body each format parser (RFC 5424, RFC 3164, Cisco IOS) fills in. Types
 * only, in a file of their own so that the format parsers do not import the parser that calls them.
 */

export type SyslogFormat = 'rfc5424' | 'rfc3164';

/** One SD-ELEMENT (RFC 5424 §6.3.1): its SD-ID and its params, in order, duplicates kept. */
export interface SyslogSdElement {
  id: string;
  params: Array<[string, string]>;
}

export interface SyslogMessage {
  format: SyslogFormat;
  /** Facility × 8 + severity; 13 (user.notice) when the message had no valid PRI. */
  pri: number;
  facility: number;
  severity: number;
  /** False when the message had no valid `<PRI>` and the default 13 was assumed. */
  priPresent: boolean;
  /** The device's timestamp, or null when it sent none (or an impossible date). */
  timestamp: Date | null;
  /** The timestamp as the device wrote it. */
  timestampText: string | null;
  hostname: string | null;
  /** RFC 5424 APP-NAME (§6.2.5); null for RFC 3164. */
  appName: string | null;
  /** RFC 5424 PROCID (§6.2.6); for RFC 3164 the `[pid]` of the tag, as rsyslog emulates it. */
  procId: string | null;
  /** RFC 5424 MSGID (§6.2.7). */
  msgId: string | null;
  structuredData: SyslogSdElement[];
  /** rsyslog's syslogtag: RFC 3164 TAG including its colon; RFC 5424 `APP-NAME[PROCID]`. */
  tag: string | null;
  /** The tag up to the first ':', '[' or '/' (rsyslog's programname); RFC 5424: APP-NAME. */
  programName: string | null;
  /** The message text, without the SP that separates it from the header and without a BOM. */
  msg: string;
  /** True when the input was not valid UTF-8 and invalid sequences were replaced by U+FFFD. */
  invalidUtf8: boolean;
}

export type SyslogParseErrorCode = 'empty' | 'too_large' | 'invalid_utf8';

export interface SyslogParseError {
  code: SyslogParseErrorCode;
  message: string;
}

export type SyslogParseResult = { ok: true; message: SyslogMessage } | { ok: false; error: SyslogParseError };

/** The fields a format parser extracts from the text after the PRI. */
export type SyslogBody = Omit<
  SyslogMessage,
  'format' | 'pri' | 'facility' | 'severity' | 'priPresent' | 'invalidUtf8'
>;
