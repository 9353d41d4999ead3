/**
 * What a message parser (sshd, sudo, su, PAM, account tools, firewalls, Cisco IOS, CEF,
 * key=value) found in a syslog message, and the small helpers they share. A parser returns an
 * `Enrichment`: a specific action (`syslog.sshd.auth_failure`), the event kind, a severity cap
 * (the event keeps the device's severity when it is already more severe), ECS-style fields
 * (`user.name`, `event.outcome`, ... flat dotted keys, see protocols/event/SPEC.md) and the
 * network peers the message names (ECS `source.*`/`destination.*`, the event's `src`/`dst`).
 */
import type { EventKind } from '../event/schema.ts';

export interface Endpoint {
  ip?: string;
  port?: number;
}

export interface Enrichment {
  /** Absent: the action stays `syslog.message` (only fields are added). */
  action?: string;
  /** Default `security`; a message already `security` by facility stays so. */
  kind?: EventKind;
  /** Upper bound on the event's severity (0 = most severe). */
  severity?: number;
  fields: Record<string, unknown>;
  src?: Endpoint;
  dst?: Endpoint;
  tags?: string[];
}

export interface MessageView {
  /** rsyslog's programname (`sshd`, `sshd(pam_unix)`, `%SYS-5-CONFIG_I`). */
  program: string | null;
  tag: string | null;
  msg: string;
}

export type MessageParser = (m: MessageView) => Enrichment | null;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$/;

export function isIp(text: string): boolean {
  return text.length <= 45 && (IPV4.test(text) || (text.includes(':') && IPV6.test(text)));
}

export function port(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65_535 ? n : undefined;
}

/**
 * A peer named in a message: an IP goes to the endpoint (`src`/`dst`), a host name to the
 * `<prefix>.domain` field (ECS source.domain), since the event's endpoints hold addresses only.
 */
export function peer(
  host: string | undefined,
  portText: string | undefined,
  prefix: 'source' | 'destination',
  fields: Record<string, unknown>,
): Endpoint | undefined {
  const p = port(portText);
  if (host && isIp(host)) return p === undefined ? { ip: host } : { ip: host, port: p };
  if (host && /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(host)) fields[`${prefix}.domain`] = host;
  return p === undefined ? undefined : { port: p };
}

/** Drops empty and undefined values, so fields carry only what the message said. */
export function compactFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // for-in, not Object.entries: no array per key for every enriched message.
  for (const k in fields) {
    if (!Object.hasOwn(fields, k)) continue;
    const v = fields[k];
    if (v !== undefined && v !== null && v !== '') out[k] = v;
  }
  return out;
}
