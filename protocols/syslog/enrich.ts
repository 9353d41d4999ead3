/**
 * Reads what a syslog message says, beyond its header: the payload format (CEF, key=value) and
 * the common sources an OT site forwards (sshd, PAM, su, sudo, shadow-utils, netfilter, Cisco
 * IOS), and applies the result to the event built by `syslogToEvent`, so live listeners, captures
 * and `replay` name the same things the same way. The first parser that recognises the message
 * wins; a message none recognises stays `syslog.message`. A message that announces CEF but is
 * not valid CEF is kept whole, tagged `malformed` with `fields["syslog.malformed"]` set, so it is
 * counted and visible rather than dropped. Pure.
 */
import type { PendingEvent } from '../event/schema.ts';
import { parseAccounts } from './accounts.ts';
import { parsePam, parseSshd, parseSu, parseSudo } from './auth.ts';
import { cefSeverityToSyslog, parseCef, parseKeyValue } from './cef.ts';
import { parseCiscoEvent } from './cisco-events.ts';
import { compactFields, type Enrichment, type MessageParser, type MessageView, peer } from './enrichment.ts';
import { parseNetfilter } from './firewall.ts';

/** CEF extension keys that have an ECS home (CEF rev. 25, "Extension Dictionary"). */
const CEF_USER_FIELDS: Record<string, string> = {
  suser: 'user.name',
  duser: 'user.target.name',
  proto: 'network.transport',
  act: 'event.action_taken',
  request: 'url.original',
  fname: 'file.name',
  shost: 'source.domain',
  dhost: 'destination.domain',
};

function cefText(m: MessageView): string | null {
  // rsyslog's RFC 5424 templates keep the space that followed the RFC 3164 tag.
  const msg = m.msg.trimStart();
  if (msg.startsWith('CEF:')) return msg;
  // RFC 3164 reads `CEF:` as the tag (as rsyslog does), and rsyslog forwards it as APP-NAME `CEF`.
  if ((m.tag === 'CEF:' || m.program === 'CEF') && /^\d{1,3}\|/.test(msg)) return `CEF:${msg}`;
  return null;
}

export function parseCefPayload(m: MessageView): Enrichment | null {
  const text = cefText(m);
  if (text === null) return null;
  const parsed = parseCef(text);
  if (!parsed.ok) {
    return { fields: { 'syslog.malformed': 'cef', 'error.message': parsed.error }, tags: ['malformed'] };
  }
  const c = parsed.cef;
  const ext = c.extensions;
  const fields: Record<string, unknown> = {
    'cef.version': c.version,
    'cef.device_vendor': c.deviceVendor,
    'cef.device_product': c.deviceProduct,
    'cef.device_version': c.deviceVersion,
    'cef.signature_id': c.signatureId,
    'cef.name': c.name,
    'cef.severity': c.severity,
    'cef.extensions': ext,
  };
  for (const [key, to] of Object.entries(CEF_USER_FIELDS)) if (ext[key] !== undefined) fields[to] = ext[key];
  const src = peer(ext.src ?? ext.sourceTranslatedAddress, ext.spt, 'source', fields);
  const dst = peer(ext.dst, ext.dpt, 'destination', fields);
  const severity = cefSeverityToSyslog(c.severity);
  return {
    action: 'syslog.cef',
    ...(severity !== undefined ? { severity } : {}),
    fields: compactFields(fields),
    ...(src ? { src } : {}),
    ...(dst ? { dst } : {}),
  };
}

const KV_SRC = ['srcip', 'src', 'src_ip', 'source_ip', 'sip'];
const KV_SPORT = ['srcport', 'src_port', 'spt', 'sport'];
const KV_DST = ['dstip', 'dst', 'dst_ip', 'destination_ip', 'dip'];
const KV_DPORT = ['dstport', 'dst_port', 'dpt', 'dport'];
const KV_USER = ['user', 'username', 'usrname', 'suser'];

export function parseKeyValuePayload(m: MessageView): Enrichment | null {
  const kv = parseKeyValue(m.msg);
  if (!kv) return null;
  const first = (keys: string[]) => keys.map((k) => kv[k]).find((v) => v !== undefined && v !== '');
  const fields: Record<string, unknown> = { kv, 'user.name': first(KV_USER) };
  const src = peer(first(KV_SRC), first(KV_SPORT), 'source', fields);
  const dst = peer(first(KV_DST), first(KV_DPORT), 'destination', fields);
  return { fields: compactFields(fields), ...(src ? { src } : {}), ...(dst ? { dst } : {}) };
}

/** In order: payload format first (a CEF line from sshd is still CEF), generic key=value last. */
const PARSERS: MessageParser[] = [
  parseCefPayload,
  parseSshd,
  parseSudo,
  parseSu,
  parsePam,
  parseAccounts,
  parseCiscoEvent,
  parseNetfilter,
  parseKeyValuePayload,
];

export function enrichSyslogMessage(m: MessageView): Enrichment | null {
  for (const parse of PARSERS) {
    const found = parse(m);
    if (found) return found;
  }
  return null;
}

/** Applies an enrichment to a `syslog.message` event (in place). */
export function applyEnrichment(event: PendingEvent, e: Enrichment): void {
  if (e.action) {
    event.action = e.action;
    if (event.kind !== 'security') event.kind = e.kind ?? 'security';
  }
  if (e.severity !== undefined) event.severity = Math.min(event.severity, e.severity);
  // In place, like the rest: the event's fields are its own (syslogToEvent builds them).
  const fields = Object.assign(event.fields as Record<string, unknown>, e.fields);
  if (e.src?.ip) {
    // The network peer the message names is the event's source; the sender moves to log.source.
    if (event.src?.ip) fields['log.source.ip'] = event.src.ip;
    if (event.src?.port !== undefined) fields['log.source.port'] = event.src.port;
    event.src = e.src;
  } else if (e.src?.port !== undefined) fields['source.port'] = e.src.port;
  if (e.dst?.ip) event.dst = e.dst;
  else if (e.dst?.port !== undefined) fields['destination.port'] = e.dst.port;
  event.fields = fields;
  if (e.tags) for (const t of e.tags) if (!event.tags.includes(t)) event.tags.push(t);
}
