/**
 * The events of an MQTT conversation seen in a capture (capture/mqtt.ts follows the bytes). They
 * are built by the embedded broker's own builder (`mqttEvent`), so a replayed or mirrored
 * connection gives the same actions and fields as one made to the gateway: the client is `src`,
 * the broker `dst`, whichever way the packet went; each event adds the `frame` that completed it
 * (and `connect_frame` / `subscribe_frame` for the request it answers). Rates use the broker's
 * tracker (per source address, client id and user name) on the capture's clock.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  classifyFilter,
  CONNACK_RETURN_CODES,
  CONNACK_V5_REASON_CODES,
  type MqttError,
  type MqttPacket,
} from '../../../protocols/mqtt/index.ts';
import { parsePayload } from '../../../protocols/telemetry/payload.ts';
import { type ConnInfo, type MqttEventSpec, mqttEvent, rateExceededSpec } from '../mqtt-broker/events.ts';
import { createRateTracker } from '../mqtt-broker/rates.ts';
import { payloadFields } from '../telemetry/sampler.ts';
import type { FrameMeta } from './decoder.ts';

export interface MqttRates {
  windowSecs: number;
  maxConnections: number;
  maxConnects: number;
  maxAuthFailures: number;
}

interface Direction {
  buf: Uint8Array;
  /** Bytes of an oversized packet still to skip. */
  skip: number;
  /** Framing lost for good (until a hole resets it). */
  dead: boolean;
  /** Not known to start at a packet boundary: errors mean "not in step yet", not "malformed". */
  resync: boolean;
}

export interface MqttConn {
  key: string;
  info: ConnInfo;
  /** [client → broker, broker → client]. */
  dirs: [Direction, Direction];
  connect?: { frame: number; ts: number };
  subs: Map<number, { frame: number; ts: number; topics: Array<{ topic: string; qos: number }> }>;
  closed: boolean;
  closedAt?: number;
}

type Packet<T extends MqttPacket['type']> = Extract<MqttPacket, { type: T }>;

/** MQTT 5.0 §3.2.2.2 reason codes that mean "who you are" rather than "what you sent". */
const V5_AUTH_CODES = new Set([134, 135, 138, 140]);
const MAX_PENDING_SUBS = 256;

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 64)).toString('hex');

