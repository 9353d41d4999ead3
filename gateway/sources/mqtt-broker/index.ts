/**
 * The `mqtt_broker` source: an embedded aedes broker that the plant's devices connect to, with
 * the sensor hooks (hooks.ts) that turn what they do into events and their readings into
 * telemetry. Readings are handed on one by one: sampling and aggregation are pipeline stages.
 */
import type net from 'node:net';
import { Aedes, type Client } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { matchTopic } from '../../../protocols/mqtt/topic.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import { createTelemetrySampler } from '../telemetry/sampler.ts';
import { createAuthenticator } from './auth.ts';
import { createPublishGate } from './backpressure.ts';
import type { MqttBrokerSourceConfig } from './config.ts';
import type { ConnInfo } from './events.ts';
import { createSensor } from './hooks.ts';
import { startListeners } from './listeners.ts';
import { installProtocolRefusal, type ProtocolRefusals } from './protocol-refusal.ts';
import { createRateTracker } from '../shared-mqtt-rates.ts';

/**
 * mqtt-packet (aedes' encoder) writes packet ids from a cache of 65,536 two-byte Buffers that it
 * builds on its first write: 6.9 MB of a gateway's 64 MB heap (the soak's heap snapshot), kept for
 * good, to save allocating two bytes per PUBACK. Off, each id is written from a fresh Buffer.
 */
mqttPacket.writeToStream.cacheNumbers = false;

export function createMqttBrokerSource(
  name: string,
  config: MqttBrokerSourceConfig,
  ctx: SourceContext,
): Source {
  let broker: Aedes | undefined;
  let servers: net.Server[] = [];
  let sockets = new Set<net.Socket>();
  let addresses: SourceAddress[] = [];
  let stopping = false;
  const infos = new WeakMap<object, ConnInfo>();
  const telemetry = createTelemetrySampler(config.telemetry, matchTopic);
  let refusals: ProtocolRefusals | undefined;
  let sensor: ReturnType<typeof createSensor> | undefined;

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
      const gate = createPublishGate({
        maxPublishes: config.max_pending_publishes,
        maxBytes: config.max_pending_bytes,
        source: name,
        metrics: ctx.metrics,
      });
      sensor?.detach();
      sensor = createSensor(b, {
        name,
        config,
        ctx,
        infoOf: (client: Client | null | undefined) => (client ? infos.get(client.conn) : undefined),
        auth: createAuthenticator(config),
        rates: createRateTracker({ windowSecs: config.rates.window_secs }),
        telemetry,
        isStopping: () => stopping,
        gate,
      });
      refusals = installProtocolRefusal(b, {
        name,
        ctx,
        infoOf: (client) => (client ? infos.get(client.conn) : undefined),
        emitLater: sensor.emitLater,
      });
      try {
        const started = await startListeners(b, config, {
          register: (socket, info) => infos.set(socket, info),
          onConnection: sensor.countConnection,
          onGuardError: sensor.guardError,
          gate,
        });
        ({ servers, addresses, sockets } = started);
      } catch (error) {
        await new Promise<void>((resolve) => b.close(() => resolve()));
        throw error;
      }
    },
    async stop() {
      const b = broker;
      if (!b) return;
      broker = undefined;
      stopping = true;
      sensor?.detach();
      sensor = undefined;
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      await new Promise<void>((resolve) => b.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
    },
    addresses: () => addresses,
    notes: () => refusals?.notes() ?? [],
  };
}
