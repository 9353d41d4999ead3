/**
 * The MQTT and CoAP sources' `telemetry:` rules (`mode: sample | aggregate`) are pipeline stages
 * now: an embedded broker's readings go through a pipeline built from the same config; detection
 * sees every reading (a rule on one reading fires although the topic is aggregated), and the
 * aggregate event keeps the shape the sources used to emit (protocols/event/SPEC.md), released on
 * the pipeline's clock and on stop; sampling keeps the first reading per device and topic per
 * interval, and the stage counts what it held back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { telemetryStages } from '../../../gateway/pipeline/build.ts';
import { sourceSchema } from '../../../gateway/sources/schema.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { buildPipeline, countsAddUp, T0 } from './support.ts';
import { createPipeline } from '../../../gateway/pipeline/index.ts';
import { createStages } from '../../../gateway/pipeline/build.ts';
import { pipelineSchema } from '../../../gateway/pipeline/config.ts';
import { buildRuleSet } from '../../../protocols/sigma/rules-dir.ts';
import { memorySink } from './support.ts';

const broker = sourceSchema.parse({
  type: 'mqtt_broker',
  listen: '127.0.0.1:0',
  telemetry: [
    { match: 'plant/+/temp', mode: 'every' },
    { match: 'plant/+/vib', mode: 'aggregate', interval_secs: 10 },
    { match: 'plant/+/level', mode: 'sample', interval_secs: 10 },
  ],
});

function reading(at: number, client: string, topic: string, value: number): PendingEvent {
  const ts = new Date(at).toISOString();
  return {
    ts,
    received: ts,
    source: 'mqtt',
    kind: 'telemetry',
    action: 'mqtt.telemetry',
    severity: 6,
    message: `${topic} ${value}`,
    device: { id: `mqtt:${client}`, protocol_id: client },
    src: { ip: '10.0.0.9', port: 40000 },
    dst: { ip: '10.0.0.1', port: 1883 },
    fields: {
      client_id: client,
      transport: 'tcp',
      listener: 'mqtt_in',
      topic,
      payload_format: 'number',
      values: { value },
    },
    tags: [],
  };
}

const SPIKE = `title: vibration spike
id: 33333333-3333-4333-8333-333333333333
logsource: { product: mqtt }
detection:
  sel: { fields.values.value|gte: 100 }
  condition: sel
level: high
`;

describe('telemetry stages from the sources config', () => {
  it('aggregates per device and topic per interval, after detection saw every reading', async () => {
    const sink = memorySink();
    const engine = buildRuleSet([SPIKE], {}).engine;
    const pipeline = createPipeline({
      sink,
      stages: (hooks) =>
        createStages(pipelineSchema.parse({}), {
          dataDir: '/nonexistent',
          sources: { mqtt_in: broker },
          engine: () => engine,
          ...hooks,
        }),
    });
    assert.deepEqual(
      pipeline.stages().map((s) => s.name),
      [
        'normalise',
        'inventory',
        'baselines',
        'detect',
        'mqtt_in_telemetry',
        'modbus_reads',
        'sensor_telemetry',
        'cip_io',
        'ot_polling',
        'routine_syslog',
        'forward',
      ],
    );
    for (const [i, v] of [1, 5, 3, 120].entries()) {
      await pipeline.emit('mqtt_in', [reading(T0 + i * 1000, 'vib-1', 'plant/vib-1/vib', v)], T0 + i * 1000);
    }
    await pipeline.emit('mqtt_in', [reading(T0, 'therm-1', 'plant/therm-1/temp', 21)], T0);
    await pipeline.tick(T0 + 10_000);
    const agg = sink.events.filter((e) => e.action === 'mqtt.telemetry_aggregate');
    assert.equal(agg.length, 1);
    assert.equal(agg[0]!.fields.topic, 'plant/vib-1/vib');
    assert.equal(agg[0]!.fields.messages, 4);
    assert.equal(agg[0]!.fields.window_secs, 10);
    assert.equal(agg[0]!.fields.window_start, new Date(T0).toISOString());
    assert.equal(agg[0]!.fields.listener, 'mqtt_in');
    assert.deepEqual(agg[0]!.fields.aggregates, {
      value: { count: 4, min: 1, max: 120, avg: 32.25, last: 120 },
    });
    assert.equal(agg[0]!.device?.id, 'mqtt:vib-1');
    assert.equal(agg[0]!.src, undefined);
    // The temperature topic (mode every) passes the source's stage, and the default pipeline's
    // sensor_telemetry stage summarises it per minute.
    await pipeline.tick(T0 + 60_000);
    const temp = sink.events.filter((e) => e.action === 'mqtt.telemetry_summary');
    assert.deepEqual(
      temp.map((e) => [
        (e.fields.aggregate as { key: Record<string, unknown> }).key['fields.topic'],
        (e.fields.aggregate as { count: number }).count,
      ]),
      [['plant/therm-1/temp', 1]],
    );
    const alert = sink.events.find((e) => e.kind === 'alert');
    assert.ok(alert, 'the spike raised its alert');
    const evidence = sink.events.find((e) => e.id === (alert.fields.event_ids as string[])[0]);
    assert.equal((evidence?.fields.values as { value: number }).value, 120);
    const stage = pipeline.counts().find((c) => c.name === 'mqtt_in_telemetry')!;
    assert.deepEqual([stage.in, stage.dropped, stage.created], [5, 4, 1]);
    assert.ok(countsAddUp(pipeline.counts()));
  });

  it('samples the first reading per device and topic in each interval, and releases aggregates on stop', async () => {
    const sink = memorySink();
    const pipeline = createPipeline({
      sink,
      stages: (hooks) => [
        ...telemetryStages({ mqtt_in: broker }),
        ...createStages(pipelineSchema.parse({ stages: [] }), { dataDir: '', ...hooks }),
      ],
    });
    for (let i = 0; i < 25; i++) {
      await pipeline.emit(
        'mqtt_in',
        [
          reading(T0 + i * 1000, 'lvl-1', 'plant/lvl-1/level', i),
          reading(T0 + i * 1000, 'vib-2', 'plant/vib-2/vib', i),
        ],
        T0 + i * 1000,
      );
    }
    assert.deepEqual(
      sink.events
        .filter((e) => e.fields.topic === 'plant/lvl-1/level')
        .map((e) => (e.fields.values as { value: number }).value),
      [0, 10, 20],
    );
    await pipeline.tick(T0 + 25_000, { final: true });
    const agg = sink.events.filter((e) => e.action === 'mqtt.telemetry_aggregate');
    assert.deepEqual(
      agg.map((a) => a.fields.messages),
      [10, 10, 5],
      'nothing held is lost on stop',
    );
  });

  it('leaves sources whose rules only say every alone', () => {
    assert.deepEqual(
      telemetryStages({
        s: sourceSchema.parse({ type: 'coap', listen: '127.0.0.1:0', telemetry: [{ match: '#' }] }),
      }),
      [],
    );
    void buildPipeline;
  });
});
