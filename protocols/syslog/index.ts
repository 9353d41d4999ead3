/**
 * The syslog codec's public API: parsing (RFC 5424, RFC 3164/BSD), formatting, RFC 6587 framing,
 * and the mapping to the one `Event` type. Everything here is pure; the sockets live in
 * gateway/sources/syslog.
 */

export {
  type FormatRfc3164Options,
  type FormatRfc5424Options,
  formatRfc3164,
  formatRfc5424,
  formatStructuredData,
  type SyslogFormatInput,
} from './format.ts';
export {
  createSyslogDeframer,
  type DeframeResult,
  type FramingError,
  type FramingErrorCode,
  frameLf,
  frameOctetCounting,
  type SyslogDeframer,
  type SyslogDeframerOptions,
} from './framing.ts';
export {
  DEFAULT_PRI,
  FACILITY_NAMES,
  type FacilityName,
  facilityCode,
  facilityName,
  MAX_PRI,
  SEVERITY_NAMES,
  type SeverityName,
  severityCode,
  severityName,
} from './names.ts';
export { parsePri, parseSyslog, SYSLOG_DEFAULT_MAX_BYTES, type SyslogParseOptions } from './parse.ts';
export type {
  SyslogFormat,
  SyslogMessage,
  SyslogParseError,
  SyslogParseErrorCode,
  SyslogParseResult,
  SyslogSdElement,
} from './types.ts';
export { escapePreview, PREVIEW_CHARS, syslogErrorToEvent } from './parse-error-event.ts';
export {
  SECURITY_FACILITIES,
  SECURITY_MAX_SEVERITY,
  type SyslogEventContext,
  type SyslogTransport,
  syslogEventKind,
  syslogToEvent,
  truncateUtf8,
} from './to-event.ts';
export {
  cefSeverityToSyslog,
  type CefRecord,
  type CefResult,
  parseCef,
  parseCefExtension,
  parseKeyValue,
} from './cef.ts';
export { applyEnrichment, enrichSyslogMessage } from './enrich.ts';
export { type Enrichment, type MessageView } from './enrichment.ts';
