/**
 * Shared by the message-parser tests: a syslog line through `parseSyslog` and `syslogToEvent` (the
 * path live listeners, captures and replay share), checked to be a valid `Event`, and a compact
 * assertion of its action, kind, severity, fields and source endpoint.
 */
import assert from 'node:assert/strict';
import { eventSchema, type PendingEvent } from '../../../protocols/event/schema.ts';
import { parseSyslog, syslogToEvent } from '../../../protocols/syslog/index.ts';

export const NOW = new Date('2026-03-01T12:00:00Z');
export const PEER = { ip: '192.0.2.50', port: 41000 };

export function event(line: string): PendingEvent {
  const r = parseSyslog(line, { now: NOW });
  assert.ok(r.ok, line);
  const e = syslogToEvent(r.message, { received: NOW, peer: PEER, transport: 'udp' });
  assert.ok(eventSchema.safeParse({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 }).success, line);
  return e;
}

/** action, kind, severity, then the listed fields; `src` as ip:port. */
export function check(
  line: string,
  action: string,
  kind: string,
  severity: number,
  fields: Record<string, unknown>,
  src?: string,
) {
  const e = event(line);
  assert.deepEqual([e.action, e.kind, e.severity], [action, kind, severity], line);
  for (const [k, v] of Object.entries(fields)) assert.deepEqual(e.fields[k], v, `${k} in ${line}`);
  if (src !== undefined) assert.equal(`${e.src?.ip ?? ''}:${e.src?.port ?? ''}`, src, line);
  return e;
}
