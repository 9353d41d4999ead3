/**
 * What an OT device's protocol says it is, kept on its inventory record (`identity`) for the
 * device dashboard: an S7 controller's module, order number, firmware and serial from its SZL
 * answers, a CIP adapter's Identity object from List Identity, BACnet vendors from I-Am, an OPC UA
 * server's application URI and endpoint, a DNP3 outstation's address. Real traces through replay,
 * observed as the pipeline would; then the bounds (at most 16 fields, 128 characters each).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replayFiles } from '../../gateway/replay/index.ts';
import { Inventory } from '../../gateway/inventory/index.ts';
import type { Event, PendingEvent } from '../../protocols/event/schema.ts';
import { sharedData } from '../support/env.ts';

async function inventoryOf(file: string): Promise<Inventory> {
  const events: Event[] = [];
  await replayFiles([file], { write: (l) => events.push(JSON.parse(l) as Event) });
  const inventory = Inventory.inMemory({ maxDevices: 1000 });
  for (const e of events) inventory.observe(e, new Date(e.ts));
  return inventory;
}

test('S7 (snap7.pcap) and CIP (enip_cip_example.pcap): module, firmware and serial; vendor, product and serial', async (t) => {
  const s7 = sharedData(t, 's7comm', 'icsnpp', 'snap7.pcap');
  const enip = sharedData(t, 'enip', 'icsnpp', 'enip_cip_example.pcap');
  if (!s7 || !enip) return;
  assert.deepEqual((await inventoryOf(s7)).get('s7comm:134.217.61.211')?.identity, {
    order_number: '6ES7 315-2EH14-0AB0',
    firmware_version: 'V3.2.7',
    station_name: 'S7300/ET200M station_1',
    module_name: 'PLC_1',
    module_type: 'CPU 315-2 PN/DP',
    serial_number: 'S C-B1U393142011',
  });
  assert.deepEqual((await inventoryOf(enip)).get('enip:10.1.1.164')?.identity, {
    vendor: 'Rockwell Automation/Allen-Bradley',
    product_name: '1756-ENBT/A',
    device_type_name: 'communications_adapter',
    product_code: '58',
    revision: '4.3',
    serial_number: '0x00524d8e',
  });
});

test('BACnet I-Am vendor, OPC UA application URI and endpoint, DNP3 outstation address', async (t) => {
  const bacnet = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_example.pcap');
  const opcua = sharedData(t, 'opcua', 'icsnpp', 'open62541_client-server_mainloop.pcap');
  const dnp3 = sharedData(t, 'dnp3', 'zeek', 'dnp3.pcap');
  if (!bacnet || !opcua || !dnp3) return;
  assert.deepEqual((await inventoryOf(bacnet)).get('bacnet:172.20.32.108:47808')?.identity, {
    device_instance: '721',
    vendor_id: '15',
  });
  assert.deepEqual((await inventoryOf(opcua)).get('opcua:::1:4840')?.identity, {
    endpoint_url: 'opc.tcp://localhost:4840',
    server_application_uri: 'urn:open62541.server.application',
  });
  assert.deepEqual((await inventoryOf(dnp3)).get('dnp3:10.0.0.3/4')?.identity, { outstation_address: '4' });
});

test('bounded: long values cut to 128 characters; syslog and Modbus devices get no identity', () => {
  const inventory = Inventory.inMemory({ maxDevices: 10 });
  const at = new Date('2026-12-05T20:00:00Z');
  const event = (source: PendingEvent['source'], fields: Record<string, unknown>): PendingEvent => ({
    ts: at.toISOString(),
    received: at.toISOString(),
    source,
    kind: 'telemetry',
    action: `${source}.read_szl`,
    severity: 6,
    message: 'm',
    device: { id: `${source}:10.0.0.9` },
    fields,
    tags: [],
  });
  inventory.observe(event('s7comm', { station_name: 'x'.repeat(500), serial_number: 7, plant_id: {} }), at);
  inventory.observe(event('modbus', { station_name: 'not an identity field here' }), at);
  const s7 = inventory.get('s7comm:10.0.0.9')?.identity;
  assert.equal(s7?.station_name?.length, 128);
  assert.equal(s7?.serial_number, '7');
  assert.equal(s7?.plant_id, undefined);
  assert.equal(inventory.get('modbus:10.0.0.9')?.identity, undefined);
});
