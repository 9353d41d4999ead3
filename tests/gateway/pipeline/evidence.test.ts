/**
 * Detection and baselines see every observation before any reduction, and an alert's evidence
 * survives it: when the stream that held the triggering events was summarised, those events are
 * forwarded with the alert (tagged `evidence`, alert lane) and the alert names them by their real
 * ids; the summaries still count them. Reduction never touches an alert. Also the OT default on
 * Modbus: reads summarised per master, unit, function and range with counts, exceptions and
 * response times; writes and exceptions one by one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import { createEvidence } from '../../../gateway/pipeline/evidence.ts';
import { createBaselines } from '../../../gateway/baselines/index.ts';
import { createStages } from '../../../gateway/pipeline/build.ts';
import { pipelineSchema } from '../../../gateway/pipeline/config.ts';
import { createPipeline } from '../../../gateway/pipeline/index.ts';
import { LevelQueue } from '../../../gateway/queue/leveldb-queue.ts';
import { idRange, LANES, laneOf } from '../../../gateway/queue/types.ts';
import { buildRuleSet } from '../../../protocols/sigma/rules-dir.ts';
import { REPO_ROOT } from '../../support/env.ts';
import { buildPipeline, countsAddUp, modbus, T0 } from './support.ts';

const ICS = path.join(REPO_ROOT, 'rules', 'ics');
const icsRules = () =>
  readdirSync(ICS)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => readFileSync(path.join(ICS, f), 'utf8'));

const READ_AT_9999 = `title: read of the safety block
id: 22222222-2222-4222-8222-222222222222
logsource: { product: modbus }
detection:
  sel: { fields.direction: request, fields.address: 9999 }
  condition: sel
level: high
tags: [attack.collection, attack.t0801]
`;

describe('alert evidence across reduction', () => {
  it('forwards the read an alert was raised on although reads are summarised', async () => {
    const { pipeline, sink } = buildPipeline({}, { rules: [READ_AT_9999] });
    let t = T0;
    for (let i = 0; i < 20; i++, t += 100) {
      await pipeline.emit(
        'proxy',
        [modbus(t, { tid: i }), modbus(t + 5, { tid: i, direction: 'response', values: [i] })],
        t + 5,
      );
    }
    await pipeline.emit('proxy', [modbus(t, { address: 9999, quantity: 1, tid: 99 })], t);
    await pipeline.tick(t + 1, { final: true });
    const alerts = sink.events.filter((e) => e.kind === 'alert');
    assert.equal(alerts.length, 1);
    const ids = alerts[0]!.fields.event_ids as string[];
    assert.equal(ids.length, 1);
    const evidence = sink.events.find((e) => e.id === ids[0]);
    assert.ok(evidence, `the alert's evidence ${ids[0]} is on the sink`);
    assert.equal(evidence.fields.address, 9999);
    assert.ok(evidence.tags.includes('evidence'));
    assert.equal(laneOf(evidence), 'alert');
    assert.ok(evidence.seq < alerts[0]!.seq, 'evidence goes before its alert');
    // The reads are summarised (and the evidence read is also in its summary).
    const summaries = sink.events.filter((e) => e.action === 'modbus.read_summary');
    assert.deepEqual(summaries.map((s) => s.fields.requests).sort(), [1, 20]);
    assert.equal(sink.events.filter((e) => e.action === 'modbus.read_holding_registers').length, 1);
    for (const e of sink.events) assert.equal(parseEvent(e).ok, true, JSON.stringify(parseEvent(e)));
    assert.ok(countsAddUp(pipeline.counts()));
  });

  it('names the stored ids of evidence the queue wrote: each event of a write by its own sequence', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'evidence-queue-'));
    const queue = await LevelQueue.open({
      dir,
      gateway: 'gw-ev',
      maxRecordEvents: 100,
      flushIntervalMs: 1,
      sync: true,
    });
    try {
      const engine = buildRuleSet([READ_AT_9999], {}).engine;
      const pipeline = createPipeline({
        sink: queue,
        stages: (hooks) =>
          createStages(pipelineSchema.parse({ stages: [{ type: 'detect' }] }), {
            dataDir: dir,
            baselines: createBaselines({
              learningMs: 1,
              rangeMargin: 0.1,
              rateFactor: 10,
              minRatePerMin: 60,
            }),
            engine: () => engine,
            ...hooks,
          }),
        engine: () => engine,
      });
      // Two writes; the read the rule names is the fourth event of the second.
      await pipeline.emit(
        'proxy',
        [0, 1, 2].map((i) => modbus(T0 + i, { tid: i })),
        T0 + 2,
      );
      await pipeline.emit(
        'proxy',
        [3, 4, 5, 6, 7].map((i) =>
          modbus(T0 + i, { tid: i, ...(i === 6 && { address: 9999, quantity: 1 }) }),
        ),
        T0 + 7,
      );
      await pipeline.tick(T0 + 8, { final: true });
      const stored = (await Promise.all(LANES.map((l) => queue.read(l, null, 100)))).flat();
      const events = stored.flatMap((r) => r.events);
      const alert = events.find((e) => e.kind === 'alert');
      assert.ok(alert, 'the rule raised its alert');
      const named = events.find((e) => e.fields.address === 9999);
      assert.deepEqual(alert.fields.event_ids, [named!.id]);
      assert.equal(named!.id, 'gw-ev:7');
    } finally {
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a correlation over many summarised reads (a point scan) forwards the events it names', async () => {
    const { pipeline, sink } = buildPipeline({}, { rules: icsRules() });
    let t = T0;
    for (let a = 0; a < 600; a++, t += 20) {
      await pipeline.emit(
        'capture',
        [
          modbus(t, { master: '10.0.0.66', address: a, quantity: 1, tid: a }),
          modbus(t + 2, {
            master: '10.0.0.66',
            address: a,
            quantity: 1,
            tid: a,
            direction: 'response',
            values: [0],
          }),
        ],
        t + 2,
      );
    }
    await pipeline.tick(t + 120_000, { final: true });
    const scan = sink.events.filter((e) => e.kind === 'alert' && /point scan/i.test(e.message));
    assert.ok(scan.length >= 1, 'the scan raised its alert');
    const byId = new Map(sink.events.map((e) => [e.id, e]));
    for (const alert of scan) {
      const ids = alert.fields.event_ids as string[];
      assert.ok(ids.length > 0);
      for (const id of ids) {
        const e = byId.get(id);
        assert.ok(e, `evidence ${id} forwarded`);
        assert.equal(e.action, 'modbus.read_holding_registers');
        assert.equal(e.src?.ip, '10.0.0.66');
      }
    }
    // The scan is one summary per range for the first 16 ranges, then one for all the others.
    const summaries = sink.events.filter((e) => e.action === 'modbus.read_summary');
    assert.equal(summaries.length, 17);
    const others = summaries.find((e) => e.fields.ranges !== undefined)!;
    assert.deepEqual(
      [others.fields.ranges, others.fields.address_min, others.fields.address_max, others.fields.requests],
      [584, 16, 599, 584],
    );
    assert.equal(
      summaries.reduce((n, e) => n + (e.fields.requests as number), 0),
      600,
    );
    // What is forwarded one by one is only what an alert names.
    const reads = sink.events.filter((e) => e.action === 'modbus.read_holding_registers');
    assert.ok(reads.every((e) => e.tags.includes('evidence')));
    assert.ok(reads.length < 200, `${reads.length} reads forwarded as evidence`);
  });
});

describe('OT default: Modbus reads', () => {
  it('summarises reads per master, unit, function and range with counts, exceptions and response times; writes and exceptions go one by one', async () => {
    const { pipeline, sink } = buildPipeline({});
    let t = T0;
    for (let i = 0; i < 30; i++, t += 1000) {
      await pipeline.emit(
        'proxy',
        [modbus(t, { tid: i }), modbus(t + 4 + (i % 3), { tid: i, direction: 'response', values: [i, 1] })],
        t + 6,
      );
      await pipeline.emit('proxy', [modbus(t, { tid: 1000 + i, address: 100, quantity: 2 })], t);
      if (i % 10 === 9) {
        await pipeline.emit(
          'proxy',
          [modbus(t + 8, { tid: 1000 + i, address: 100, quantity: 2, direction: 'response', exception: 2 })],
          t + 8,
        );
      } else {
        await pipeline.emit(
          'proxy',
          [
            modbus(t + 8, {
              tid: 1000 + i,
              address: 100,
              quantity: 2,
              direction: 'response',
              values: [1, 2],
            }),
          ],
          t + 8,
        );
      }
    }
    await pipeline.emit('proxy', [modbus(t, { fc: 6, address: 5, quantity: 1, values: [3], tid: 7 })], t);
    await pipeline.tick(t + 60_000);
    const summaries = sink.events.filter((e) => e.action === 'modbus.read_summary');
    assert.equal(summaries.length, 2);
    const first = summaries.find((s) => s.fields.address === 0)!;
    assert.equal(first.fields.requests, 30);
    assert.equal(first.fields.responses, 30);
    assert.equal(first.fields.exceptions, 0);
    assert.deepEqual(first.fields.response_time_ms, { count: 30, min: 4, max: 6, avg: 5 });
    assert.deepEqual(first.fields.last_values, [29, 1]);
    assert.equal(first.src?.ip, '10.0.0.10');
    assert.equal(first.fields.master, '10.0.0.10');
    const second = summaries.find((s) => s.fields.address === 100)!;
    assert.equal(second.fields.requests, 30);
    assert.equal(second.fields.responses, 27);
    assert.equal(second.fields.exceptions, 3);
    assert.deepEqual(second.fields.exception_codes, { 2: 3 });
    assert.equal(sink.events.filter((e) => e.action === 'modbus.exception').length, 3);
    assert.equal(sink.events.filter((e) => e.action === 'modbus.write_single_register').length, 1);
    const counts = pipeline.counts();
    const reads = counts.find((c) => c.type === 'modbus_reads')!;
    assert.equal(reads.dropped, 30 * 4 - 3);
    assert.equal(reads.created, 2);
    for (const e of sink.events) assert.equal(parseEvent(e).ok, true);
  });

  it('a field device seen only answering that starts sending requests is a role change after learning', async () => {
    const { pipeline, sink } = buildPipeline({}, { rules: icsRules(), learningMs: 60_000 });
    let t = T0;
    // Learning: 10.0.0.10 polls the PLC 10.0.0.5, which answers.
    for (let i = 0; i < 90; i++, t += 1000)
      await pipeline.emit(
        'capture',
        [modbus(t, { tid: i }), modbus(t + 3, { tid: i, direction: 'response', values: [1] })],
        t + 3,
      );
    // The PLC writes a coil of another PLC.
    await pipeline.emit(
      'capture',
      [modbus(t, { master: '10.0.0.5', server: '10.0.0.7', fc: 5, address: 1, quantity: 1, tid: 1 })],
      t,
    );
    await pipeline.tick(t + 1, { final: true });
    const change = sink.events.filter((e) => e.action === 'baseline.role_change');
    assert.equal(change.length, 1);
    assert.equal(change[0]!.fields.peer, '10.0.0.5');
    const alert = sink.events.find((e) => e.kind === 'alert' && e.threat?.techniques.includes('T0848'));
    assert.ok(alert, 'the role change raised an alert');
    assert.ok(alert.threat!.techniques.includes('T0855'));
  });
});

describe('evidence ids', () => {
  const event = (i: number) => modbus(T0 + i, { tid: i });
  it('resolves the real ids of the last `max` observations; older ones are missing, named by observation id', () => {
    const evidence = createEvidence({ max: 10, prefix: 'obs-t-' });
    const events = Array.from({ length: 25 }, (_, i) => event(i));
    const ids = events.map((e) => evidence.idFor(e));
    assert.equal(new Set(ids).size, 25);
    assert.equal(evidence.idFor(events[3]!), ids[3], 'an event keeps its observation id');
    events.forEach((e, i) => evidence.queued(e, `gw:${i + 1}`));
    const { ids: resolved, forward } = evidence.resolve([ids[24]!, ids[15]!, ids[14]!, 'gw:7', 'obs-t-x']);
    assert.deepEqual(resolved, ['gw:25', 'gw:16', ids[14], 'gw:7', 'obs-t-x']);
    assert.deepEqual(forward, []);
    assert.equal(evidence.missing, 2);
  });

  it('forwards a held-back event once; settling an old one never displaces a newer real id', () => {
    const evidence = createEvidence({ max: 4, prefix: 'obs-u-' });
    const old = event(0);
    const oldId = evidence.idFor(old);
    evidence.heldBack(old);
    const newer = Array.from({ length: 6 }, (_, i) => event(i + 1));
    newer.forEach((e, i) => {
      evidence.idFor(e);
      evidence.queued(e, `gw:${i + 10}`);
    });
    const first = evidence.resolve([oldId]);
    assert.equal(first.forward[0]?.event, old);
    evidence.settle(oldId, idRange('gw', 99, 1), 0);
    // Observation 5 shares the ring slot of observation 1 (max 4) and keeps its real id.
    assert.deepEqual(evidence.resolve([evidence.idFor(newer[3]!)]).ids, ['gw:13']);
  });
});
