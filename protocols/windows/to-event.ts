/**
 * A `WindowsRecord` → the one `Event` (source `windows`): a stable action per security event an
 * OT site needs (`windows.logon_failed`, `windows.service_installed`, `windows.log_cleared`...,
 * `windows.event` for the rest), the ECS-style fields rules and dashboards read (`user.name`,
 * `user.target.name`, `winlog.logon.type`, `source.ip`, `process.executable`,
 * `process.command_line`, `service.name`, `task.name`...) and every EventData value unchanged
 * under `winlog.event_data`, so SigmaHQ field names reach them (protocols/event/SPEC.md
 * "Windows"). Pure.
 */
import { compact } from '../event/compact.ts';
import type { EventKind, PendingEvent } from '../event/schema.ts';
import type { WindowsRecord } from './types.ts';

export const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
export const POWERSHELL_CHANNEL = 'Microsoft-Windows-PowerShell/Operational';

interface ActionRule {
  action: string | ((r: WindowsRecord) => string);
  severity: number;
}

const failedStatus = (r: WindowsRecord) => {
  const s = (r.data.Status ?? '').trim().toLowerCase();
  return s !== '' && s !== '0x0' && s !== '0' && s !== '0x00000000';
};

/** Security, System and classic (pre-Vista, still sent by old Snare agents) event ids. */
const BY_ID: Record<number, ActionRule> = {
  4624: { action: 'windows.logon_success', severity: 6 },
  4625: { action: 'windows.logon_failed', severity: 4 },
  4648: { action: 'windows.explicit_credentials', severity: 5 },
  4672: { action: 'windows.special_privileges', severity: 6 },
  4688: { action: 'windows.process_created', severity: 6 },
  4697: { action: 'windows.service_installed', severity: 4 },
  4698: { action: 'windows.scheduled_task_created', severity: 4 },
  4720: { action: 'windows.user_created', severity: 4 },
  4732: { action: 'windows.group_member_added', severity: 4 },
  4768: {
    action: (r) => (failedStatus(r) ? 'windows.kerberos_tgt_failed' : 'windows.kerberos_tgt_requested'),
    severity: 6,
  },
  4771: { action: 'windows.kerberos_preauth_failed', severity: 4 },
  4776: {
    action: (r) => (failedStatus(r) ? 'windows.ntlm_auth_failed' : 'windows.ntlm_auth'),
    severity: 6,
  },
  1102: { action: 'windows.log_cleared', severity: 3 },
  104: { action: 'windows.log_cleared', severity: 3 },
  7045: { action: 'windows.service_installed', severity: 4 },
  // Windows 2000/2003 (Snare agents on old HMIs still send these).
  528: { action: 'windows.logon_success', severity: 6 },
  540: { action: 'windows.logon_success', severity: 6 },
  529: { action: 'windows.logon_failed', severity: 4 },
  530: { action: 'windows.logon_failed', severity: 4 },
  531: { action: 'windows.logon_failed', severity: 4 },
  532: { action: 'windows.logon_failed', severity: 4 },
  533: { action: 'windows.logon_failed', severity: 4 },
  534: { action: 'windows.logon_failed', severity: 4 },
  535: { action: 'windows.logon_failed', severity: 4 },
  536: { action: 'windows.logon_failed', severity: 4 },
  537: { action: 'windows.logon_failed', severity: 4 },
  539: { action: 'windows.logon_failed', severity: 4 },
  538: { action: 'windows.logoff', severity: 6 },
  4634: { action: 'windows.logoff', severity: 6 },
};

const SYSMON: Record<number, ActionRule> = {
  1: { action: 'windows.sysmon.process_created', severity: 6 },
  3: { action: 'windows.sysmon.network_connection', severity: 6 },
  10: { action: 'windows.sysmon.process_access', severity: 5 },
};

const isSysmon = (r: WindowsRecord) =>
  r.channel?.toLowerCase() === SYSMON_CHANNEL.toLowerCase() || r.provider === 'Microsoft-Windows-Sysmon';
