/**
 * The EtherNet/IP rules of rules/ics/enip-cip.yml over real traffic: the icsnpp-enip traces go
 * through the project's pcap reader, TCP reassembly and the EtherNet/IP codec (as a capture source
 * wires it, tests/protocols/enip/trace.ts), then through the gateway's detection engine by the
 * capture's own clock. The benign explicit-messaging, List Identity and I/O capture raises nothing;
 * the Set_Attribute_Single to the Identity class raises its rule; a List Identity sweep built from
 * the codec's own frames raises the scan correlation.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadDetection } from '../../gateway/detection/index.ts';
import { enipToEvents, decodeEncap } from '../../protocols/enip/index.ts';
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../../protocols/event/schema.ts';
import type { SigmaAlert } from '../../protocols/sigma/index.ts';
import { encap } from '../protocols/enip/frames.ts';
import { readEnipTrace } from '../protocols/enip/trace.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';

const RULES = path.join(REPO_ROOT, 'rules', 'ics');

function detect(pending: PendingEvent[]): SigmaAlert[] {
  const loaded = loadDetection({ rulesDirs: [RULES] });
  assert.deepEqual(loaded.errors, []);
  const alerts: SigmaAlert[] = [];
  pending.forEach((p, i) => {
    const event: Event = { v: EVENT_SCHEMA_VERSION, id: `gw:${i + 1}`, gateway: 'gw', seq: i + 1, ...p };
    alerts.push(...loaded.engine.process(event, Date.parse(event.ts)));
  });
  alerts.push(...loaded.engine.flush());
  return alerts.filter((a) => a.level !== 'informational');
}

const titles = (alerts: SigmaAlert[]) => [...new Set(alerts.map((a) => a.rule.title))].sort();

describe('EtherNet/IP rules on captures', () => {
  it('stay silent on the benign icsnpp capture (explicit messaging, List Identity, I/O)', (t) => {
    const file = sharedData(t, 'enip', 'icsnpp', 'enip_cip_example.pcap');
    if (!file) return;
    const trace = readEnipTrace(file);
    assert.equal(trace.events.length, 1558);
    assert.deepEqual(titles(detect(trace.events)), []);
  });

  it('Set_Attribute_Single to the Identity class raises its rule', (t) => {
    const file = sharedData(t, 'enip', 'icsnpp', 'set_attribute_single_service_cip.pcapng');
    if (!file) return;
    const alerts = detect(readEnipTrace(file).events);
    assert.deepEqual(titles(alerts), ['CIP Set_Attribute on the Identity object']);
    assert.deepEqual(alerts[0]?.techniques, ['T0855', 'T0836']);
  });

  it('a List Identity sweep over a /24 raises the scan correlation', () => {
    const t0 = Date.parse('2026-12-05T10:00:00Z');
    const request = decodeEncap(encap(0x63, [], 0));
    assert.ok(request.ok);
    const events = Array.from({ length: 8 }, (_, i) =>
      enipToEvents(request.value, 'request', {
        received: new Date(t0 + i * 200),
        client: { ip: '10.0.9.66', port: 40000 + i },
        server: { ip: `10.0.20.${i + 1}`, port: 44818 },
      }),
    ).flat();
    assert.deepEqual(titles(detect(events)), [
      'EtherNet/IP List Identity scan (many devices from one source)',
    ]);
  });
});
