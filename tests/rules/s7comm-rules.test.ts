/**
 * The S7comm rules (rules/ics/s7comm-*.yml) over real captures, decoded by protocols/s7comm the
 * way the capture source will (tests/protocols/s7comm/trace.ts) and run through the whole ics
 * ruleset by the capture's own clock: Snap7's client session (stop, start, uploads, four SZL ids)
 * and an s7ident scan raise the alerts they should, naming the frames; the HMI traffic of the
 * S7comm-plus capture (read/write var, S7comm-plus) raises none.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadDetection } from '../../gateway/detection/index.ts';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import { s7commToEvent } from '../../protocols/s7comm/index.ts';
import type { SigmaAlert } from '../../protocols/sigma/index.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';
import { decodeTrace } from '../protocols/s7comm/trace.ts';

/** The alerts of the whole ics ruleset (informational ones left out), with the frames of their events. */
function alertsOf(file: string): string[] {
  const loaded = loadDetection({ rulesDirs: [path.join(REPO_ROOT, 'rules', 'ics')] });
  assert.deepEqual(loaded.errors, []);
  const engine = loaded.engine;
  const tr = decodeTrace(file);
  const alerts: SigmaAlert[] = [];
  const frameOf = new Map<string, number>();
  let seq = 0;
  for (const m of tr.messages) {
    const ts = tr.times.get(m.meta)!;
    const pending = s7commToEvent(m, {
      received: ts,
      ...tr.peers.get(tr.connOf.get(m)!)!,
      extra: { frame: m.meta },
    });
    seq++;
    const event: Event = { v: EVENT_SCHEMA_VERSION, id: `gw:${seq}`, gateway: 'gw', seq, ...pending };
    frameOf.set(event.id, m.meta);
    alerts.push(...engine.process(event, ts.getTime()));
  }
  alerts.push(...engine.flush());
  return alerts
    .filter((a) => a.level !== 'informational')
    .map(
      (a) =>
        `${a.kind} ${a.rule.title} [${a.techniques.join(',')}] x${a.count} frames ${a.event_ids.map((id) => frameOf.get(id)).join(',')}`,
    )
    .sort();
}

describe('S7comm rules on real captures', () => {
  it("flags Snap7's stop, start, uploads and SZL enumeration, naming the frames", (t) => {
    const file = sharedData(t, 's7comm', 'icsnpp', 'snap7.pcap');
    if (!file) return;
    // Frame 7 is the client's follow-up for the rest of the 0x001c answer: it names no SZL id.
    assert.deepEqual(alertsOf(file), [
      'new Siemens S7 CPU started or restarted over the network (PI service P_PROGRAM) [T0858] x1 frames 63',
      'new Siemens S7 CPU stopped over the network (S7comm PLC stop) [T0881,T0858] x1 frames 57',
      'new Siemens S7 SZL enumeration (several system status lists read by one host) [T0888] x1 frames 3,5,9',
      'new Siemens S7 program upload (blocks read from the controller) [T0845] x1 frames 17',
      'update Siemens S7 program upload (blocks read from the controller) [T0845] x5 frames 17,25,31,37,43',
    ]);
  });

  it('flags the s7ident scan: SZL enumeration and four refused uploads of SDB0', (t) => {
    const file = sharedData(t, 's7comm', 'icsnpp', 's7ident.pcap');
    if (!file) return;
    assert.deepEqual(alertsOf(file), [
      'new Siemens S7 SZL enumeration (several system status lists read by one host) [T0888] x1 frames 10,12,14',
      'new Siemens S7 program upload (blocks read from the controller) [T0845] x1 frames 20',
      'update Siemens S7 program upload (blocks read from the controller) [T0845] x4 frames 20,22,25,28',
    ]);
  });

  it('stays silent on the HMI and S7comm-plus traffic of s7comm_plus.pcap', (t) => {
    const file = sharedData(t, 's7comm', 'icsnpp', 's7comm_plus.pcap');
    if (!file) return;
    assert.deepEqual(alertsOf(file), []);
  });
});
