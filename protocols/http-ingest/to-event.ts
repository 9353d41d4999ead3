/**
 * Ingested items as Events (source `http`): a JSON object maps its common keys (ECS and what
 * shippers send: `message`/`msg`/`log`, `@timestamp`/`timestamp`/`time`/`ts`, `host`/`host.name`/
 * `hostname`, `severity`/`level`/`log.level`, `kind`, `tags`) and keeps the rest in `fields`; a
 * plain line that is a syslog message (starts with `<PRI>`) is parsed as syslog, any other line
 * is an `http.line` event. A caller cannot pick the alert lane: `kind: alert` and `lane:` tags
 * are not taken. Pure.
 */
import { EVENT_LIMITS, type EventKind, type PendingEvent } from '../event/schema.ts';
import { parseSyslog, syslogToEvent, truncateUtf8 } from '../syslog/index.ts';
import type { IngestItem } from './parse.ts';

export interface IngestContext {
  received: Date;
  peer?: { ip: string; port: number };
  /** Who sent it (the token's name or the user), kept in `fields.ingest_by`. */
  by?: string;
}

const LEVELS: Record<string, number> = {
  emerg: 0,
  emergency: 0,
  panic: 0,
  alert: 1,
  crit: 2,
  critical: 2,
  fatal: 2,
  err: 3,
  error: 3,
  warn: 4,
  warning: 4,
  notice: 5,
  info: 6,
  informational: 6,
  debug: 7,
  trace: 7,
};
const KINDS: ReadonlySet<string> = new Set(['telemetry', 'security', 'audit']);
const FIELDS_MAX_CHARS = 32 * 1024;

function pick(o: Record<string, unknown>, keys: string[]): [string, unknown] | undefined {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return [k, o[k]];
  return undefined;
}

function severityOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 7) return v;
  if (typeof v === 'string') return LEVELS[v.trim().toLowerCase()];
  return undefined;
}

function timeOf(v: unknown): string | undefined {
  const d =
    typeof v === 'number'
      ? new Date(v > 1e12 ? v : v * 1000)
      : typeof v === 'string'
        ? new Date(v)
        : undefined;
  if (!d || Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999)
    return undefined;
  return d.toISOString();
}

export function ingestItemToEvent(item: IngestItem, ctx: IngestContext): PendingEvent {
  const received = ctx.received.toISOString();
  let event: PendingEvent;
  if (item.kind === 'line') {
    const parsed = item.text.startsWith('<') ? parseSyslog(item.text, { now: ctx.received }) : undefined;
    if (parsed?.ok && parsed.message.priPresent) {
      event = syslogToEvent(parsed.message, { received: ctx.received, peer: ctx.peer, transport: 'tcp' });
      event.fields.transport = 'http';
    } else {
      const [message, cut] = truncateUtf8(item.text, EVENT_LIMITS.MESSAGE_BYTES);
      event = base(received, message, cut, ctx);
      event.action = 'http.line';
    }
  } else {
    const o = { ...item.value };
    const msg = pick(o, ['message', 'msg', 'log', 'MESSAGE']);
    const ts = pick(o, ['@timestamp', 'timestamp', 'time', 'ts']);
    const hostObj = o.host;
    const host =
      typeof hostObj === 'string'
        ? hostObj
        : typeof (hostObj as { name?: unknown })?.name === 'string'
          ? (hostObj as { name: string }).name
          : typeof o.hostname === 'string'
            ? o.hostname
            : typeof o.HOST === 'string'
              ? o.HOST
              : undefined;
    const logLevel = (o.log as { level?: unknown } | undefined)?.level;
    const sev =
      severityOf(o.severity) ?? severityOf(o.level) ?? severityOf(logLevel) ?? severityOf(o.PRIORITY);
    const text = msg === undefined ? '' : typeof msg[1] === 'string' ? msg[1] : JSON.stringify(msg[1]);
    const [message, cut] = truncateUtf8(text, EVENT_LIMITS.MESSAGE_BYTES);
    event = base(received, message, cut, ctx);
    const time = ts ? timeOf(ts[1]) : undefined;
    if (time) {
      event.ts = time;
      event.time_source = 'device';
    }
    if (host) event.host = host.slice(0, 255);
    if (sev !== undefined) event.severity = sev;
    if (typeof o.kind === 'string' && KINDS.has(o.kind)) event.kind = o.kind as EventKind;
    if (Array.isArray(o.tags))
      for (const t of o.tags)
        if (typeof t === 'string' && !t.startsWith('lane:') && event.tags.length < EVENT_LIMITS.TAGS)
          event.tags.push(t.slice(0, EVENT_LIMITS.TAG_CHARS));
    for (const k of [msg?.[0], ts?.[0], 'kind', 'tags', 'severity']) if (k) delete o[k];
    const rest = JSON.stringify(o);
    if (rest !== '{}') {
      if (rest.length <= FIELDS_MAX_CHARS) event.fields.data = o;
      else {
        event.fields.data_truncated = rest.length;
        if (!event.tags.includes('truncated')) event.tags.push('truncated');
      }
    }
  }
  if (ctx.by) event.fields.ingest_by = ctx.by;
  return event;
}

function base(received: string, message: string, cut: boolean, ctx: IngestContext): PendingEvent {
  const event: PendingEvent = {
    ts: received,
    received,
    time_source: 'gateway',
    source: 'http',
    kind: 'telemetry',
    action: 'http.event',
    severity: 6,
    message,
    fields: {},
    tags: cut ? ['truncated'] : [],
  };
  if (ctx.peer) event.src = { ip: ctx.peer.ip.slice(0, 64), port: ctx.peer.port };
  return event;
}
