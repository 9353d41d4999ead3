/**
 * Issue 15 item 6: the Modbus proxy's per-connection flow control. A raw master pipelines
 * thousands of FC 3 requests; the proxy must stop reading while the pipeline holds its events
 * (emit() not resolved) and while max_outstanding_requests requests wait for the PLC, so a
 * bounded number reach the PLC; once the pipeline or the PLC catches up, every request is
 * forwarded and answered, and every one is an event (nothing dropped).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { waitFor } from '../../../support/env.ts';
import { recordingContext } from '../support.ts';
import { floodRequests, type RecordingPlc, startProxy, startRecordingPlc } from './plc.ts';

const cleanup: Array<{ stop(): Promise<void> } | RecordingPlc> = [];
after(async () => {
  for (const c of cleanup.reverse()) await ('close' in c ? c.close() : (c as Source).stop());
});

/**
 * Waits until `read()` has not changed for `quietMs` over at least ten polls (a busy event loop
 * delays polls; a stretch of time without polls proves nothing): how far the proxy goes before
 * it stops.
 */
async function settled(read: () => number, quietMs = 400): Promise<number> {
  let last = read();
  let since = Date.now();
  let polls = 0;
  return waitFor(
    () => {
      const now = read();
      polls += 1;
      if (now !== last) {
        last = now;
        since = Date.now();
        polls = 0;
        return undefined;
      }
      return Date.now() - since >= quietMs && polls >= 10 ? now : undefined;
    },
    { what: 'the count to settle', timeoutMs: 20_000, intervalMs: 40 },
  );
}

const count = (ctx: ReturnType<typeof recordingContext>, direction: string) =>
  ctx.events.filter((e) => e.action === 'modbus.read_holding_registers' && e.fields.direction === direction)
    .length;

test('while the pipeline is behind the proxy stops reading; once it catches up every request is forwarded and an event', async () => {
  const plc = await startRecordingPlc({ record: false });
  cleanup.push(plc);
  const ctx = recordingContext();
  ctx.hold = true;
  const { source, port } = await startProxy(plc.port, {}, ctx);
  cleanup.push(source);
  const N = 20_000;
  const flood = await floodRequests(port, N);
  const forwarded = await settled(() => plc.requests);
  assert.ok(
    forwarded > 0 && forwarded < 2000,
    `${forwarded} of ${N} requests forwarded while the pipeline held`,
  );
  // Responses wait in the PLC's socket too while events are behind; nothing is durable yet.
  assert.ok(flood.answers() <= forwarded);
  assert.equal(ctx.events.length, 0);
  ctx.release();
  await waitFor(() => (flood.answers() === N ? true : undefined), { what: 'all answers', timeoutMs: 60_000 });
  await waitFor(() => (count(ctx, 'response') === N ? true : undefined), { what: 'all events' });
  assert.equal(plc.requests, N);
  assert.equal(count(ctx, 'request'), N, 'one event per request');
  assert.equal(ctx.events.length, 2 * N, 'and nothing else');
  flood.socket.destroy();
});

test('at most max_outstanding_requests requests wait for the PLC', async () => {
  const plc = await startRecordingPlc({ record: false });
  cleanup.push(plc);
  plc.hold = true;
  const { source, ctx, port } = await startProxy(plc.port, { max_outstanding_requests: 4 });
  cleanup.push(source);
  const flood = await floodRequests(port, 100);
  assert.equal(await settled(() => plc.requests), 4);
  plc.release();
  await waitFor(() => (flood.answers() === 100 ? true : undefined), { what: 'all answers' });
  await waitFor(() => (count(ctx, 'response') === 100 ? true : undefined), { what: 'all events' });
  assert.equal(count(ctx, 'request'), 100);
  flood.socket.destroy();
});

test('a request the PLC never answers stops counting after response_timeout_secs', async () => {
  const plc = await startRecordingPlc({ record: false });
  cleanup.push(plc);
  plc.hold = true;
  const { source, ctx, port } = await startProxy(plc.port, {
    max_outstanding_requests: 2,
    response_timeout_secs: 0.2,
  });
  cleanup.push(source);
  const flood = await floodRequests(port, 6);
  await waitFor(() => (plc.requests === 6 ? true : undefined), { what: 'all six forwarded' });
  const metric = await ctx.metrics.errors.get();
  const timeouts = metric.values
    .filter((v) => v.labels.code === 'response_timeout')
    .reduce((sum, v) => sum + v.value, 0);
  assert.ok(timeouts >= 4, `${timeouts} response timeouts counted`);
  plc.release();
  await waitFor(() => (flood.answers() === 6 ? true : undefined), { what: 'the late answers' });
  flood.socket.destroy();
});
