/**
 * The Modbus poller (modbus-serial as the master) against real third-party servers: pymodbus
 * (Debian python3-pymodbus) over Modbus/TCP, and pymodbus as an RTU server on one end of a
 * pseudo-terminal pair made by socat (Debian socat), the poller on the other end. Proves that the
 * register map reads the server's real values, that a set-point written by another master
 * (mbpoll, Debian mbpoll) is reported with its old and new value, that an out-of-range value and
 * an exception response become events, that a server that goes away is reported unreachable once
 * and its return reported when it answers again on the same port, and that RTU framing with its
 * CRC works end to end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createModbusPoller, modbusPollerSourceSchema } from '../../gateway/sources/modbus-poller/index.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { requireTool, waitFor } from '../support/env.ts';
import {
  collectingContext,
  mbpoll,
  pymodbusPython,
  startPtyPair,
  startPymodbus,
  startPymodbusRtu,
} from './support/modbus.ts';

const POINTS = [
  // pymodbus-server.py: holding register N = 100 + N, input register N = 200 + N, coils 1,0,1,0...
  { name: 'speed_sp', address: 5, setpoint: true, unit: 'rpm' },
  { name: 'level', address: 7, table: 'input', scale: 0.5, unit: '%', max: 100 },
  { name: 'pair', address: 10, type: 'uint32' },
  { name: 'pump_on', address: 4, type: 'coil' },
  { name: 'missing', address: 300 },
];

const byAction = (events: PendingEvent[], action: string) => events.filter((e) => e.action === action);

test('poller against pymodbus over TCP: values, set-point change, range, exception, outage and recovery', async (t) => {
  if (!requireTool(t, 'mbpoll', 'mbpoll')) return;
  const python = pymodbusPython(t);
  if (!python) return;
  let server = await startPymodbus(python);
  t.after(() => server.stop());
  const ctx = collectingContext();
  const config = modbusPollerSourceSchema.parse({
    type: 'modbus_poller',
    endpoint: `127.0.0.1:${server.port}`,
    unit_id: 1,
    poll_interval_ms: 100,
    timeout_ms: 500,
    unreachable_after_failures: 2,
    device_name: 'pymodbus',
    points: POINTS,
  });
  const poller = createModbusPoller('pymodbus_poller', config, ctx);
  await poller.start();
  t.after(() => poller.stop());

  const first = await waitFor(() => byAction(ctx.events, 'modbus.poll')[0], { what: 'a poll event' });
  assert.deepEqual(first.fields.readings, {
    speed_sp: 105,
    level: 103.5,
    pair: (110 << 16) + 111,
    pump_on: true,
  });
  assert.deepEqual(first.fields.failed_points, ['missing']);
  assert.deepEqual(
    [first.device?.id, first.dst?.port, first.time_source],
    ['modbus:127.0.0.1/1', server.port, 'gateway'],
  );
  const range = await waitFor(() => byAction(ctx.events, 'modbus.value_out_of_range')[0]);
  assert.deepEqual([range.fields.point, range.fields.value, range.fields.limit], ['level', 103.5, 'max']);
  const exception = await waitFor(() => byAction(ctx.events, 'modbus.exception')[0]);
  assert.deepEqual([exception.fields.address, exception.fields.exception], [300, 'illegal_data_address']);

  // Another master (an HMI, or an attacker) writes the set-point: the poller reports it.
  const w = await mbpoll(server.port, ['-a', '1', '-r', '5', '-t', '4', '127.0.0.1', '1450']);
  assert.equal(w.code, 0, w.stdout);
  const change = await waitFor(() => byAction(ctx.events, 'modbus.setpoint_change')[0], {
    what: 'set-point change',
  });
  assert.deepEqual(
    [change.fields.point, change.fields.previous, change.fields.value, change.severity],
    ['speed_sp', 105, 1450, 4],
  );

  // The PLC goes away: reported once; it comes back on the same port: reported again.
  await server.stop();
  const down = await waitFor(() => byAction(ctx.events, 'modbus.device_unreachable')[0], {
    what: 'unreachable',
  });
  assert.equal(down.kind, 'security');
  const polls = byAction(ctx.events, 'modbus.poll').length;
  server = await startPymodbus(python, server.port);
  const up = await waitFor(() => byAction(ctx.events, 'modbus.device_reachable')[0], {
    what: 'recovery',
    timeoutMs: 15_000,
  });
  assert.ok(Number(up.fields.failed_polls) >= 2);
  assert.equal(byAction(ctx.events, 'modbus.device_unreachable').length, 1, 'the outage is reported once');
  await waitFor(() => (byAction(ctx.events, 'modbus.poll').length > polls ? true : undefined));
  assert.equal(byAction(ctx.events, 'modbus.exception').length, 1, 'a standing exception is reported once');
});

test('poller over RTU through a socat pseudo-terminal pair to pymodbus', async (t) => {
  if (!requireTool(t, 'socat', 'socat')) return;
  const python = pymodbusPython(t);
  if (!python) return;
  const pair = await startPtyPair(mkdtempSync(path.join(tmpdir(), 'siem-rtu-')));
  t.after(() => pair.stop());
  const server = await startPymodbusRtu(python, pair.a);
  t.after(() => server.stop());
  const ctx = collectingContext();
  const poller = createModbusPoller(
    'rtu_poller',
    modbusPollerSourceSchema.parse({
      type: 'modbus_poller',
      transport: 'rtu',
      serial: { path: pair.b, baud_rate: 9600, parity: 'none' },
      unit_id: 2,
      poll_interval_ms: 100,
      timeout_ms: 1000,
      points: [
        { name: 'temp', address: 3, type: 'int16', scale: 0.1, unit: 'degC' },
        { name: 'flow', address: 20, table: 'input' },
        { name: 'alarm', address: 1, type: 'bool', table: 'discrete_input' },
      ],
    }),
    ctx,
  );
  await poller.start();
  t.after(() => poller.stop());
  const poll = await waitFor(() => byAction(ctx.events, 'modbus.poll')[0], {
    what: 'an RTU poll',
    timeoutMs: 15_000,
  });
  assert.deepEqual(poll.fields.readings, { temp: 10.3, flow: 220, alarm: false });
  assert.deepEqual([poll.fields.transport, poll.device?.id], ['rtu', `modbus:serial:${pair.b}/2`]);
  assert.equal(poll.dst, undefined);
});