const isPowerShell = (r: WindowsRecord) => r.channel?.toLowerCase() === POWERSHELL_CHANNEL.toLowerCase();
/** 104 is "log cleared" only from the Eventlog provider (System log); other providers reuse it. */
const isEventlog104 = (r: WindowsRecord) =>
  !r.provider || /eventlog/i.test(r.provider) || r.channel?.toLowerCase() === 'system';

export function windowsAction(r: WindowsRecord): { action: string; severity: number } {
  let rule: ActionRule | undefined;
  if (isSysmon(r)) rule = SYSMON[r.eventId] ?? { action: 'windows.sysmon.event', severity: 6 };
  else if (isPowerShell(r) && r.eventId === 4104)
    rule = { action: 'windows.powershell.script_block', severity: 5 };
  else if (r.eventId === 104 && !isEventlog104(r)) rule = undefined;
  else if (r.eventId < 1000 && r.eventId >= 528 && r.format !== 'snare' && r.channel !== 'Security')
    rule = undefined; // classic ids mean something else outside the Security log
  else rule = BY_ID[r.eventId];
  if (!rule) {
    const failure = r.outcome === 'failure';
    return { action: 'windows.event', severity: failure ? 5 : levelSeverity(r.level) };
  }
  return { action: typeof rule.action === 'string' ? rule.action : rule.action(r), severity: rule.severity };
}

/** Event Level → syslog severity: 1 critical → 2, 2 error → 3, 3 warning → 4, else informational. */
function levelSeverity(level: number | undefined): number {
  return level === 1 ? 2 : level === 2 ? 3 : level === 3 ? 4 : 6;
}

const present = (v: string | undefined): string | undefined => {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' || t === '-' ? undefined : t;
};

const int = (v: string | undefined): number | undefined => {
  const t = present(v);
  if (t === undefined) return undefined;
  if (/^\d{1,15}$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]{1,13}$/i.test(t)) return parseInt(t, 16);
  return undefined;
};

/** `::ffff:10.0.0.5` → `10.0.0.5`; `-`, `::1` kept as Windows wrote them except the dash. */
function address(v: string | undefined): string | undefined {
  const t = present(v);
  if (!t) return undefined;
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(t);
  return m ? m[1] : t;
}

const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)$/i;

/** Sysmon's `DOMAIN\user` → [domain, user]. */
function splitAccount(v: string | undefined): [string | undefined, string | undefined] {
  const t = present(v);
  if (!t) return [undefined, undefined];
  const i = t.indexOf('\\');
  return i < 0 ? [undefined, t] : [t.slice(0, i) || undefined, t.slice(i + 1) || undefined];
}

export interface WindowsEventParts {
  action: string;
  kind: EventKind;
  severity: number;
  host?: string;
  fields: Record<string, unknown>;
  src?: { ip: string; port?: number };
  dst?: { ip: string; port?: number };
}