export function createMqttEvents(options: { rates: MqttRates; extra: Record<string, unknown> }) {
  const rates = createRateTracker({ windowSecs: options.rates.windowSecs });
  /** Connected sessions by broker and client id, for takeovers [MQTT-3.1.4-2]. */
  const sessions = new Map<string, MqttConn>();
  const { extra } = options;

  const event = (conn: MqttConn, spec: MqttEventSpec, m: FrameMeta, more?: Record<string, unknown>) => {
    const e = mqttEvent(conn.info, { ...spec, message: spec.message.slice(0, 1024) }, m.ts, '');
    delete e.fields.listener;
    Object.assign(e.fields, extra, more, { frame: m.frame });
    return e;
  };

  const count = (
    conn: MqttConn,
    counter: 'connections' | 'connects' | 'auth_failures',
    m: FrameMeta,
    out: PendingEvent[],
  ) => {
    const { info } = conn;
    const threshold =
      counter === 'connections'
        ? options.rates.maxConnections
        : counter === 'connects'
          ? options.rates.maxConnects
          : options.rates.maxAuthFailures;
    const keys: Array<[string, string | undefined]> = [
      ['src_ip', info.ip],
      ['client_id', counter === 'connections' ? undefined : info.clientId || undefined],
      ['username', counter === 'connections' ? undefined : info.username],
    ];
    for (const [keyType, key] of keys) {
      if (key === undefined) continue;
      const c = rates.hit(counter, keyType, key, threshold, m.ts, info.clientId);
      if (!c) continue;
      out.push(event(conn, rateExceededSpec(c), m));
    }
  };

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
    count,

    connect(conn: MqttConn, p: Packet<'connect'>, m: FrameMeta, out: PendingEvent[]) {
      const { info } = conn;
      Object.assign(info, {
        clientId: p.clientId,
        username: p.username,
        protocolLevel: p.protocolLevel,
        keepalive: p.keepalive,
        cleanSession: p.flags.cleanSession,
        will: p.will
          ? {
              topic: p.will.topic,
              qos: p.will.qos,
              retain: p.will.retain,
              payload_bytes: p.will.payload.length,
            }
          : undefined,
        identity: {
          username: p.username?.slice(0, 256),
          anonymous: p.username === undefined,
          method: p.password !== undefined ? 'password' : 'anonymous',
          publish: [],
          subscribe: [],
        },
      });
      conn.connect = { frame: m.frame, ts: m.ts.getTime() };
      count(conn, 'connects', m, out);
    },

    connack(conn: MqttConn, p: Packet<'connack'>, m: FrameMeta, out: PendingEvent[]) {
      const { info } = conn;
      const code = p.returnCode;
      const more = conn.connect ? { connect_frame: conn.connect.frame } : {};
      conn.connect = undefined;
      if (code === 0) {
        info.connectedAt = m.ts;
        const id = info.clientId;
        // A client may pipeline CONNECT, PUBLISH and DISCONNECT before the CONNACK arrives.
        if (id && !conn.closed) {
          const key = `${info.localIp}|${info.localPort}|${id}`;
          const before = sessions.get(key);
          if (before && before !== conn && !before.closed) {
            before.info.closeReason = 'taken_over';
            out.push(
              event(
                conn,
                {
                  action: 'mqtt.client_takeover',
                  kind: 'security',
                  severity: 4,
                  message: `client id ${id} taken over from ${before.info.ip}:${before.info.port} by ${info.ip}:${info.port}`,
                  fields: {
                    previous_src_ip: before.info.ip,
                    previous_src_port: before.info.port,
                    previous_username: before.info.username,
                    same_source_ip: before.info.ip === info.ip,
                    same_username: before.info.username === info.username,
                  },
                  tags: ['takeover'],
                },
                m,
              ),
            );
          }
          if (sessions.size > 65_536) sessions.clear();
          sessions.set(key, conn);
        }
        out.push(
          event(
            conn,
            {
              action: 'mqtt.connect',
              kind: 'security',
              severity: 6,
              message: `${id || '(empty client id)'} connected${info.username ? ` as ${info.username}` : ''} from ${info.ip}`,
              fields: {
                auth_method: info.identity?.method,
                session_present: p.sessionPresent,
                clean_session: info.cleanSession,
                keepalive_secs: info.keepalive,
                will_topic: info.will?.topic,
                will_qos: info.will?.qos,
                will_retain: info.will?.retain,
              },
            },
            m,
            more,
          ),
        );
        return;
      }
      const v5 = info.protocolLevel === 5;
      const reason = (v5 ? CONNACK_V5_REASON_CODES : CONNACK_RETURN_CODES)[code] ?? `return_code_${code}`;
      const auth = v5 ? V5_AUTH_CODES.has(code) : code === 4 || code === 5;
      if (auth) count(conn, 'auth_failures', m, out);
      out.push(
        event(
          conn,
          {
            action: auth ? 'mqtt.auth_failure' : 'mqtt.connect_refused',
            kind: 'security',
            severity: auth ? 4 : 5,
            message: `CONNACK ${code} (${reason}) to ${info.clientId || '(empty client id)'}${info.username ? ` user ${info.username}` : ''} from ${info.ip}`,
            fields: { return_code: code, return_code_name: reason },
            tags: auth ? ['authentication'] : [],
          },
          m,
          more,
        ),
      );
    },

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

    disconnect(conn: MqttConn, reason: string, m: FrameMeta, out: PendingEvent[], reasonCode?: number) {
      const { info } = conn;
      conn.closed = true;
      conn.closedAt = m.ts.getTime();
      if (info.clientId) {
        const key = `${info.localIp}|${info.localPort}|${info.clientId}`;
        if (sessions.get(key) === conn) sessions.delete(key);
      }
      const clean = reason === 'client_disconnect' || reason === 'server_disconnect';
      if (!info.connectedAt && !clean) return; // a connection never seen connected was not lost
      out.push(
        event(
          conn,
          {
            action: 'mqtt.disconnect',
            kind: 'security',
            severity: clean ? 6 : 5,
            message: `${info.clientId || info.ip} disconnected (${reason.replaceAll('_', ' ')})`,
            fields: {
              reason,
              reason_code: reasonCode,
              duration_secs: info.connectedAt
                ? Math.round((m.ts.getTime() - info.connectedAt.getTime()) / 1000)
                : undefined,
            },
            tags: [],
          },
          m,
        ),
      );
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
