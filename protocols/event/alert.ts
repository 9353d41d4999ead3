/**
 * The edge alert as an `Event`: what a gateway sends when one of its Sigma rules fires
 * (`alert.raised`, then `alert.updated` with the group's final count; protocols/event/SPEC.md).
 * `encodeAlertEvent` is the gateway's side (gateway/detection), `decodeAlertEvent` central's
 * (central/detection.ts): it checks the parts central acts on, so an event from a gateway is
 * never trusted by cast. Pure.
 */
import { z } from 'zod';
import type { SigmaAlert } from '../sigma/engine-types.ts';
import { EVENT_LIMITS, type Event, type PendingEvent } from './schema.ts';

export const ALERT_ACTIONS = ['alert.raised', 'alert.updated'] as const;

/** An engine alert as an `Event` (kind `alert`, source `gateway`), ready for the queue. */
export function encodeAlertEvent(alert: SigmaAlert, received: Date): PendingEvent {
  const entity = alert.entity;
  return {
    ts: new Date(alert.last_ms).toISOString(),
    received: received.toISOString(),
    source: 'gateway',
    kind: 'alert',
    action: alert.kind === 'new' ? 'alert.raised' : 'alert.updated',
    severity: alert.severity,
    message: alert.count > 1 ? `${alert.rule.title} (${alert.count} times)` : alert.rule.title,
    ...(entity.host && { host: entity.host }),
    ...(entity.device && { device: { id: entity.device } }),
    threat: { rule_id: alert.rule.id, rule_name: alert.rule.title, techniques: alert.techniques },
    fields: {
      alert_id: alert.id,
      rule_type: alert.rule.type,
      level: alert.level,
      tactics: alert.tactics,
      entity: entity.key,
      count: alert.count,
      event_ids: alert.event_ids,
      first_seen: new Date(alert.first_ms).toISOString(),
      last_seen: new Date(alert.last_ms).toISOString(),
      ...(alert.correlation && { correlation: alert.correlation }),
    },
    tags: ['alert'],
  };
}

/**
 * The fields central reads. Others (level, tactics, first_seen, what the gateway's pipeline adds
 * such as evidence) pass through unchecked: they are stored, not acted on.
 */
const alertFieldsSchema = z.looseObject({
  alert_id: z.string().max(EVENT_LIMITS.ID_CHARS).optional(),
  /** The hits in the group so far (`alert.updated`: in the whole window). */
  count: z.number().int().min(1).default(1),
  event_ids: z.array(z.string().max(EVENT_LIMITS.ID_CHARS)).default([]),
  /** The engine's entity key: the host, device or group the rule counted by. */
  entity: z.string().optional(),
});

export type AlertEventFields = z.output<typeof alertFieldsSchema>;

/** An `alert.*` event whose rule and fields were checked. */
export interface AlertEvent {
  event: Event;
  action: (typeof ALERT_ACTIONS)[number];
  threat: NonNullable<Event['threat']>;
  fields: AlertEventFields;
}

export type AlertEventResult = { ok: true; alert: AlertEvent } | { ok: false; error: string };

/** Checks a stored event as an edge alert; never throws. */
export function decodeAlertEvent(event: Event): AlertEventResult {
  if (event.kind !== 'alert' || event.source !== 'gateway') {
    return { ok: false, error: `not an edge alert (source ${event.source}, kind ${event.kind})` };
  }
  const action = ALERT_ACTIONS.find((a) => a === event.action);
  if (!action) return { ok: false, error: `action ${event.action} is not an alert action` };
  if (!event.threat) return { ok: false, error: 'no threat (rule)' };
  const fields = alertFieldsSchema.safeParse(event.fields);
  if (!fields.success) {
    const issue = fields.error.issues[0];
    return { ok: false, error: `fields.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, alert: { event, action, threat: event.threat, fields: fields.data } };
}
