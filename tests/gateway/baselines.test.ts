/**
 * Learned baselines: silent while learning; afterwards a new peer, a new command, an out-of-range
 * value and a rate surge each become one `baseline.*` event (reported once), valid Events that the
 * shipped rules turn into alerts; state survives a snapshot and restore, and stays bounded.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createBaselines } from '../../gateway/baselines/index.ts';
import { loadDetection } from '../../gateway/detection/index.ts';
import { parseEvent, type PendingEvent } from '../../protocols/event/schema.ts';
import { REPO_ROOT } from '../support/env.ts';

const HOUR = 3600_000;
const T0 = Date.parse('2026-11-21T00:00:00Z');
const options = { learningMs: HOUR, rangeMargin: 0.1, rateFactor: 10, minRatePerMin: 60 };

function write(at: number, src: string, fc: number, address: number, value: number): PendingEvent {
  const ts = new Date(at).toISOString();
  return {
    ts,
    received: ts,
    source: 'modbus',
    kind: 'security',
    action: fc === 3 ? 'modbus.read_holding_registers' : 'modbus.write_single_register',
    severity: 5,
    message: 'x',
    device: { id: 'modbus:10.0.10.5/1' },
    src: { ip: src, port: 40000 },
    fields: { direction: 'request', function_code: fc, address, values: [value] },
    tags: [],
  };
}

describe('learned baselines', () => {
  it('learns silently, then reports each kind of deviation once', () => {
    const b = createBaselines(options);
    for (let i = 0; i < 120; i += 1) {
      assert.deepEqual(
        b.observe(write(T0 + i * 20_000, '10.0.20.11', 6, 100, 40 + (i % 20)), T0 + i * 20_000),
        [],
      );
    }
    const after = T0 + HOUR + 60_000;
    const normal = b.observe(write(after, '10.0.20.11', 6, 100, 50), after);
    assert.deepEqual(normal, [], 'learned behaviour is quiet');

    const rogue = b.observe(write(after + 1000, '10.0.66.6', 6, 100, 55), after + 1000);
    assert.deepEqual(
      rogue.map((e) => e.action),
      ['baseline.new_peer'],
    );
    assert.deepEqual(
      b.observe(write(after + 2000, '10.0.66.6', 6, 100, 55), after + 2000),
      [],
      'reported once',
    );

    const read = b.observe(write(after + 3000, '10.0.20.11', 3, 100, 50), after + 3000);
    assert.deepEqual(
      read.map((e) => e.action),
      ['baseline.new_action'],
    );
    assert.equal(read[0]?.fields.behaviour, 'modbus.read_holding_registers:3');

    const high = b.observe(write(after + 4000, '10.0.20.11', 6, 100, 500), after + 4000);
    assert.deepEqual(
      high.map((e) => e.action),
      ['baseline.out_of_range'],
    );
    assert.deepEqual([high[0]?.fields.learned_min, high[0]?.fields.learned_max], [40, 59]);
    assert.equal(high[0]?.fields.point, 'holding[100]');
    assert.equal(high[0]?.fields.written, true);
    // Each written value is news (a master's decision), even while the point is out of range.
    assert.deepEqual(
      b.observe(write(after + 4500, '10.0.20.11', 6, 100, 600), after + 4500).map((e) => e.fields.value),
      [600],
    );
    assert.deepEqual(
      b.observe(write(after + 5000, '10.0.20.11', 6, 100, 60), after + 5000),
      [],
      'within the margin',
    );

    const minute = T0 + 2 * HOUR;
    const surge: PendingEvent[] = [];
    for (let i = 0; i < 80; i += 1)
      surge.push(...b.observe(write(minute + i * 100, '10.0.20.11', 6, 100, 45), minute + i * 100));
    assert.deepEqual(
      surge.map((e) => e.action),
      ['baseline.rate_surge'],
    );

    for (const e of [...rogue, ...read, ...high, ...surge]) {
      assert.ok(parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 }).ok, e.action);
    }
  });

  it('learns ranges from poller readings and telemetry too, and reports a reading once per excursion', () => {
    const b = createBaselines(options);
    const poll = (at: number, level: number): PendingEvent => {
      const ts = new Date(at).toISOString();
      return {
        ts,
        received: ts,
        source: 'modbus',
        kind: 'telemetry',
        action: 'modbus.poll',
        severity: 6,
        message: 'poll',
        device: { id: 'modbus:10.0.10.5/1' },
        fields: { poller: 'tank', unit_id: 1, readings: { tank_level: level, pump_on: level > 50 } },
        tags: [],
      };
    };
    const mqtt = (at: number, temp: number): PendingEvent => {
      const ts = new Date(at).toISOString();
      return {
        ts,
        received: ts,
        source: 'mqtt',
        kind: 'telemetry',
        action: 'mqtt.telemetry',
        severity: 6,
        message: 'telemetry',
        device: { id: 'mqtt:sensor-1' },
        fields: { topic: 'plant/line2/sensor-1/telemetry', values: { temperature: temp } },
        tags: [],
      };
    };
    for (let i = 0; i < 120; i += 1) {
      const at = T0 + i * 30_000;
      assert.deepEqual(b.observe(poll(at, 40 + (i % 21)), at), []);
      assert.deepEqual(b.observe(mqtt(at, 20.5 + (i % 5) * 0.25), at), []); // 20.5..21.5
    }
    // The learned ranges carry the names the device dashboard charts (protocols/telemetry/values.ts).
    const learned = b.snapshot();
    assert.deepEqual(learned['modbus:10.0.10.5/1']?.ranges, { tank_level: [40, 60], pump_on: [0, 1] });
    assert.deepEqual(learned['mqtt:sensor-1']?.ranges, {
      'plant/line2/sensor-1/telemetry/temperature': [20.5, 21.5],
    });

    const after = T0 + HOUR + 60_000;
    const seen = (events: PendingEvent[]) => events.map((e) => `${e.fields.point}=${e.fields.value}`);
    const out: string[] = [];
    // The tank overflows for three polls, comes back, then overflows again: two events, not four.
    for (const [i, level] of [90, 91, 95, 50, 93].entries())
      out.push(...seen(b.observe(poll(after + i * 1000, level), after + i * 1000)));
    assert.deepEqual(out, ['tank_level=90', 'tank_level=93']);
    // Both excursions are among the changes since learning (the device page lists them).
    assert.deepEqual(
      b.snapshot()['modbus:10.0.10.5/1']?.reported.filter((k) => k.startsWith('range:')),
      ['range:tank_level:90', 'range:tank_level:93'],
    );
    // A float range has a margin in proportion (10% of 1.0 here), not the integers' minimum of 1.
    const warm = b.observe(mqtt(after, 21.55), after);
    assert.deepEqual(warm, [], 'within the margin');
    const hot = b.observe(mqtt(after + 1000, 22.4), after + 1000);
    assert.deepEqual(seen(hot), ['plant/line2/sensor-1/telemetry/temperature=22.4']);
    assert.equal(hot[0]?.fields.written, false);
    assert.match(
      hot[0]?.message ?? '',
      /value 22.4 at plant\/line2\/sensor-1\/telemetry\/temperature outside the learned 20.5..21.5/,
    );
    assert.ok(parseEvent({ ...hot[0], v: 1, id: 'g:1', gateway: 'g', seq: 1 }).ok);
  });

  it('survives a snapshot and restore, and bounds what it learns per device', () => {
    const b = createBaselines(options);
    for (let i = 0; i < 1000; i += 1) b.observe(write(T0 + i, `10.1.${i >> 8}.${i & 255}`, 6, i, i), T0 + i);
    const state = JSON.parse(JSON.stringify(b.snapshot()));
    const device = state['modbus:10.0.10.5/1'];
    assert.equal(device.peers.length, 256, 'peers capped');
    const restored = createBaselines(options);
    restored.restore(state);
    const after = T0 + HOUR + 1;
    assert.deepEqual(
      restored.observe(write(after, '10.1.0.0', 6, 0, 0), after),
      [],
      'remembered peer and value',
    );
  });

  it('the shipped rules turn every baseline deviation into an alert', () => {
    const { engine, errors } = loadDetection({ rulesDirs: [path.join(REPO_ROOT, 'rules', 'ics')] });
    assert.deepEqual(errors, []);
    const titles: string[] = [];
    let seq = 0;
    for (const action of [
      'baseline.new_peer',
      'baseline.new_action',
      'baseline.out_of_range',
      'baseline.rate_surge',
    ]) {
      const at = T0 + seq * 1000;
      seq += 1;
      const ts = new Date(at).toISOString();
      const alerts = engine.process(
        {
          v: 1,
          id: `g:${seq}`,
          gateway: 'g',
          seq,
          ts,
          received: ts,
          source: 'gateway',
          kind: 'security',
          action,
          severity: 4,
          message: action,
          device: { id: 'modbus:10.0.10.5/1' },
          fields: {},
          tags: ['baseline'],
        },
        at,
      );
      titles.push(...alerts.map((a) => `${action} → ${a.techniques.join(',')}`));
    }
    assert.deepEqual(titles, [
      'baseline.new_peer → T0848',
      'baseline.new_action → T0855',
      'baseline.out_of_range → T0836',
      'baseline.rate_surge → T0814',
    ]);
  });
});
