/**
 * The broker's bound on publishes waiting for their durable write (backpressure.ts), with real
 * mqtt.js clients flooding a broker whose durable write is slowed: the broker stops reading them
 * while the bound is reached, so the publishes handed on and not yet written never exceed the
 * bound plus what one socket read holds; every message is still stored exactly once, and every
 * PUBACK arrives after its write. QoS 0 is held back the same way, and the bound in bytes as well.
 * Without the bound, aedes reads every client on and the pending publishes grow with the clients.
 * The publishes of one read reach the pipeline together, 32 events at most per emit.
 */
import assert from 'node:assert/strict';
import { getDefaultHighWaterMark } from 'node:stream';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import pino from 'pino';
import { createGatewayMetrics } from '../../../../gateway/metrics.ts';
import type { SourceContext } from '../../../../gateway/pipeline/types.ts';
import { mqttBrokerSourceSchema } from '../../../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../../../gateway/sources/mqtt-broker/index.ts';
import { EMIT_BATCH_EVENTS } from '../../../../gateway/pipeline/types.ts';
import { waitFor } from '../../../support/env.ts';
import { portOf } from '../support.ts';

const TOPIC_PREFIX = 'plant/flood/';
const PAD = 'x'.repeat(960);
/** The slowed durable write: every emit resolves this long after it was called. */
const WRITE_MS = 15;
/**
 * What one read of a socket can hold: Node stops reading a socket from the kernel once its buffer
 * reaches the high-water mark, and libuv reads up to 64 KiB at a time.
 */
const ONE_READ_BYTES = getDefaultHighWaterMark(false) + 65_536;

interface Flood {
  /** Messages written, by sequence string; a second write of one is a duplicate. */
  written: Map<string, number>;
  maxPending: number;
  /** Calls of ctx.emit that carried readings, and the most events one of them carried. */
  emits: number;
  largestEmit: number;
  pending: () => number;
  /** While set, no write completes until `release()`: the durable write is stuck. */
  held: boolean;
  release: () => void;
  metrics: ReturnType<typeof createGatewayMetrics>;
  port: number;
  stop: () => Promise<void>;
}

async function startSlowBroker(bounds: Record<string, number>): Promise<Flood> {
  const metrics = createGatewayMetrics('gw-test', { processMetrics: false });
  const written = new Map<string, number>();
  let pending = 0;
  const stuck: Array<() => void> = [];
  const flood = {
    written,
    maxPending: 0,
    emits: 0,
    largestEmit: 0,
    pending: () => pending,
    held: false,
    release: () => {
      flood.held = false;
      for (const finish of stuck.splice(0)) finish();
    },
    metrics,
  } as Flood;
  const ctx: SourceContext = {
    metrics,
    logger: pino({ level: 'silent' }),
    now: () => new Date(),
    emit(events) {
      const readings = events.filter((e) => e.action === 'mqtt.telemetry');
      pending += readings.length;
      if (readings.length > 0) flood.emits += 1;
      flood.largestEmit = Math.max(flood.largestEmit, events.length);
      flood.maxPending = Math.max(flood.maxPending, pending);
      return new Promise((resolve) => {
        const finish = () => {
          for (const e of readings) {
            const seq = String((e.fields.values as { seq: string }).seq);
            written.set(seq, (written.get(seq) ?? 0) + 1);
          }
          pending -= readings.length;
          resolve();
        };
        if (flood.held) stuck.push(finish);
        else setTimeout(finish, WRITE_MS);
      });
    },
  };
  const source = createMqttBrokerSource(
    'mqtt_in',
    mqttBrokerSourceSchema.parse({
      type: 'mqtt_broker',
      listen: '127.0.0.1:0',
      allow_anonymous: true,
      anonymous: { publish: ['plant/#'] },
      telemetry: [{ match: 'plant/#', mode: 'every' }],
      rates: { max_connects: 1000, max_connections: 1000 },
      ...bounds,
    }),
    ctx,
  );
  await source.start();
  return Object.assign(flood, { port: portOf(source), stop: () => source.stop() });
}

/** `clients` publishers, each publishing `count` messages at once; resolves when all were sent. */
async function flood(
  f: Flood,
  { clients, count, qos }: { clients: number; count: number; qos: 0 | 1 },
): Promise<{ expected: string[]; earlyAcks: string[] }> {
  const expected: string[] = [];
  const earlyAcks: string[] = [];
  const conns = await Promise.all(
    Array.from({ length: clients }, (_, c) =>
      mqtt.connectAsync({ host: '127.0.0.1', port: f.port, reconnectPeriod: 0, clientId: `flood-${c}` }),
    ),
  );
  await Promise.all(
    conns.map(
      (conn, c) =>
        new Promise<void>((resolve, reject) => {
          let left = count;
          for (let i = 0; i < count; i += 1) {
            const seq = `${qos}.${c}.${i}`;
            expected.push(seq);
            conn.publish(`${TOPIC_PREFIX}${c}`, JSON.stringify({ seq, pad: PAD }), { qos }, (error) => {
              if (error) return reject(error);
              // QoS 1: mqtt.js calls back on the PUBACK, which must come after the write.
              if (qos === 1 && !f.written.has(seq)) earlyAcks.push(seq);
              if (--left === 0) resolve();
            });
          }
        }),
    ),
  );
  await waitFor(() => f.written.size >= expected.length || undefined, {
    what: 'every message written',
    timeoutMs: 60_000,
  });
  await Promise.all(conns.map((c) => c.endAsync()));
  return { expected, earlyAcks };
}

