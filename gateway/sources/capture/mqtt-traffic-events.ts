/**
 * The events of what an MQTT client does once connected, as a capture shows it: SUBSCRIBE paired
 * with its SUBACK (`mqtt.subscribe`, `mqtt.subscribe_denied`, or unanswered), UNSUBSCRIBE, every
 * PUBLISH both ways with a retained write flagged, and the malformed and oversized packets of
 * either side. The connection's life (CONNECT, CONNACK, takeovers, rates, DISCONNECT) is
 * mqtt-events.ts, which builds each event through the `event` it passes in here.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { classifyFilter, type MqttError } from '../../../protocols/mqtt/index.ts';
import { parsePayload } from '../../../protocols/telemetry/payload.ts';
import { payloadFields } from '../telemetry/sampler.ts';
import type { FrameMeta } from './frame-meta.ts';
import type { MqttConn, MqttEventOf, Packet } from './mqtt-conn.ts';

const MAX_PENDING_SUBS = 256;

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 64)).toString('hex');

export function createMqttTrafficEvents(event: MqttEventOf) {
  const subscribeEvent = (
    conn: MqttConn,
    sub: { topic: string; qos: number },
    granted: number | undefined,
    requestFrame: number,
    m: FrameMeta,
  ) => {
    const ok = granted === undefined || granted < 0x80;
    const c = classifyFilter(sub.topic);
    const who = conn.info.clientId || `${conn.info.ip}:${conn.info.port}`;
    return event(
      conn,
      {
        action: ok ? 'mqtt.subscribe' : 'mqtt.subscribe_denied',
        kind: 'security',
        severity: !ok ? 4 : c.all || c.sys ? 5 : 6,
        message: `${who} ${ok ? 'subscribed to' : 'denied subscription to'} ${sub.topic}`,
        fields: {
          topic_filter: sub.topic,
          qos: sub.qos,
          granted_qos: ok ? granted : undefined,
          return_code: ok ? undefined : granted,
          suback_seen: granted !== undefined,
          multi_level_wildcard: c.multiLevel,
          single_level_wildcard: c.singleLevel,
          sys_topic: c.sys,
          all_topics: c.all,
        },
        tags: [
          c.all ? 'wildcard_all' : '',
          c.multiLevel || c.singleLevel ? 'wildcard' : '',
          c.sys ? 'sys_topic' : '',
        ].filter(Boolean),
      },
      m,
      { subscribe_frame: requestFrame },
    );
  };

  return {
    subscribe(conn: MqttConn, p: Packet<'subscribe'>, m: FrameMeta, out: PendingEvent[]) {
      if (conn.subs.size >= MAX_PENDING_SUBS) {
        const [id, old] = conn.subs.entries().next().value!;
        conn.subs.delete(id);
        for (const s of old.topics) out.push(subscribeEvent(conn, s, undefined, old.frame, m));
      }
      conn.subs.set(p.messageId, { frame: m.frame, ts: m.ts.getTime(), topics: p.subscriptions });
    },

    suback(conn: MqttConn, p: Packet<'suback'>, m: FrameMeta, out: PendingEvent[]) {
      const pending = conn.subs.get(p.messageId);
      if (!pending) return;
      conn.subs.delete(p.messageId);
      pending.topics.forEach((s, i) => out.push(subscribeEvent(conn, s, p.granted[i], pending.frame, m)));
    },

    unsubscribe(conn: MqttConn, p: Packet<'unsubscribe'>, m: FrameMeta, out: PendingEvent[]) {
      out.push(
        event(
          conn,
          {
            action: 'mqtt.unsubscribe',
            kind: 'security',
            severity: 6,
            message: `${conn.info.clientId || conn.info.ip} unsubscribed from ${p.topics.join(', ')}`,
            fields: { topic_filters: p.topics, message_id: p.messageId },
          },
          m,
        ),
      );
    },

    publish(conn: MqttConn, p: Packet<'publish'>, fromClient: boolean, m: FrameMeta, out: PendingEvent[]) {
      const parsed = parsePayload(p.payload);
      const base = { topic: p.topic, qos: p.qos, retain: p.retain, payload_bytes: p.payload.length };
      const text = parsed.text ?? JSON.stringify(parsed.values);
      out.push(
        event(
          conn,
          {
            action: 'mqtt.publish',
            kind: 'telemetry',
            severity: 6,
            message: `${p.topic} ${text}`,
            fields: {
              ...base,
              dup: p.dup,
              message_id: p.messageId,
              direction: fromClient ? 'to_broker' : 'to_client',
              ...payloadFields(parsed),
            },
          },
          m,
        ),
      );
      if (fromClient && p.retain) {
        out.push(
          event(
            conn,
            {
              action: 'mqtt.retained_write',
              kind: 'security',
              severity: 6,
              message: `${conn.info.clientId || conn.info.ip} ${p.payload.length === 0 ? 'cleared' : 'set'} the retained message of ${p.topic}`,
              fields: { ...base, cleared: p.payload.length === 0 },
            },
            m,
          ),
        );
      }
    },

    malformed(
      conn: MqttConn,
      error: MqttError,
      bytes: Uint8Array,
      fromClient: boolean,
      m: FrameMeta,
      out: PendingEvent[],
    ) {
      out.push(
        event(
          conn,
          {
            action: 'mqtt.malformed_packet',
            kind: 'security',
            severity: 4,
            message: `malformed MQTT packet from ${fromClient ? conn.info.ip : conn.info.localIp}: ${error.message}`,
            fields: {
              code: error.code,
              error: error.message,
              packet_type: error.type,
              preview_hex: hex(bytes),
              direction: fromClient ? 'to_broker' : 'to_client',
            },
            tags: ['malformed'],
          },
          m,
        ),
      );
    },

    oversized(conn: MqttConn, error: MqttError, fromClient: boolean, m: FrameMeta, out: PendingEvent[]) {
      out.push(
        event(
          conn,
          {
            action: 'mqtt.oversized_packet',
            kind: 'security',
            severity: 4,
            message: `${error.type ?? 'packet'} of ${error.declaredBytes ?? '?'} bytes from ${fromClient ? conn.info.ip : conn.info.localIp}`,
            fields: {
              packet_type: error.type,
              declared_bytes: error.declaredBytes,
              direction: fromClient ? 'to_broker' : 'to_client',
            },
            tags: ['oversized'],
          },
          m,
        ),
      );
    },

    /** Reports the CONNECT and SUBSCRIBEs of `conn` still unanswered since before `before` (ms). */
    expire(conn: MqttConn, before: number, out: PendingEvent[]) {
      if (conn.connect && conn.connect.ts < before) {
        const { frame, ts } = conn.connect;
        conn.connect = undefined;
        const { info } = conn;
        out.push(
          event(
            conn,
            {
              action: 'mqtt.connect_unanswered',
              kind: 'security',
              severity: 5,
              message: `CONNECT of ${info.clientId || '(empty client id)'} from ${info.ip} without a CONNACK`,
              fields: { keepalive_secs: info.keepalive, clean_session: info.cleanSession },
            },
            { frame, ts: new Date(ts) },
          ),
        );
      }
      for (const [id, s] of conn.subs) {
        if (s.ts >= before) continue;
        conn.subs.delete(id);
        for (const t of s.topics)
          out.push(subscribeEvent(conn, t, undefined, s.frame, { frame: s.frame, ts: new Date(s.ts) }));
      }
    },
  };
}
