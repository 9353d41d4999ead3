/**
 * A running gateway reports each pipeline stage's counts under its name: in `/metrics`
 * (siem_gateway_pipeline_events_total by stage and outcome, siem_gateway_pipeline_dropped_total
 * by stage and reason) and in `/api/status` (`pipeline.stages`, which the device dashboard shows);
 * on a graceful stop what the stages hold is released into the queue, so nothing is lost.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { gatewayConfigSchema } from '../../../gateway/config/schema.ts';
import { startGateway } from '../../../gateway/index.ts';
import { LevelQueue } from '../../../gateway/queue/leveldb-queue.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { modbus, T0 } from './support.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'pipeline-gw-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('per-stage counts in /metrics and /api/status; held summaries are queued on stop', async () => {
  const config = gatewayConfigSchema.parse({
    gateway: { id: 'gw-stages', data_dir: dir },
    sources: {},
    central: { endpoint: 'ws://127.0.0.1:9/link', initial_backoff_secs: 5, max_backoff_secs: 5 },
    http: { listen: '127.0.0.1:0' },
  });
  const privateKey = generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const gateway = await startGateway(config, {
    privateKey,
    logger: pino({ level: 'silent' }),
    processMetrics: false,
    printSecret: () => undefined,
  });
  let stopped = false;
  try {
    const now = Date.now();
    for (let i = 0; i < 10; i++)
      await gateway.ingest('plc_proxy', [
        modbus(now + i, { tid: i }),
        modbus(now + i + 1, { tid: i, direction: 'response', values: [i] }),
      ]);
    await gateway.ingest('plc_proxy', [
      modbus(now, { fc: 6, address: 3, quantity: 1, values: [1], tid: 50 }),
    ]);
    const metrics = await (await fetch(`${gateway.httpUrl()}/metrics`)).text();
    const sample = (labels: string) =>
      Number(
        new RegExp(`^siem_gateway_pipeline_events_total\\{[^}]*${labels}[^}]*\\} (\\d+)`, 'm').exec(
          metrics,
        )?.[1],
      );
    // 21 Modbus events and the inventory's gateway.new_device for the PLC.
    assert.equal(sample('stage="modbus_reads",type="modbus_reads",outcome="in"'), 22);
    assert.equal(sample('stage="modbus_reads",type="modbus_reads",outcome="dropped"'), 20);
    assert.equal(sample('stage="forward",type="forward",outcome="out"'), 2, 'the write and its new device');
    assert.match(
      metrics,
      /^siem_gateway_pipeline_dropped_total\{[^}]*stage="modbus_reads",reason="aggregated"[^}]*\} 20$/m,
    );
    const status = await gateway.status();
    assert.equal(status.pipeline?.forward, 'all');
    const reads = status.pipeline?.stages.find((s) => s.name === 'modbus_reads');
    assert.deepEqual(reads, {
      name: 'modbus_reads',
      type: 'modbus_reads',
      in: 22,
      out: 2,
      dropped: 20,
      created: 0,
      drop_reason: 'aggregated',
    });
    await gateway.stop();
    stopped = true;
  } finally {
    if (!stopped) await gateway.stop();
  }
  // The summary held when the gateway stopped is in the queue.
  const queue = await LevelQueue.open({
    dir: path.join(dir, 'queue'),
    gateway: 'gw-stages',
    maxRecordEvents: 200,
    flushIntervalMs: 0,
    sync: false,
  });
  const events: Event[] = [];
  for (const r of await queue.read('telemetry', null, 100)) events.push(...r.events);
  await queue.close();
  const summary = events.find((e) => e.action === 'modbus.read_summary');
  assert.ok(summary, 'the open summary was released on stop');
  assert.equal(summary.fields.requests, 10);
  void T0;
});