/** Publishes one socket read can hold at most (a packet is more than its topic and payload). */
const perRead = (payloadBytes: number) => Math.ceil(ONE_READ_BYTES / (payloadBytes + TOPIC_PREFIX.length));

const metricValue = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
  (await m.get()).values.reduce((sum, v) => sum + v.value, 0);

function assertExactlyOnce(f: Flood, expected: string[]) {
  const missing = expected.filter((s) => !f.written.has(s));
  const twice = [...f.written].filter(([, n]) => n > 1).map(([s]) => s);
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} never written`);
  assert.deepEqual(twice.slice(0, 5), [], `${twice.length} written twice`);
  assert.equal(f.written.size, expected.length);
}

describe('publish backpressure', () => {
  it(
    'pauses 8 QoS 1 flooders at max_pending_publishes: bounded, each stored once, PUBACK after the write',
    {
      timeout: 120_000,
    },
    async (t) => {
      const bound = 100;
      const f = await startSlowBroker({ max_pending_publishes: bound });
      try {
        const payloadBytes = JSON.stringify({ seq: '1.0.0', pad: PAD }).length;
        const { expected, earlyAcks } = await flood(f, { clients: 8, count: 400, qos: 1 });
        assertExactlyOnce(f, expected);
        assert.deepEqual(earlyAcks.slice(0, 5), [], `${earlyAcks.length} PUBACKs before their write`);
        const limit = bound + perRead(payloadBytes);
        t.diagnostic(
          `most pending ${f.maxPending}, limit ${limit}; ${f.emits} emits for ${expected.length} publishes, the largest ${f.largestEmit}`,
        );
        assert.ok(f.maxPending <= limit, `at most ${f.maxPending} pending (bound ${bound}, limit ${limit})`);
        assert.ok((await metricValue(f.metrics.mqttReadPauses)) > 0, 'the pauses are counted');
        // The publishes parsed from one read go to the pipeline together (turn-batch.ts), not one
        // emit each, and at most 32 events at a time.
        assert.ok(f.emits * 4 <= expected.length, `${f.emits} emits for ${expected.length} publishes`);
        assert.ok(f.largestEmit <= EMIT_BATCH_EVENTS, `an emit of ${f.largestEmit} events`);
        await waitFor(async () => (await metricValue(f.metrics.mqttPendingPublishes)) === 0 || undefined, {
          what: 'the pending gauge back at 0',
        });
      } finally {
        await f.stop();
      }
    },
  );

  it('holds QoS 0 back the same way, and bounds the bytes pending', { timeout: 120_000 }, async (t) => {
    const maxBytes = 40_000;
    const f = await startSlowBroker({ max_pending_publishes: 100_000, max_pending_bytes: maxBytes });
    try {
      const payloadBytes = JSON.stringify({ seq: '0.0.0', pad: PAD }).length;
      const { expected } = await flood(f, { clients: 4, count: 600, qos: 0 });
      assertExactlyOnce(f, expected);
      const limit = Math.ceil(maxBytes / payloadBytes) + perRead(payloadBytes);
      t.diagnostic(
        `most pending ${f.maxPending}, limit ${limit}; ${f.emits} emits for ${expected.length} publishes, the largest ${f.largestEmit}`,
      );
      assert.ok(f.maxPending <= limit, `at most ${f.maxPending} pending (limit ${limit})`);
      assert.ok((await metricValue(f.metrics.mqttReadPauses)) > 0, 'the pauses are counted');
    } finally {
      await f.stop();
    }
  });

  it(
    'still answers a CONNECT while the gate is closed, and the held publishes go on once written',
    {
      timeout: 60_000,
    },
    async () => {
      const f = await startSlowBroker({ max_pending_publishes: 50 });
      const conns: mqtt.MqttClient[] = [];
      try {
        f.held = true;
        const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: f.port, reconnectPeriod: 0 });
        conns.push(pub);
        const acked = Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            pub.publishAsync(`${TOPIC_PREFIX}held`, JSON.stringify({ seq: `held.${i}`, pad: PAD }), {
              qos: 1,
            }),
          ),
        );
        await waitFor(async () => ((await metricValue(f.metrics.mqttReadPauses)) > 0 ? true : undefined), {
          what: 'the gate closed',
        });
        // The writes are stuck and the gate closed: a new client still gets its CONNACK in time.
        const late = await mqtt.connectAsync({
          host: '127.0.0.1',
          port: f.port,
          reconnectPeriod: 0,
          connectTimeout: 3000,
        });
        conns.push(late);
        assert.equal(f.written.size, 0);
        f.release();
        await acked;
        assert.equal(f.written.size, 300);
        assert.ok(f.maxPending < 300, `the publisher was paused: ${f.maxPending} pending at most`);
      } finally {
        f.release();
        await Promise.all(conns.map((c) => c.endAsync(true)));
        await f.stop();
      }
    },
  );
});
