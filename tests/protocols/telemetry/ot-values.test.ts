/**
 * The values the baselines learn ranges of and the dashboard charts, for the OT protocols the
 * capture decoder follows, on real traces through replay: DNP3 analog readings from responses
 * (named `<table>[<index>]`), BACnet present values read from a device (named after the object),
 * OPC UA values written to a node's Value attribute (named after the node id). Requests to read
 * and other properties carry none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Event } from '../../../protocols/event/schema.ts';
import { eventValues } from '../../../protocols/telemetry/values.ts';
import { replayFiles } from '../../../gateway/replay/index.ts';
import { sharedData } from '../../support/env.ts';

async function replayed(file: string): Promise<Event[]> {
  const events: Event[] = [];
  await replayFiles([file], { write: (l) => events.push(JSON.parse(l) as Event) });
  return events;
}

test('DNP3 (ICSNPP dnp3_example.pcap): point values of responses, none from read requests', async (t) => {
  const pcap = sharedData(t, 'dnp3', 'icsnpp', 'dnp3_example.pcap');
  if (!pcap) return;
  const events = await replayed(pcap);
  const withValues = events.filter((e) => eventValues(e).length > 0);
  assert.ok(withValues.length > 0);
  assert.ok(events.filter((e) => e.action === 'dnp3.read').every((e) => eventValues(e).length === 0));
  for (const e of withValues) {
    for (const v of eventValues(e)) assert.match(v.name, /^[a-z_]+\[\d+\]$/);
    assert.ok(eventValues(e).length <= 64);
  }
});

test('BACnet (ICSNPP bacnet_example.pcap): present values read back, named after the object', async (t) => {
  const pcap = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_example.pcap');
  if (!pcap) return;
  const events = await replayed(pcap);
  const first = events.find((e) => e.fields.frame === 10)!;
  assert.deepEqual(eventValues(first), [{ name: 'analog_input:1', value: 60.092586517333984 }]);
  const answers = events.filter(
    (e) =>
      e.action === 'bacnet.read_property' &&
      e.fields.direction === 'response' &&
      typeof e.fields.value === 'number',
  );
  const read = (e: Event) => eventValues(e).length > 0;
  assert.ok(answers.filter((e) => e.fields.property === 'present_value').every(read));
  assert.ok(!answers.filter((e) => e.fields.property !== 'present_value').some(read));
  assert.ok(!events.filter((e) => e.fields.direction === 'request').some(read));
});

test('OPC UA (open62541 mainloop): the value written to ns=1;s=the.answer, from the request only', async (t) => {
  const pcap = sharedData(t, 'opcua', 'icsnpp', 'open62541_client-server_mainloop.pcap');
  if (!pcap) return;
  const events = await replayed(pcap);
  const writes = events.filter((e) => e.action === 'opcua.write');
  assert.deepEqual(
    writes.map((e) => [e.fields.frame, eventValues(e)]),
    [
      [93, [{ name: 'ns=1;s=the.answer', value: 1 }]],
      [95, []],
      [97, [{ name: 'ns=1;s=the.answer', value: 2 }]],
      [99, []],
    ],
  );
});
