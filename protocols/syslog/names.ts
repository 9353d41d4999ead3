/**
 * Facility and severity numbers and their names. PRI = facility × 8 + severity (RFC 5424 §6.2.1,
 * RFC 3164 §4.1.1). The names are rsyslog's `syslogfacility-text` and `syslogseverity-text`, so a
 * SOC analyst sees the words their existing syslog tooling prints.
 */

/** rsyslog's facility names, indexed by facility code (RFC 5424 §6.2.1 table 1). */
export const FACILITY_NAMES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

/** rsyslog's severity names, indexed by severity code (RFC 5424 §6.2.1 table 2). */
export const SEVERITY_NAMES = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
] as const;

export type FacilityName = (typeof FACILITY_NAMES)[number];
export type SeverityName = (typeof SEVERITY_NAMES)[number];

/** Largest valid PRI value: facility 23 (local7), severity 7 (RFC 5424 §6.2.1). */
export const MAX_PRI = 191;

/** PRI assumed when a message has none: user.notice, as rsyslog and RFC 3164 §4.3.3 do. */
export const DEFAULT_PRI = 13;

/** The name of facility `n`, or `invalid` when `n` is not 0–23. */
export function facilityName(n: number): FacilityName | 'invalid' {
  return FACILITY_NAMES[n] ?? 'invalid';
}

/** The name of severity `n`, or `invalid` when `n` is not 0–7. */
export function severityName(n: number): SeverityName | 'invalid' {
  return SEVERITY_NAMES[n] ?? 'invalid';
}

/** The facility code for a name (case-insensitive), or undefined. */
export function facilityCode(name: string): number | undefined {
  const i = (FACILITY_NAMES as readonly string[]).indexOf(name.toLowerCase());
  return i < 0 ? undefined : i;
}

/** The severity code for a name (case-insensitive), or undefined. */
export function severityCode(name: string): number | undefined {
  const i = (SEVERITY_NAMES as readonly string[]).indexOf(name.toLowerCase());
  return i < 0 ? undefined : i;
}
