/**
 * The gateway's PLC simulator (firmware-shims/simulators/modbus-plc.ts) driven by a real
 * third-party master, mbpoll (Debian mbpoll): reads of all four tables, single and multiple
 * register writes that land in the PLC's memory, a coil write, a float read in mbpoll's word
 * order, and the exception answers a real PLC gives (illegal data address, an unserved unit).
 * Then the gateway's own poller reads the same simulator, so the demo has a working pair.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startModbusPlc, type ModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import { createModbusPoller, modbusPollerSourceSchema } from '../../gateway/sources/modbus-poller/index.ts';
import { requireTool, waitFor } from '../support/env.ts';
import { collectingContext, mbpoll } from './support/modbus.ts';

describe('PLC simulator with mbpoll', () => {
  let plc: ModbusPlc;
  before(async () => {
    plc = await startModbusPlc({ unitIds: [1, 3] });
  });
  after(() => plc.stop());

  test('reads the four tables', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll')) return;
    const hr = await mbpoll(plc.port, ['-a', '1', '-r', '40', '-c', '3', '-t', '4', '127.0.0.1']);
    assert.equal(hr.code, 0, hr.stdout);
    assert.deepEqual(
      [...hr.values],
      [
        [40, 40],
        [41, 41],
        [42, 42],
      ],
    );
    const ir = await mbpoll(plc.port, ['-a', '3', '-r', '7', '-c', '2', '-t', '3', '127.0.0.1']);
    assert.deepEqual([...ir.values.values()], [1007, 1008]);
    const co = await mbpoll(plc.port, ['-a', '1', '-r', '0', '-c', '4', '-t', '0', '127.0.0.1']);
    assert.deepEqual([...co.values.values()], [1, 0, 1, 0]);
    const di = await mbpoll(plc.port, ['-a', '1', '-r', '1', '-c', '3', '-t', '1', '127.0.0.1']);
    assert.deepEqual([...di.values.values()], [0, 1, 0]);
  });

  test('writes reach the PLC memory', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll')) return;
    const one = await mbpoll(plc.port, ['-a', '1', '-r', '100', '-t', '4', '127.0.0.1', '4321']);
    assert.equal(one.code, 0, one.stdout);
    assert.equal(plc.memory.holding[100], 4321);
    const many = await mbpoll(plc.port, ['-a', '1', '-r', '200', '-t', '4', '127.0.0.1', '7', '8', '9']);
    assert.equal(many.code, 0, many.stdout);
    assert.deepEqual(Array.from(plc.memory.holding.subarray(200, 203)), [7, 8, 9]);
    const coil = await mbpoll(plc.port, ['-a', '1', '-r', '5', '-t', '0', '127.0.0.1', '0']);
    assert.equal(coil.code, 0, coil.stdout);
    assert.equal(plc.memory.coils[5], 0);
  });

  test('a float in mbpoll’s word order', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll')) return;
    // 123.456 = 0x42F6E979; mbpoll's default float order is the low word first (CDAB).
    plc.memory.holding.set([0xe979, 0x42f6], 300);
    const r = await mbpoll(plc.port, ['-a', '1', '-r', '300', '-t', '4:float', '127.0.0.1']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /\[300\]:\s+123\.456/);
  });

  test('exceptions: an address past the end, a unit the PLC does not serve', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll')) return;
    const past = await mbpoll(plc.port, ['-a', '1', '-r', '998', '-c', '5', '-t', '4', '127.0.0.1']);
    assert.notEqual(past.code, 0);
    assert.match(past.stderr, /Illegal data address/i);
    const unit = await mbpoll(plc.port, ['-a', '9', '-r', '0', '-t', '4', '127.0.0.1']);
    assert.notEqual(unit.code, 0);
    assert.match(unit.stderr, /Target device failed to respond/i);
  });

  test('the gateway poller reads the simulator, float in CDAB order', async () => {
    plc.memory.holding.set([0xe979, 0x42f6], 300);
    const ctx = collectingContext();
    const poller = createModbusPoller(
      'sim_poller',
      modbusPollerSourceSchema.parse({
        type: 'modbus_poller',
        endpoint: `127.0.0.1:${plc.port}`,
        poll_interval_ms: 100,
        points: [
          { name: 'flow', address: 300, type: 'float32', word_order: 'little', unit: 'm3/h' },
          { name: 'level', address: 12, table: 'input', scale: 0.1 },
          { name: 'valve', address: 2, type: 'coil' },
        ],
      }),
      ctx,
    );
    await poller.start();
    try {
      const poll = await waitFor(() => ctx.events.find((e) => e.action === 'modbus.poll'));
      assert.deepEqual(poll.fields.readings, { flow: 123.456, level: 101.2, valve: true });
    } finally {
      await poller.stop();
    }
  });
});