/** What the record says, as Event parts (the caller adds time, identity and the carrier's fields). */
export function windowsEventParts(r: WindowsRecord): WindowsEventParts {
  const d = r.data;
  const { action, severity } = windowsAction(r);
  const sysmon = isSysmon(r);
  const [sysmonDomain, sysmonUser] = sysmon ? splitAccount(d.User) : [undefined, undefined];
  // 4688: the new process is NewProcessName, its parent ParentProcessName; Sysmon: Image, ParentImage.
  const executable = present(d.NewProcessName) ?? present(d.Image);
  const parent = present(d.ParentProcessName) ?? present(d.ParentImage);
  const ip = address(d.IpAddress) ?? address(d.SourceIp) ?? address(d.ClientAddress);
  const srcPort = int(d.IpPort) ?? int(d.SourcePort);
  const dstIp = address(d.DestinationIp);
  const dstPort = int(d.DestinationPort);
  const fields = compact({
    'winlog.format': r.format,
    'winlog.event_id': r.eventId,
    'winlog.channel': r.channel,
    'winlog.provider_name': r.provider,
    'winlog.computer_name': r.computer,
    'winlog.record_id': r.recordId,
    'winlog.level': r.level,
    'winlog.task': r.task,
    'winlog.keywords': r.keywords,
    'winlog.user.identifier': r.userSid,
    'event.outcome': r.outcome,
    'user.name': present(d.SubjectUserName) ?? sysmonUser,
    'user.domain': present(d.SubjectDomainName) ?? sysmonDomain,
    'user.id': present(d.SubjectUserSid),
    'user.target.name': present(d.TargetUserName) ?? present(d.MemberName),
    'user.target.domain': present(d.TargetDomainName),
    'user.target.id': present(d.TargetUserSid) ?? present(d.MemberSid),
    'group.name': r.eventId === 4732 ? present(d.TargetUserName) : undefined,
    'winlog.logon.type': int(d.LogonType),
    'winlog.logon.failure.status': present(d.Status),
    'winlog.logon.failure.sub_status': present(d.SubStatus),
    'source.ip': ip,
    'source.port': srcPort,
    'source.domain': present(d.WorkstationName) ?? present(d.Workstation),
    'destination.ip': dstIp,
    'destination.port': dstPort,
    'process.executable': executable,
    'process.command_line': present(d.CommandLine),
    'process.pid': int(d.NewProcessId) ?? int(d.ProcessId),
    'process.parent.executable': parent,
    'process.parent.command_line': present(d.ParentCommandLine),
    'process.target.executable': present(d.TargetImage),
    'process.granted_access': present(d.GrantedAccess),
    'source_process.executable': present(d.SourceImage),
    'service.name': present(d.ServiceName),
    'service.image_path': present(d.ImagePath) ?? present(d.ServiceFileName),
    'service.account': present(d.AccountName) ?? present(d.ServiceAccount),
    'task.name': present(d.TaskName),
    'powershell.file.script_block_text': present(d.ScriptBlockText),
    'winlog.event_data': d,
  });
  const kind: EventKind =
    action !== 'windows.event' || r.channel === 'Security' || sysmon ? 'security' : 'telemetry';
  const parts: WindowsEventParts = { action, kind, severity, fields };
  if (r.computer) parts.host = r.computer.slice(0, 255);
  if (ip && IP.test(ip)) parts.src = srcPort === undefined ? { ip } : { ip, port: srcPort };
  if (dstIp && IP.test(dstIp))
    parts.dst = dstPort === undefined ? { ip: dstIp } : { ip: dstIp, port: dstPort };
  return parts;
}

/**
 * Turns an event built from the carrier (a syslog message, a replayed file) into the Windows event
 * it carries: source `windows`, the record's action, kind, severity, host and fields (the
 * carrier's fields stay, the record's win), its time when it states one.
 */
export function applyWindowsRecord(event: PendingEvent, r: WindowsRecord): PendingEvent {
  const p = windowsEventParts(r);
  event.source = 'windows';
  event.action = p.action;
  event.kind = p.kind;
  event.severity = p.severity;
  if (p.host) {
    event.host = p.host;
    event.device = { id: `windows:${p.host}`.slice(0, 256), protocol_id: p.host };
  }
  event.fields = { ...event.fields, ...p.fields };
  if (p.src) {
    // As for syslog's enrichments: the peer the record names is the event's source, the sender
    // (the carrier's peer) moves to log.source.
    if (event.src?.ip) event.fields['log.source.ip'] = event.src.ip;
    if (event.src?.port !== undefined) event.fields['log.source.port'] = event.src.port;
    event.src = p.src;
  }
  if (p.dst) event.dst = p.dst;
  if (r.time) {
    event.ts = r.time;
    event.time_source = 'device';
  }
  if (!event.message && r.message) event.message = r.message;
  return event;
}

/**
 * A record read on its own (an `.evtx` file in `replay`) → a pending Event: its time is the
 * record's (else `received`), its message the rendered one or a short summary.
 */
export function windowsRecordToEvent(r: WindowsRecord, received: Date, transport = 'file'): PendingEvent {
  const at = received.toISOString();
  const event: PendingEvent = {
    ts: at,
    received: at,
    time_source: 'gateway',
    source: 'windows',
    kind: 'telemetry',
    action: 'windows.event',
    severity: 6,
    message: '',
    fields: { transport },
    tags: [],
  };
  applyWindowsRecord(event, r);
  if (!event.message)
    event.message = `${r.channel ?? 'Windows'} event ${r.eventId}${r.provider ? ` from ${r.provider}` : ''}`;
  return event;
}
