/**
 * The `mqtt_client` source: an mqtt.js client that subscribes to a plant's existing broker.
 * Messages on telemetry topics become `mqtt.telemetry` events, one per message (the telemetry rules'
 * sampling and aggregation are a pipeline stage), `$SYS` updates become `mqtt.broker_status` health
 * events (one per topic per interval; the others counted as dropped, reason `sys_interval`), and the
 * collector's own link to the broker is reported (`mqtt.collector_connected`/`_error`). A QoS 1
 * message is acknowledged to the broker only once its event is durable (mqtt.js handleMessage).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { compact } from '../../../protocols/event/compact.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { matchTopic } from '../../../protocols/mqtt/topic.ts';
import type { Source, SourceContext } from '../../pipeline/types.ts';
import { createTelemetrySampler } from '../telemetry/sampler.ts';
import type { MqttClientSourceConfig } from './config.ts';

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

  const handle = (topic: string, payload: Buffer, qos: number, retain: boolean): PendingEvent[] => {
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
    const outcome = telemetry.accept({ topic, device: topic, payload }, now);
    if (outcome.kind !== 'event') return [];
    const text = outcome.parsed.text ?? JSON.stringify(outcome.parsed.values);
    return [
      base('mqtt.telemetry', 'telemetry', 6, `${topic} ${text}`, {
        topic,
        qos,
        retain,
        payload_bytes: payload.length,
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
        ca: t?.ca_file ? readFileSync(t.ca_file) : undefined,
        cert: t?.cert_file ? readFileSync(t.cert_file) : undefined,
        key: t?.key_file ? readFileSync(t.key_file) : undefined,
      });
      client = c;
      // mqtt.js sends PUBACK/PUBREC once handleMessage calls back (any protocol version): for QoS 1/2
      // that is after the event is durable (DESIGN: delivery contract). QoS 0 is not held up.
      c.handleMessage = (packet, done) => {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        const events = handle(packet.topic, payload, packet.qos, packet.retain);
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
        const topics = [...config.topics, ...(config.sys_topics ? ['$SYS/#'] : [])];
        c.subscribe(topics, { qos: config.qos }, (error, granted) => {
          const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
          emitLater([
            base(
              'mqtt.collector_connected',
              'health',
              refused.length > 0 || error ? 4 : 6,
              `subscribed to ${config.endpoint}${refused.length > 0 ? `; refused: ${refused.join(', ')}` : ''}`,
              {
                topics,
                refused_topics: refused.length > 0 ? refused : undefined,
                error: error?.message,
              },
            ),
          ]);
        });
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
