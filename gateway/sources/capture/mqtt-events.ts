/**
 * The events of an MQTT conversation seen in a capture (capture/mqtt.ts follows the bytes). They
 * are built by the embedded broker's builder (protocols/mqtt/to-event.ts), so a replayed or mirrored
 * connection gives the same actions and fields as one made to the gateway: the client is `src`,
 * the broker `dst`, whichever way the packet went; each event adds the `frame` that completed it
 * (and `connect_frame` / `subscribe_frame` for the request it answers). Rates use the broker's
 * tracker (shared-mqtt-rates.ts) (per source address, client id and user name) on the capture's clock. This file keeps
 * the connection's life: CONNECT and CONNACK, client-id takeovers, rates and DISCONNECT; what a
 * connected client does (subscriptions, publishes, bad packets) is mqtt-traffic-events.ts.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { CONNACK_RETURN_CODES, CONNACK_V5_REASON_CODES } from '../../../protocols/mqtt/index.ts';
import { mqttEvent, rateExceededSpec } from '../../../protocols/mqtt/to-event.ts';
import { createRateTracker } from '../shared-mqtt-rates.ts';
import type { FrameMeta } from './frame-meta.ts';
import type { MqttConn, MqttEventOf, MqttRates, Packet } from './mqtt-conn.ts';
import { createMqttTrafficEvents } from './mqtt-traffic-events.ts';

/** MQTT 5.0 §3.2.2.2 reason codes that mean "who you are" rather than "what you sent". */
const V5_AUTH_CODES = new Set([134, 135, 138, 140]);

export function createMqttEvents(options: { rates: MqttRates; extra: Record<string, unknown> }) {
  const rates = createRateTracker({ windowSecs: options.rates.windowSecs });
  /** Connected sessions by broker and client id, for takeovers [MQTT-3.1.4-2]. */
  const sessions = new Map<string, MqttConn>();
  const { extra } = options;

  const event: MqttEventOf = (conn, spec, m, more) => {
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

  return {
    count,
    ...createMqttTrafficEvents(event),

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
  };
}
