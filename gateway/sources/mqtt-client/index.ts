/**
 * The `mqtt_client` source: an mqtt.js client that subscribes to a plant's existing broker.
 * Messages on telemetry topics become `mqtt.telemetry` events, one per message (the telemetry rules'
 * sampling and aggregation are a pipeline stage), `$SYS` updates become `mqtt.broker_status` health
 * events (one per topic per interval; the others counted as dropped, reason `sys_interval`), and the
 * collector's own link to the broker is reported (`mqtt.collector_connected`/`_error`). A QoS 1
 * message is acknowledged to the broker only once its event is durable (mqtt.js handleMessage).
 * With `protocol_version: 5` the MQTT 5 properties of a message (user properties, message expiry,
 * content type, response topic) are kept in the event (properties.ts), topics may be shared
 * subscriptions, and a broker's DISCONNECT reason code is reported.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { compact } from '../../../protocols/event/compact.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { matchTopic } from '../../../protocols/mqtt/topic.ts';
import type { Source, SourceContext } from '../../pipeline/types.ts';
import { createTelemetrySampler } from '../telemetry/sampler.ts';
import type { MqttClientSourceConfig } from './config.ts';
import { propertyFields, reasonName, subscriptionFilters } from './properties.ts';

export function createMqttClientSource(
  name: string,
  config: MqttClientSourceConfig,
  ctx: SourceContext,
): Source {
  const url = new URL(config.endpoint);
  const rules =
    config.telemetry.length > 0
      ? config.telemetry
      : [{ match: '#', payload: 'auto' as const, mode: 'every' as const, interval_secs: 60 }];
  const telemetry = createTelemetrySampler(rules, matchTopic);
  const sysSeen = new Map<string, number>();
  let client: MqttClient | undefined;

  const base = (
    action: string,
    kind: PendingEvent['kind'],
    severity: number,
    message: string,
    fields: Record<string, unknown>,
    device?: string,
  ): PendingEvent => {
    const now = ctx.now().toISOString();
    return {
      ts: now,
      received: now,
      source: 'mqtt',
      kind,
      action,
      severity,
      message: message.slice(0, 4096),
      ...(device ? { device: { id: `mqtt-broker:${device}`, protocol_id: device } } : {}),
      dst: {
        ip: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883)),
      },
      fields: compact({ collector: name, broker: `${url.hostname}:${url.port}`, ...fields }),
      tags: [],
    };
  };
  const emit = (events: PendingEvent[]) => {
    for (const e of events) ctx.metrics.sensorEvents.inc({ source: name, action: e.action });
    return ctx.emit(events);
  };
  const emitLater = (events: PendingEvent[]) =>
    void emit(events).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
      ctx.logger.error({ err: error.message }, 'queue write failed');
    });

  const handle = (
    topic: string,
    payload: Buffer,
    qos: number,
    retain: boolean,
    properties: Record<string, unknown>,
  ): PendingEvent[] => {
    const now = ctx.now();
    if (topic.startsWith('$SYS/')) {
      const last = sysSeen.get(topic);
      if (last !== undefined && now.getTime() - last < config.sys_interval_secs * 1000) {
        ctx.metrics.dropped.inc({ source: name, reason: 'sys_interval' });
        return [];
      }
      if (sysSeen.size > 10_000) sysSeen.clear();
      sysSeen.set(topic, now.getTime());
      const value = payload.toString('utf8').slice(0, 1024);
      return [
        base('mqtt.broker_status', 'health', 6, `${topic} = ${value}`, {
          topic,
          value: /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value,
        }),
      ];
    }
    // The device is the topic's first levels (the broker does not tell who published).
    const outcome = telemetry.accept({ topic, device: topic, payload });
    if (outcome.kind !== 'event') return [];
    const text = outcome.parsed.text ?? JSON.stringify(outcome.parsed.values);
    return [
      base('mqtt.telemetry', 'telemetry', 6, `${topic} ${text}`, {
        topic,
        qos,
        retain,
        payload_bytes: payload.length,
        ...properties,
        ...outcome.fields,
      }),
    ];
  };

  return {
    name,
    type: 'mqtt_client',
    async start() {
      const password = config.password_file
        ? readFileSync(config.password_file, 'utf8').replace(/\r?\n$/, '')
        : config.password_env
          ? process.env[config.password_env]
          : undefined;
      const t = config.tls;
      const c = mqtt.connect(config.endpoint, {
        clientId: config.client_id ?? `siem-${name}`,
        username: config.username,
        password,
        reconnectPeriod: config.reconnect_secs * 1000,
        clean: true,
        protocolVersion: config.protocol_version,
        ca: t?.ca_file ? readFileSync(t.ca_file) : undefined,
        cert: t?.cert_file ? readFileSync(t.cert_file) : undefined,
        key: t?.key_file ? readFileSync(t.key_file) : undefined,
      });
      client = c;
      // mqtt.js sends PUBACK/PUBREC once handleMessage calls back (any protocol version): for QoS 1/2
      // that is after the event is durable (DESIGN: delivery contract). QoS 0 is not held up.
      c.handleMessage = (packet, done) => {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        const events = handle(
          packet.topic,
          payload,
          packet.qos,
          packet.retain,
          propertyFields(packet.properties),
        );
        if (events.length === 0) return done();
        if (packet.qos === 0) {
          emitLater(events);
          return done();
        }
        emit(events).then(
          () => done(),
          (error: Error) => {
            ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
            done(error);
          },
        );
      };
      c.on('connect', () => {
        const topics = subscriptionFilters(config);
        c.subscribe(topics, { qos: config.qos }, (error, granted) => {
          // A SUBACK code of 0x80 or more refuses the filter (MQTT 3.1.1 §3.9.3; MQTT 5 §3.9.3).
          const refused = (granted ?? []).filter((g) => g.qos >= 0x80);
          emitLater([
            base(
              'mqtt.collector_connected',
              'health',
              refused.length > 0 || error ? 4 : 6,
              `subscribed to ${config.endpoint}${refused.length > 0 ? `; refused: ${refused.map((g) => `${g.topic} (${reasonName(g.qos)})`).join(', ')}` : ''}`,
              {
                topics,
                protocol_version: config.protocol_version,
                refused_topics: refused.length > 0 ? refused.map((g) => g.topic) : undefined,
                refused_reasons: refused.length > 0 ? refused.map((g) => reasonName(g.qos)) : undefined,
                error: error?.message,
              },
            ),
          ]);
        });
      });
      // MQTT 5 §3.14: a broker may say why it closes the connection.
      c.on('disconnect', (packet) => {
        const code = packet.reasonCode ?? 0;
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'mqtt_server_disconnect' });
        emitLater([
          base(
            'mqtt.collector_error',
            'health',
            4,
            `${config.endpoint} disconnected the collector: ${reasonName(code)}${packet.properties?.reasonString ? ` (${packet.properties.reasonString})` : ''}`,
            {
              reason_code: code,
              reason: reasonName(code),
              reason_string: packet.properties?.reasonString,
            },
          ),
        ]);
      });
      c.on('error', (error) => {
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'mqtt_client' });
        emitLater([
          base('mqtt.collector_error', 'health', 4, `${config.endpoint}: ${error.message}`, {
            error: error.message,
          }),
        ]);
      });
    },
    async stop() {
      const c = client;
      client = undefined;
      if (c) await c.endAsync();
    },
    addresses: () => [],
  };
}
