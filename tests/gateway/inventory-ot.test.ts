/**
 * The inventory takes the identity OT devices give after their first event: an S7 controller's
 * serial and station name from an SZL answer, a BACnet device instance from I-Am, an OPC UA
 * server's application URI from its endpoints, and a DNP3 outstation's link address from the
 * start. Real traces through replay, observed as the pipeline would.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replayFiles } from '../../gateway/replay/index.ts';
import { Inventory } from '../../gateway/inventory/index.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { sharedData } from '../support/env.ts';

async function inventoryOf(file: string): Promise<Inventory> {
  const events: Event[] = [];
  await replayFiles([file], { write: (l) => events.push(JSON.parse(l) as Event) });
  const inventory = Inventory.inMemory({ maxDevices: 1000 });
  for (const e of events) inventory.observe(e, new Date(e.ts));
  return inventory;
}

test('S7 (snap7.pcap): serial and station name, learnt from the SZL answer after the first event', async (t) => {
  const pcap = sharedData(t, 's7comm', 'icsnpp', 'snap7.pcap');
  if (!pcap) return;
  const plc = (await inventoryOf(pcap)).get('s7comm:134.217.61.211');
  assert.deepEqual([plc?.protocol_id, plc?.name], ['S C-B1U393142011', 'S7300/ET200M station_1']);
  assert.deepEqual(
    (await inventoryOf(pcap)).list({ q: 'et200m' }).map((d) => d.id),
    ['s7comm:134.217.61.211'],
  );
});

test('BACnet (bacnet_example.pcap): device instance from I-Am; OPC UA: application URI; DNP3: address', async (t) => {
  const bacnet = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_example.pcap');
  const opcua = sharedData(t, 'opcua', 'icsnpp', 'open62541_client-server_mainloop.pcap');
  const dnp3 = sharedData(t, 'dnp3', 'zeek', 'dnp3.pcap');
  if (!bacnet || !opcua || !dnp3) return;
  assert.equal((await inventoryOf(bacnet)).get('bacnet:172.20.32.108:47808')?.protocol_id, '721');
  assert.equal(
    (await inventoryOf(opcua)).get('opcua:::1:4840')?.protocol_id,
    'urn:open62541.server.application',
  );
  const outstation = (await inventoryOf(dnp3)).get('dnp3:10.0.0.3/4');
  assert.equal(outstation?.protocol_id, '4');
  assert.equal(outstation?.name, undefined);
});
