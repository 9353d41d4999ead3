/**
 * An event as central stores it (numbered by its gateway), from the fields a test cares about:
 * checked against the event schema, so a test cannot feed central something no gateway could send.
 */
import assert from 'node:assert/strict';
import { EVENT_SCHEMA_VERSION, type Event, parseEvent } from '../../protocols/event/schema.ts';

/** A failed login as the syslog parser reports it: what central's brute-force rules count. */
export const LOGIN_FAILURE = {
  source: 'syslog',
  kind: 'security',
  action: 'syslog.login_failure',
  severity: 4,
  message: 'login failure',
} as const;

export function storedEvent(
  pending: object,
  { gateway = 'gw-1', seq }: { gateway?: string; seq: number },
): Event {
  const parsed = parseEvent({ v: EVENT_SCHEMA_VERSION, gateway, seq, id: `${gateway}:${seq}`, ...pending });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.event;
}
