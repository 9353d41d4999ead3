/**
 * One Windows event as this project reads it, whatever carried it: Windows Event XML (as Windows
 * Event Forwarding relays it over syslog, or rendered from an `.evtx` record), a Snare
 * `MSWinEventLog` line, or an NXLog record (JSON or key=value). The System part keeps the names of
 * the event schema (`EventID`, `Channel`, `Provider Name`, `Computer`...); `data` holds the
 * EventData (or UserData) values by their `Name`, as Windows writes them, so that the field names of
 * Sigma rules (`TargetUserName`, `Image`, `CommandLine`) reach them unchanged. Pure data.
 */

export const WINDOWS_FORMATS = ['xml', 'evtx', 'snare', 'nxlog_json', 'nxlog_kv'] as const;
export type WindowsFormat = (typeof WINDOWS_FORMATS)[number];

export interface WindowsRecord {
  format: WindowsFormat;
  eventId: number;
  /** Event log name, e.g. `Security`, `Microsoft-Windows-Sysmon/Operational`. */
  channel?: string;
  /** Provider (event source) name, e.g. `Microsoft-Windows-Security-Auditing`. */
  provider?: string;
  computer?: string;
  /** EventRecordID as the record states it (an exported `.evtx` keeps the original log's number). */
  recordId?: number;
  /** When it happened, ISO 8601 UTC (millisecond precision). */
  time?: string;
  /** Level 0..5 (0 LogAlways, 1 Critical, 2 Error, 3 Warning, 4 Information, 5 Verbose). */
  level?: number;
  task?: number;
  opcode?: number;
  keywords?: string;
  version?: number;
  /** Security UserID (a SID), when the event names one. */
  userSid?: string;
  processId?: number;
  threadId?: number;
  /** Snare and NXLog carry an audit outcome (`Success Audit`, `AUDIT_FAILURE`...). */
  outcome?: 'success' | 'failure';
  /** EventData / UserData values by name (UserData: the children of its one element). */
  data: Record<string, string>;
  /** The rendered message, when the carrier has one (Snare, NXLog). */
  message?: string;
}

export type WindowsParseResult = { ok: true; record: WindowsRecord } | { ok: false; error: string };

/** Bounds on what one record may carry, so a hostile sender cannot exhaust memory. */
export const WINDOWS_LIMITS = {
  /** Largest text accepted (a WEF event with a long PowerShell script block fits). */
  TEXT_CHARS: 256 * 1024,
  /** EventData values kept per record. */
  DATA_VALUES: 256,
  /** Characters kept per value. */
  VALUE_CHARS: 32 * 1024,
  /** XML nesting. */
  DEPTH: 32,
} as const;
