/**
 * Maps a parsed syslog message to the one `Event` type: action `syslog.message`, or a specific
 * one when enrich.ts recognises the text (`syslog.sshd.auth_failure`, `syslog.cef`, ...). Field names
 * follow the gateway's event contract (protocols/event/SPEC.md); the protocol detail goes in
 * `fields`, with absent values omitted rather than null. Also home of the helpers shared with
 * parse-error-event.ts: the event context and bounded strings.
 */
import { compact } from '../event/compact.ts';
import { isoString } from '../event/iso-string.ts';
import { EVENT_LIMITS, type EventKind, type PendingEvent } from '../event/schema.ts';
import { applyWindowsRecord, parseSyslogWindows } from '../windows/index.ts';
import { applyEnrichment, enrichSyslogMessage } from './enrich.ts';
import { facilityName, severityName } from './names.ts';
import type { SyslogMessage } from './types.ts';

export type SyslogTransport = 'udp' | 'tcp' | 'tls' | 'file';

export interface SyslogEventContext {
  /** When the gateway received the message, by its own clock. */
  received: Date;
  /** The sender (absent for files). */
  peer?: { ip: string; port: number };
  transport: SyslogTransport;
}

/** Facilities whose messages are security-relevant: auth (4), authpriv (10), audit (13). */
export const SECURITY_FACILITIES: ReadonlySet<number> = new Set([4, 10, 13]);
/** Severities at or below this (emerg, alert, crit) are security-relevant whatever the facility. */
export const SECURITY_MAX_SEVERITY = 2;

const HOST_CHARS = 255;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Cuts `text` to at most `maxBytes` of UTF-8 on a character boundary: [text, was it cut]. */
export function truncateUtf8(text: string, maxBytes: number): [string, boolean] {
  // Fast path: every UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return [text, false];
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return [text, false];
  let end = maxBytes;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return [decoder.decode(bytes.subarray(0, end)), true];
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

/**
 * `kind`: `security` for the auth, authpriv and audit facilities (where logins, sudo and audit
 * trails go) and for severities emerg, alert and crit; `telemetry` for everything else.
 */
export function syslogEventKind(facility: number, severity: number): EventKind {
  return SECURITY_FACILITIES.has(facility) || severity <= SECURITY_MAX_SEVERITY ? 'security' : 'telemetry';
}

/** The event's host and device: the hostname the device reports, else the sender's address. */
export function syslogIdentity(
  hostname: string | null,
  peer: SyslogEventContext['peer'],
): Pick<PendingEvent, 'host' | 'device'> {
  const host = hostname ?? peer?.ip;
  if (!host) return {};
  const h = clip(host, HOST_CHARS);
  return { host: h, device: { id: clip(`syslog:${h}`, EVENT_LIMITS.ID_CHARS), protocol_id: h } };
}

export function syslogToEvent(msg: SyslogMessage, ctx: SyslogEventContext): PendingEvent {
  const [message, truncated] = truncateUtf8(msg.msg, EVENT_LIMITS.MESSAGE_BYTES);
  const tags: string[] = [];
  if (truncated) tags.push('truncated');
  if (msg.invalidUtf8) tags.push('invalid_utf8');
  const event: PendingEvent = {
    ts: isoString(msg.timestamp ?? ctx.received),
    received: isoString(ctx.received),
    time_source: msg.timestamp ? 'device' : 'gateway',
    source: 'syslog',
    kind: syslogEventKind(msg.facility, msg.severity),
    action: 'syslog.message',
    severity: msg.severity,
    message,
    ...syslogIdentity(msg.hostname, ctx.peer),
    fields: compact(
      {
        facility: msg.facility,
        facility_name: facilityName(msg.facility),
        severity_name: severityName(msg.severity),
        pri_present: msg.priPresent ? null : false,
        format: msg.format,
        app_name: msg.appName,
        proc_id: msg.procId,
        msg_id: msg.msgId,
        structured_data: msg.structuredData.length > 0 ? msg.structuredData : null,
        tag: msg.tag,
        program: msg.programName,
        transport: ctx.transport,
      },
      { dropNull: true },
    ),
    tags,
  };
  if (ctx.peer) event.src = { ip: clip(ctx.peer.ip, 64), port: ctx.peer.port };
  // A Windows event (Snare, NXLog, WEF XML) is recognised by its first bytes: protocols/windows.
  const windows = parseSyslogWindows(msg.tag, message);
  if (windows?.ok) return applyWindowsRecord(event, windows.record);
  // What the text says (sshd, sudo, firewalls, Cisco, CEF...): see enrich.ts and SPEC.md.
  const found = enrichSyslogMessage({ program: msg.programName, tag: msg.tag, msg: message });
  if (found) applyEnrichment(event, found);
  return event;
}
