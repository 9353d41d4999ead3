/**
 * The `<protocol>.device_unreachable` event both inline proxies raise, as each proxy builds it:
 * the Modbus proxy's (a PLC, its `endpoint`) and the OT proxy's (a DNP3 device, its `upstream`),
 * field for field, so that rules and dashboards reading either keep working.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceUnreachableEvent } from '../../../../gateway/sources/shared/device-unreachable.ts';

const now = new Date('2026-12-05T10:00:00.000Z');
const upstream = { host: '10.0.0.5', port: 502 };
const client = { ip: '10.0.0.9', port: 50123 };

test("the Modbus proxy's event: a PLC named by its endpoint", () => {
  const e = deviceUnreachableEvent({
    now,
    protocol: 'modbus',
    label: 'PLC',
    proxy: 'plc-proxy',
    endpoint: { key: 'endpoint', value: '10.0.0.5:502' },
    upstream,
    client,
    deviceName: 'tank-plc',
    why: 'connect ECONNREFUSED 10.0.0.5:502',
  });
  assert.deepEqual(e, {
    ts: '2026-12-05T10:00:00.000Z',
    received: '2026-12-05T10:00:00.000Z',
    source: 'modbus',
    kind: 'security',
    action: 'modbus.device_unreachable',
    severity: 3,
    message: 'PLC 10.0.0.5:502 unreachable through proxy plc-proxy: connect ECONNREFUSED 10.0.0.5:502',
    device: { id: 'modbus:10.0.0.5', name: 'tank-plc' },
    src: { ip: '10.0.0.9', port: 50123 },
    dst: { ip: '10.0.0.5', port: 502 },
    fields: { proxy: 'plc-proxy', endpoint: '10.0.0.5:502', error: 'connect ECONNREFUSED 10.0.0.5:502' },
    tags: [],
  });
});

test("the OT proxy's event: a protocol's device named by its upstream, no name when none is configured", () => {
  const e = deviceUnreachableEvent({
    now,
    protocol: 'dnp3',
    label: 'dnp3 device',
    proxy: 'ot',
    endpoint: { key: 'upstream', value: '10.0.0.5:20000' },
    upstream: { host: '10.0.0.5', port: 20000 },
    client,
    deviceName: undefined,
    why: 'connect timeout',
  });
  assert.equal(e.action, 'dnp3.device_unreachable');
  assert.equal(e.source, 'dnp3');
  assert.equal(e.message, 'dnp3 device 10.0.0.5:20000 unreachable through proxy ot: connect timeout');
  assert.deepEqual(e.device, { id: 'dnp3:10.0.0.5' });
  assert.deepEqual(e.fields, { proxy: 'ot', upstream: '10.0.0.5:20000', error: 'connect timeout' });
  assert.deepEqual(e.dst, { ip: '10.0.0.5', port: 20000 });
});
