/**
 * One MQTT broker for the broker benchmark, run in its own process so that it can be pinned to a
 * core: `sensor` is the gateway's mqtt_broker source with every sensor hook on (authentication,
 * ACLs, rate tracking, packet inspection, events into a real LevelDB queue), optionally with every
 * publish turned into a telemetry event; `plain` is aedes with no hooks at all. Prints the port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import pino from 'pino';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';
import { createPipeline } from '../../../gateway/pipeline/index.ts';
import { LevelQueue } from '../../../gateway/queue/leveldb-queue.ts';
import { mqttBrokerSourceSchema } from '../../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../../gateway/sources/mqtt-broker/index.ts';
import { hashPassword } from '../../../gateway/sources/mqtt-broker/password.ts';

const mode = process.argv[2] ?? 'plain';
if (mode === 'plain') {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
} else {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-broker-'));
  const queue = await LevelQueue.open({
    dir,
    gateway: 'bench',
    maxRecordEvents: 200,
    flushIntervalMs: 5,
    sync: true,
  });
  const metrics = createGatewayMetrics('bench', { processMetrics: false });
  const pipeline = createPipeline({ sink: queue, stages: () => [], metrics });
  const source = createMqttBrokerSource(
    'broker',
    mqttBrokerSourceSchema.parse({
      type: 'mqtt_broker',
      listen: '127.0.0.1:0',
      users: [
        {
          username: 'bench',
          password_hash: await hashPassword('bench'),
          publish: ['bench/#'],
          subscribe: ['bench/#'],
        },
      ],
      telemetry: mode === 'telemetry' ? [{ match: 'bench/#', mode: 'every' }] : [],
      rates: { window_secs: 60, max_connections: 1000, max_connects: 1000, max_auth_failures: 100 },
    }),
    {
      emit: (events, opts) => pipeline.emit('broker', events, Date.now(), opts?.state, opts?.ack === true),
      metrics,
      logger: pino({ level: 'silent' }),
      now: () => new Date(),
    },
  );
  await source.start();
  process.stdout.write(`port ${source.addresses()[0]!.port}\n`);
  process.on('SIGTERM', async () => {
    await source.stop();
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}
