/**
 * The dedupe stage's memory under a stream of lines that never repeat (the soak's syslog load, or
 * any busy plant): each open window holds its first event, and a gateway runs in a 64 MB heap.
 * Measured, not counted: the heap after a full collection, with the stage holding what it holds,
 * less the heap before. Before the byte bound, the default `routine_syslog` dedupe held 10,000
 * events (about 10 MB here, 9.7 MB in the soak's heap snapshot) all the time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { parseSyslog, syslogToEvent } from '../../../protocols/syslog/index.ts';
import { DEFAULT_STAGES } from '../../../gateway/pipeline/config.ts';
import { createDedupeStage } from '../../../gateway/pipeline/stages/dedupe.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** What the stage may hold: its 2 MB estimate, with room for the estimate being an estimate. */
const BUDGET_BYTES = 4 * 1024 * 1024;
const T0 = Date.parse('2026-03-01T10:00:00Z');

/** A line in the shape of the soak's load: every one different. */
function line(i: number): PendingEvent {
  const now = new Date(T0 + i);
  const text = `<134>1 ${now.toISOString()} plc-${String(i % 20).padStart(2, '0')} historian 4711 - - tank level ${(i % 1000) / 10} % line 2 soak=T1.${i}`;
  const parsed = parseSyslog(text, { now });
  assert.ok(parsed.ok);
  return syslogToEvent(parsed.message, {
    received: now,
    peer: { ip: '127.0.0.1', port: 40000 },
    transport: 'tcp',
  });
}

describe('dedupe stage memory', () => {
  it('holds a bounded number of bytes however many distinct lines pass', () => {
    const config = DEFAULT_STAGES.find((s) => s.type === 'dedupe') as {
      fields: string[];
      window_secs: number;
    };
    let emitted = 0;
    const ctx = { nowMs: T0, emit: () => void emitted++ };
    const before = heapUsed();
    const stage = createDedupeStage({
      name: 'routine_syslog',
      matches: () => true,
      fields: config.fields,
      windowSecs: config.window_secs,
    });
    const n = 30_000;
    for (let i = 0; i < n; i++) {
      ctx.nowMs = T0 + i; // 30 s of the event clock: no window is due
      assert.ok(stage.process(line(i), ctx), 'a first sight goes on');
    }
    const held = heapUsed() - before;
    assert.ok(
      held < BUDGET_BYTES,
      `the stage holds ${(held / 1048576).toFixed(1)} MB after ${n} distinct lines (budget ${BUDGET_BYTES / 1048576} MB)`,
    );
    assert.equal(emitted, 0, 'windows closed early without repeats emit nothing');
    // Still a dedupe: the most recent line repeated is counted, not forwarded.
    const last = line(n - 1);
    assert.equal(stage.process(last, ctx), null);
    stage.flush!(ctx, true);
    assert.equal(emitted, 1, 'one count event for the repeat');
  });
});
