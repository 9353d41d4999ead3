/**
 * The `mqtt_broker` source: an embedded aedes broker that the plant's devices connect to, with
 * the sensor hooks (hooks.ts) that turn what they do into events and their readings into
 * telemetry. Aggregated telemetry is flushed every second and on stop.
 */
import type net from 'node:net';
import { Aedes, type Client } from 'aedes';
import { matchTopic } from '../../../protocols/mqtt/topic.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import { createTelemetrySampler } from '../telemetry/sampler.ts';
import { createAuthenticator } from './auth.ts';
import type { MqttBrokerSourceConfig } from './config.ts';
import { mqttEvent } from '../../../protocols/mqtt/to-event.ts';
import type { ConnInfo } from './events.ts';
import { createSensor, type Sensor } from './hooks.ts';
import { startListeners } from './listeners.ts';
import { createRateTracker } from '../shared-mqtt-rates.ts';

export function createMqttBrokerSource(
  name: string,
  config: MqttBrokerSourceConfig,
  ctx: SourceContext,
): Source {
  let broker: Aedes | undefined;
  let servers: net.Server[] = [];
  let sockets = new Set<net.Socket>();
  let addresses: SourceAddress[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let emitLater: Sensor['emitLater'] | undefined;
  const infos = new WeakMap<object, ConnInfo>();
  const telemetry = createTelemetrySampler(config.telemetry, matchTopic);

  const flush = (all: boolean, emitLater: (e: Parameters<SourceContext['emit']>[0]) => void) => {
    const now = ctx.now();
    const events = telemetry.flush(now, all).map((a) => {
      const info: ConnInfo = {
        ip: '',
        port: 0,
        localIp: '',
        localPort: 0,
        transport: 'tcp',
        clientId: a.device,
        acl: { publish: new Map(), subscribe: new Map() },
      };
      const e = mqttEvent(
        info,
        {
          action: 'mqtt.telemetry_aggregate',
          kind: 'telemetry',
          severity: 6,
          message: `${a.topic}: ${a.messages} messages since ${a.since.toISOString()}`,
          fields: {
            topic: a.topic,
            window_start: a.since.toISOString(),
            window_secs: a.rule.interval_secs,
            messages: a.messages,
            aggregates: a.fields,
          },
        },
        now,
        name,
      );
      delete e.src;
      delete e.dst;
      delete e.fields.transport;
      return e;
    });
    if (events.length > 0) emitLater(events);
  };

  return {
    name,
    type: 'mqtt_broker',
    async start() {
      stopping = false;
      const b = await Aedes.createBroker({
        id: `siem-${name}`,
        connectTimeout: config.connect_timeout_secs * 1000,
        keepaliveLimit: config.max_keepalive_secs,
        drainTimeout: 30_000,
      });
      broker = b;
      const sensor = createSensor(b, {
        name,
        config,
        ctx,
        infoOf: (client: Client | null | undefined) => (client ? infos.get(client.conn) : undefined),
        auth: createAuthenticator(config),
        rates: createRateTracker({ windowSecs: config.rates.window_secs }),
        telemetry,
        isStopping: () => stopping,
      });
      try {
        const started = await startListeners(b, config, {
          register: (socket, info) => infos.set(socket, info),
          onConnection: sensor.countConnection,
          onGuardError: sensor.guardError,
        });
        ({ servers, addresses, sockets } = started);
      } catch (error) {
        await new Promise<void>((resolve) => b.close(() => resolve()));
        throw error;
      }
      emitLater = sensor.emitLater;
      timer = setInterval(() => flush(false, sensor.emitLater), 1000);
      timer.unref();
    },
    async stop() {
      const b = broker;
      if (!b) return;
      broker = undefined;
      stopping = true;
      clearInterval(timer);
      if (emitLater) flush(true, emitLater);
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      await new Promise<void>((resolve) => b.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
    },
    addresses: () => addresses,
  };
}
