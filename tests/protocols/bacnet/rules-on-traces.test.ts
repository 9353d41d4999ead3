/**
 * The shipped BACnet rules (rules/ics/bacnet-*.yml) over the real ICSNPP captures, decoded by the
 * BACnet event stream exactly as a capture source would feed the pipeline: each rule fires on the
 * frames it is written for and nowhere else, and the benign trace (a workstation discovering
 * devices and reading an object list in segments) raises nothing. Which frames each rule matched
 * is asserted by frame number, so a rule that starts matching more (or less) fails here.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadDetection } from '../../../gateway/detection/index.ts';
import { createBacnetEventStream } from '../../../protocols/bacnet/index.ts';
import { EVENT_SCHEMA_VERSION, type Event } from '../../../protocols/event/schema.ts';
import { REPO_ROOT, sharedData } from '../../support/env.ts';
import { readTrace } from './trace.ts';

function alertsOn(file: string): Map<string, number[]> {
  const loaded = loadDetection({ rulesDirs: [path.join(REPO_ROOT, 'rules', 'ics')] });
  assert.deepEqual(loaded.errors, []);
  const engine = loaded.engine;
  const stream = createBacnetEventStream();
  const hits = new Map<string, number[]>();
  let seq = 0;
  for (const f of readTrace(file, new Set([47808, 47809]))) {
    const extra = { frame: f.number };
    const pending =
      f.link === 'ip'
        ? stream.datagram(
            { src: f.src!, srcPort: f.srcPort!, dst: f.dst!, dstPort: f.dstPort!, payload: f.payload },
            f.ts,
            f.ts,
            extra,
          )
        : stream.llc(f.payload, 'llc-src', 'llc-dst', f.ts, f.ts, extra);
    for (const p of pending) {
      seq += 1;
      const e: Event = { v: EVENT_SCHEMA_VERSION, id: `gw:${seq}`, gateway: 'gw', seq, ...p };
      for (const m of engine.ruleSet.match(e)) {
        const title = m.rule.title;
        if (m.rule.level === 'informational') continue;
        hits.set(title, [...(hits.get(title) ?? []), f.number]);
      }
      engine.process(e, f.ts.getTime());
    }
  }
  return hits;
}

const summary = (hits: Map<string, number[]>) =>
  Object.fromEntries([...hits].map(([t, frames]) => [t, frames.length]));

describe('BACnet rules on the ICSNPP captures', () => {
  it('bacnet_segmented_data (discovery, a segmented object-list read): silent', (t) => {
    const file = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_segmented_data.pcap');
    if (!file) return;
    assert.deepEqual(summary(alertsOn(file)), {});
  });

  it('bacnet_example: the 120 reinitializeDevice requests, nothing else', (t) => {
    const file = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_example.pcap');
    if (!file) return;
    assert.deepEqual(summary(alertsOn(file)), { 'BACnet reinitialize device': 120 });
  });

  it('bacnet_services: 4 reinitializeDevice, 2 communication-control disables', (t) => {
    const file = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_services.pcap');
    if (!file) return;
    const hits = alertsOn(file);
    assert.deepEqual(summary(hits), {
      'BACnet reinitialize device': 4,
      'BACnet device communication control disabling a device': 2,
    });
    // Invoke ids 132 and 133 disable (one with a 1-minute duration); 134 and 135 re-enable.
    assert.deepEqual(hits.get('BACnet device communication control disabling a device'), [265, 267]);
  });

  it('bacnet_error_reject_abort: one of each service, so each device rule once', (t) => {
    const file = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_error_reject_abort.pcap');
    if (!file) return;
    // Its writeProperty writes present-value (ICSNPP's property log), not out-of-service.
    assert.deepEqual(summary(alertsOn(file)), {
      'BACnet reinitialize device': 1,
      'BACnet device communication control disabling a device': 1,
    });
  });
});
