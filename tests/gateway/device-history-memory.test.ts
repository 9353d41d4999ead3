/**
 * The device dashboard's history of recent events, by memory: it runs for every queued event and
 * keeps `eventsPerDevice` of them per device, each living `eventsPerDevice × devices` events (2,500
 * on a 50-host syslog feed), long enough to be copied to old space. Measured, not counted: the
 * heap after a full collection with the history holding its events, less the heap before, per
 * kept event. A summary object per event cost 141-155 bytes here; kept as 9 slots of a per-device
 * ring (72 bytes), 73-81. With the events dropped, as the pipeline drops them, each kept message
 * was a string of the heap too: 234 bytes per kept event; kept as UTF-8 outside it, 87 (issue 18).
 * What the dashboard reads back is unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { createDeviceHistory } from '../../gateway/http/device-series.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const OPTIONS = { pointsPerValue: 10, maxValues: 10, eventsPerDevice: 50, maxDevices: 1000, maxAlerts: 10 };
const DEVICES = 600;
const TS = '2026-03-01T10:00:00.000Z';

/** Events as a syslog source makes them: ts and received shared across a read, one message each. */
function feed(count: number, tagged = true): Array<PendingEvent & { id: string }> {
  const out: Array<PendingEvent & { id: string }> = [];
  for (let i = 0; i < count; i++) {
    out.push({
      ts: TS,
      received: TS,
      time_source: 'device',
      source: 'syslog',
      kind: 'security',
      action: 'syslog.message',
      severity: i % 8,
      message: `Failed password for invalid user admin from 10.0.0.${i % 250} port ${40000 + i} ssh2`,
      device: { id: `plc-${i % DEVICES}` },
      fields: {},
      tags: tagged && i % 3 === 0 ? ['auth', 'ssh'] : [],
      id: `gw-1:${i}`,
    } as PendingEvent & { id: string });
  }
  return out;
}

/**
 * Feeds events as the pipeline hands them over (no id yet, a message of its own each) from a frame of
 * its own, so that nothing but the history can keep them once it returns.
 */
function observeFresh(history: ReturnType<typeof createDeviceHistory>, count: number): void {
  const events = feed(count, false);
  for (const e of events) delete (e as { id?: string }).id;
  history.observe(events);
}

describe('device history memory', () => {
  it('keeps a device’s recent events in under 110 bytes each besides their strings', () => {
    const kept = DEVICES * OPTIONS.eventsPerDevice;
    const events = feed(kept, false); // a tagged event's tags are copied (up to 8), as before
    // A first history warms the code up (its compiled code and feedback are not the history's);
    // it is kept, as a dropped one is not always all collected by the next full collection.
    const warm = createDeviceHistory(OPTIONS);
    warm.observe(events);
    const before = heapUsed();
    const history = createDeviceHistory(OPTIONS);
    history.observe(events);
    const perEvent = (heapUsed() - before) / kept;
    for (const h of [warm, history]) assert.equal(h.events('plc-0').length, OPTIONS.eventsPerDevice);
    assert.ok(perEvent < 110, `${perEvent.toFixed(1)} bytes per kept event`);
  });

  it('keeps their messages outside the heap: the events dropped, a kept event costs under 120 bytes', () => {
    const kept = DEVICES * OPTIONS.eventsPerDevice;
    const warm = createDeviceHistory(OPTIONS);
    warm.observe(feed(kept, false));
    const before = heapUsed();
    const history = createDeviceHistory(OPTIONS);
    observeFresh(history, kept);
    const perEvent = (heapUsed() - before) / kept;
    assert.equal(history.events('plc-1').length, OPTIONS.eventsPerDevice);
    assert.match(history.events('plc-1')[0]!.message, /^Failed password .* port \d+ ssh2$/);
    assert.ok(perEvent < 120, `${perEvent.toFixed(1)} bytes per kept event`);
  });

  it('reads back each device’s last events, newest first, as the events said them', () => {
    const history = createDeviceHistory({ ...OPTIONS, eventsPerDevice: 5 });
    const events = feed(DEVICES * 7 + 3);
    // Long messages are cut, and a device's ring is read across its wrap.
    events[DEVICES * 6]!.message = 'x'.repeat(400);
    history.observe(events);
    for (const device of ['plc-0', 'plc-1', 'plc-3', `plc-${DEVICES - 1}`]) {
      const own = events.filter((e) => e.device?.id === device).slice(-5);
      const expected = own.reverse().map((e) => ({
        ts: e.ts,
        received: e.received,
        source: e.source,
        kind: e.kind,
        action: e.action,
        severity: e.severity,
        message: e.message.length > 300 ? `${e.message.slice(0, 300)}…` : e.message,
        tags: e.tags,
        id: e.id,
        device,
      }));
      assert.deepEqual(history.events(device), expected);
      assert.deepEqual(
        history.events(device).map((e) => Object.keys(e)),
        expected.map((e) => Object.keys(e)),
      );
      assert.deepEqual(history.events(device, 2), expected.slice(0, 2));
    }
    assert.equal(history.events('plc-0')[1]!.message.length, 301);
  });
});
