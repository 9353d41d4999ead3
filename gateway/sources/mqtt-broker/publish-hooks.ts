/**
 * The sensor inside the embedded broker, message side: the publish and subscribe ACLs (auth.ts)
 * with their events (`#`, `+` and `$SYS` subscriptions flagged, denied publishes, retained writes,
 * wills) and telemetry. A QoS 1/2 PUBLISH that produces an event is acknowledged only once that
 * event is durable: aedes sends PUBACK/PUBREC after `authorizePublish` calls back. Every publish
 * that makes events, QoS 0 too, holds its place in the publish gate (backpressure.ts) until its
 * write settles: over the bound the broker stops reading its clients.
 */
import type { Aedes, Client } from 'aedes';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { classifyFilter } from '../../../protocols/mqtt/topic.ts';
import { mayPublish, maySubscribe } from './auth.ts';
import type { MqttEventSpec } from '../../../protocols/mqtt/to-event.ts';
import type { ConnInfo } from './events.ts';
import type { SensorDeps } from './types.ts';

type Internal = Client & { will?: unknown };

export interface PublishHookDeps extends SensorDeps {
  emit: (events: PendingEvent[], ack?: boolean) => Promise<void>;
  emitLater: (events: PendingEvent[]) => void;
  event: (info: ConnInfo, spec: MqttEventSpec) => PendingEvent;
}

/**
 * A publish's fields and `more`: a literal then Object.assign, not `{ ...base, more }`, whose
 * object costs about a microsecond per added key in Node 20's V8 (issue 18's durable path); and
 * a function of the module, not a closure made for every publish.
 */
function publishFields(
  packet: { topic: string; qos: number; retain: boolean },
  payload: Buffer,
  more: Record<string, unknown>,
): Record<string, unknown> {
  return Object.assign(
    { topic: packet.topic, qos: packet.qos, retain: packet.retain, payload_bytes: payload.length },
    more,
  );
}

export function installPublishHooks(broker: Aedes, deps: PublishHookDeps): void {
  const { name, ctx, infoOf, telemetry, emit, emitLater, event, gate } = deps;

  broker.authorizeSubscribe = (client, sub, done) => {
    const info = infoOf(client);
    const id = info?.identity;
    const ok = id !== undefined && maySubscribe(id, client.id, sub.topic, info!.acl);
    if (info) {
      const c = classifyFilter(sub.topic);
      const tags = [
        c.all ? 'wildcard_all' : '',
        c.multiLevel || c.singleLevel ? 'wildcard' : '',
        c.sys ? 'sys_topic' : '',
      ].filter(Boolean);
      emitLater([
        event(info, {
          action: ok ? 'mqtt.subscribe' : 'mqtt.subscribe_denied',
          kind: 'security',
          severity: !ok ? 4 : c.all || c.sys ? 5 : 6,
          message: `${client.id} ${ok ? 'subscribed to' : 'denied subscription to'} ${sub.topic}`,
          fields: {
            topic_filter: sub.topic,
            qos: sub.qos,
            multi_level_wildcard: c.multiLevel,
            single_level_wildcard: c.singleLevel,
            sys_topic: c.sys,
            all_topics: c.all,
          },
          tags,
        }),
      ]);
    }
    // A refused filter gets SUBACK 0x80 and the connection stays ([MQTT-3.9.3-2]).
    done(null, ok ? sub : null);
  };

  broker.authorizePublish = (client, packet, done) => {
    if (!client) return done(null); // an old will published on behalf of a client long gone
    const info = infoOf(client);
    const id = info?.identity;
    if (!info || !id) return done(new Error('not authenticated'));
    const isWill = (client as Internal).will === packet;
    const payload = Buffer.isBuffer(packet.payload)
      ? packet.payload
      : Buffer.from(String(packet.payload ?? ''));
    if (!mayPublish(id, client.id, packet.topic, info.acl)) {
      emitLater([
        event(info, {
          action: 'mqtt.publish_denied',
          kind: 'security',
          severity: 4,
          message: `${client.id} may not publish to ${packet.topic}${isWill ? ' (will)' : ''}`,
          fields: publishFields(packet, payload, { will: isWill }),
          tags: ['acl'],
        }),
      ]);
      // MQTT 3.1.1 has no negative PUBACK; [MQTT-3.3.5-2] lets the server close the connection.
      if (!isWill) info.closeReason = 'publish_denied';
      return done(new Error('publish not authorized'));
    }
    const events: PendingEvent[] = [];
    if (isWill) {
      events.push(
        event(info, {
          action: 'mqtt.will_publish',
          kind: 'security',
          severity: 5,
          message: `will of ${client.id} published to ${packet.topic}`,
          fields: publishFields(packet, payload, {}),
        }),
      );
    }
    if (packet.retain) {
      events.push(
        event(info, {
          action: 'mqtt.retained_write',
          kind: 'security',
          severity: 6,
          message: `${client.id} ${payload.length === 0 ? 'cleared' : 'set'} the retained message of ${packet.topic}`,
          fields: publishFields(packet, payload, { cleared: payload.length === 0 }),
        }),
      );
    }
    if (telemetry.wants(packet.topic)) {
      const outcome = telemetry.accept({ topic: packet.topic, device: client.id, payload });
      if (outcome.kind === 'event') {
        events.push(
          event(info, {
            action: 'mqtt.telemetry',
            kind: 'telemetry',
            severity: 6,
            message: `${packet.topic} ${outcome.parsed.text ?? JSON.stringify(outcome.parsed.values)}`.slice(
              0,
              1024,
            ),
            fields: publishFields(packet, payload, outcome.fields),
          }),
        );
      }
    }
    if (events.length === 0) return done(null);
    const release = gate.admit(payload.length + packet.topic.length);
    if (packet.qos === 0) {
      emit(events).then(release, (error: Error) => {
        release();
        ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
        ctx.logger.error({ err: error.message }, 'queue write failed');
      });
      return done(null);
    }
    // QoS 1/2: aedes writes PUBACK/PUBREC after this callback; the events must be durable first.
    // The client waits, so they are written at once (with whatever else is pending), not after
    // the queue's group-commit window.
    emit(events, true).then(
      () => {
        release();
        done(null);
      },
      (error: Error) => {
        release();
        ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
        ctx.logger.error({ err: error.message }, 'queue write failed; not acknowledging the publish');
        info.closeReason = 'queue_unavailable';
        done(new Error('queue unavailable'));
      },
    );
  };
}
