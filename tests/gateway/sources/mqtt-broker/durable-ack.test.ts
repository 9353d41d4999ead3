/**
 * The PUBACK of a QoS 1 telemetry publish waits for its event to be durable in the real LevelDB
 * queue, and no longer than that: the publish is written at once, not after the queue's
 * group-commit window (here ten minutes, so a PUBACK that waited for it would time the test out),
 * and a QoS 0 publish still waits for the window. The broker writes packet ids without mqtt-packet's
 * number cache.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import pino from 'pino';
import { createGatewayMetrics } from '../../../../gateway/metrics.ts';
import { createPipeline } from '../../../../gateway/pipeline/index.ts';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { LevelQueue } from '../../../../gateway/queue/leveldb-queue.ts';
import { mqttBrokerSourceSchema } from '../../../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../../../gateway/sources/mqtt-broker/index.ts';
import { portOf } from '../support.ts';

const WINDOW_MS = 600_000;
let dir: string;
let queue: LevelQueue;
let source: Source;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'siem-mqtt-ack-'));
  queue = await LevelQueue.open({
    dir,
    gateway: 'gw-test',
    maxRecordEvents: 200,
    flushIntervalMs: WINDOW_MS,
    sync: true,
  });
  const metrics = createGatewayMetrics('gw-test', { processMetrics: false });
  const pipeline = createPipeline({ sink: queue, stages: () => [], metrics });
  source = createMqttBrokerSource(
    'broker',
    mqttBrokerSourceSchema.parse({
      type: 'mqtt_broker',
      listen: '127.0.0.1:0',
      allow_anonymous: true,
      anonymous: { publish: ['plant/#'] },
      telemetry: [{ match: 'plant/#', mode: 'every' }],
    }),
    {
      // As gateway/index.ts wires a source to the pipeline.
      emit: (events, opts) => pipeline.emit('broker', events, Date.now(), opts?.state, opts?.ack === true),
      metrics,
      logger: pino({ level: 'silent' }),
      now: () => new Date(),
    },
  );
  await source.start();
});

after(async () => {
  await source.stop();
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded broker on the durable queue', () => {
  it(
    'acknowledges QoS 1 publishes once their events are on disk, without waiting for the group-commit window',
    { timeout: 60_000 },
    async () => {
      const c = await mqtt.connectAsync({
        host: '127.0.0.1',
        port: portOf(source),
        reconnectPeriod: 0,
        clientId: 'therm-7',
      });
      const seqBefore = queue.nextSeq;
      // 64 in flight, as the broker benchmark publishes.
      await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          c.publishAsync(`plant/therm-7/temp`, JSON.stringify({ celsius: 20 + i / 10 }), { qos: 1 }),
        ),
      );
      // Every PUBACK came after its event was durable: all 64 are on disk (and the connect event).
      const stored = (await queue.read('telemetry', null, 1000)).flatMap((r) => r.events);
      const readings = stored.filter((e) => e.action === 'mqtt.telemetry' && e.seq >= seqBefore);
      assert.equal(readings.length, 64);
      // QoS 0: nobody waits, so it waits for the window (nothing new on disk a moment later).
      const depth = queue.depth.events;
      c.publish('plant/therm-7/temp', JSON.stringify({ celsius: 1 }), { qos: 0 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(queue.depth.events, depth);
      await c.endAsync();
      // The PUBACKs' packet ids were written without mqtt-packet's cache of 65,536 Buffers
      // (6.9 MB of the gateway's 64 MB heap in the soak's snapshot).
      assert.equal(mqttPacket.writeToStream.cacheNumbers, false);
    },
  );
});
