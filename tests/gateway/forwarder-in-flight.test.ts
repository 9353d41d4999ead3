/**
 * The forwarder's batches in flight keep what their ack deletes (each record's key, lane and
 * counts), not the records' bytes (issue 18 ask 3): bytes read back from disk, when the backlog is
 * past the queue's in-memory tail, die once the frame is sent instead of living in V8's old space
 * until central acks. And the ack still deletes exactly the batch's records, counted once.
 * Central is a bare WebSocket server speaking the link (protocols/link/SPEC.md) that acks on demand.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { Forwarder } from '../../gateway/forwarder/index.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import { LevelQueue, type QueueRecord } from '../../gateway/queue/leveldb-queue.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { waitFor } from '../support/env.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const event = (k: number): PendingEvent => ({
  ts: '2026-12-06T00:00:00.000Z',
  received: '2026-12-06T00:00:00.000Z',
  source: 'syslog',
  kind: 'telemetry',
  action: 'syslog.message',
  severity: 6,
  message: `line ${k} ${'x'.repeat(200)}`,
  fields: {},
  tags: [],
});

/** A central that welcomes any gateway, records the batches and acks only when told. */
async function fakeCentral() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const batches: Array<{ batch_id: number; events: unknown[] }> = [];
  let socket: import('ws').WebSocket | undefined;
  wss.on('connection', (ws) => {
    socket = ws;
    ws.send(JSON.stringify({ type: 'challenge', v: 1, nonce: 'n'.repeat(43) }));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; batch_id: number; events: unknown[] };
      if (m.type === 'hello')
        ws.send(
          JSON.stringify({
            type: 'welcome',
            v: 1,
            central_time: Date.now(),
            max_batch_events: 1000,
            heartbeat_interval_ms: 60_000,
          }),
        );
      if (m.type === 'batch') batches.push(m);
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`,
    batches,
    ack(batchId: number, inserted: number) {
      socket!.send(JSON.stringify({ type: 'ack', batch_id: batchId, inserted, duplicates: 0, rejected: 0 }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

describe('forwarder batches in flight', () => {
  it('keep no record bytes read from disk until the ack, and the ack deletes the batch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fwd-in-flight-'));
    dirs.push(dir);
    const options = { dir, gateway: 'gw-f', maxRecordEvents: 50, flushIntervalMs: 0, sync: false };
    const first = await LevelQueue.open(options);
    await first.append(Array.from({ length: 200 }, (_, k) => event(k)));
    await first.close();
    // Reopened, the queue's tail is empty: every record is read back from disk.
    const queue = await LevelQueue.open(options);
    const read = queue.read.bind(queue);
    const refs: Array<WeakRef<Uint8Array>> = [];
    queue.read = async (...args: Parameters<LevelQueue['read']>): Promise<QueueRecord[]> => {
      const records = await read(...args);
      for (const r of records) refs.push(new WeakRef(r.data));
      return records;
    };
    const central = await fakeCentral();
    const { privateKey } = generateKeyPairSync('ed25519');
    const forwarder = new Forwarder({
      endpoints: [central.url],
      failback: { intervalMs: 60_000, healthyChecks: 3 },
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      gateway: 'gw-f',
      batchMaxEvents: 1000,
      batchMaxBytes: 4 * 1024 * 1024,
      maxInFlight: 4,
      heartbeatIntervalMs: 60_000,
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      queue,
      metrics: createGatewayMetrics('gw-f', { processMetrics: false }),
      logger: pino({ level: 'silent' }),
      software: 'test',
    });
    try {
      forwarder.start();
      await waitFor(() => (central.batches.length > 0 ? true : undefined), { what: 'a batch' });
      assert.equal(central.batches[0]!.events.length, 200);
      assert.ok(refs.length >= 4, 'the records were read from disk');
      // Unacked, in flight: the bytes read are no longer needed (a WeakRef lives to the end of its job).
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'no record bytes kept in flight');
      assert.equal(queue.depth.events, 200);
      central.ack(central.batches[0]!.batch_id, 200);
      await waitFor(() => (queue.depth.events === 0 ? true : undefined), { what: 'the ack’s delete' });
      assert.deepEqual(await queue.read('telemetry', null, 10), []);
      assert.equal(queue.depth.bytes, 0);
    } finally {
      await forwarder.stop();
      await central.close();
      await queue.close();
    }
  });
});
