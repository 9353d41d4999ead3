/**
 * The inline proxy between real third-party Modbus peers: `mbpoll` (Debian mbpoll) as the master,
 * connected to the gateway's proxy, in front of a pymodbus server (Debian python3-pymodbus) as the
 * PLC. Proves that real traffic passes through unchanged (mbpoll reads the server's values), that
 * it is decoded into the right events, that monitor mode lets a denied write through and reports
 * it, and that enforce mode answers it with an exception and the PLC's register stays unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { modbusProxySourceSchema } from '../../gateway/sources/modbus-proxy/config.ts';
import { createModbusProxy } from '../../gateway/sources/modbus-proxy/index.ts';
import type { Source } from '../../gateway/pipeline/types.ts';
import { requireTool, waitFor } from '../support/env.ts';
import { collectingContext, mbpoll, pymodbusPython, startPymodbus } from './support/modbus.ts';

describe('modbus proxy with mbpoll and pymodbus', () => {
  let plc: Awaited<ReturnType<typeof startPymodbus>> | undefined;
  const sources: Source[] = [];

  async function proxy(extra: Record<string, unknown>) {
    const ctx = collectingContext();
    const config = modbusProxySourceSchema.parse({
      type: 'modbus_proxy',
      listen: '127.0.0.1:0',
      endpoint: `127.0.0.1:${plc!.port}`,
      ...extra,
    });
    const source = createModbusProxy('plc_proxy', config, ctx);
    await source.start();
    sources.push(source);
    return { ctx, port: source.addresses()[0]!.port };
  }

  const find = (events: PendingEvent[], action: string, direction?: string) =>
    events.find((e) => e.action === action && (direction === undefined || e.fields.direction === direction));

  before(async () => {
    const py = pymodbusPython({ skip: () => {} } as never);
    if (py && process.env.PATH) plc = await startPymodbus(py);
  });
  after(async () => {
    for (const s of sources) await s.stop();
    await plc?.stop();
  });

  test('reads pass through unchanged and are decoded', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll') || !pymodbusPython(t) || !plc) return;
    const { ctx, port } = await proxy({});
    const r = await mbpoll(port, ['-a', '1', '-r', '10', '-c', '3', '-t', '4', '127.0.0.1']);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(
      [...r.values],
      [
        [10, 110],
        [11, 111],
        [12, 112],
      ],
    );
    const res = await waitFor(() => find(ctx.events, 'modbus.read_holding_registers', 'response'));
    const req = find(ctx.events, 'modbus.read_holding_registers', 'request')!;
    assert.deepEqual([req.fields.address, req.fields.quantity, req.fields.unit_id], [10, 3, 1]);
    assert.deepEqual([res.fields.address, res.fields.values], [10, [110, 111, 112]]);
    assert.equal(req.src?.ip, '127.0.0.1');
    assert.equal(req.dst?.port, plc.port);
    const coils = await mbpoll(port, ['-a', '2', '-r', '4', '-c', '4', '-t', '0', '127.0.0.1']);
    assert.deepEqual([...coils.values.values()], [1, 0, 1, 0]);
    const c = await waitFor(() => find(ctx.events, 'modbus.read_coils', 'response'));
    assert.deepEqual([c.fields.values, c.device?.id], [[1, 0, 1, 0], `modbus:127.0.0.1/2`]);
  });

  const policy = { masters: [{ address: '127.0.0.0/8', function_codes: [1, 2, 3, 4] }] };

  test('monitor mode lets a denied write through and reports it with the previous value', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll') || !pymodbusPython(t) || !plc) return;
    const { ctx, port } = await proxy({ mode: 'monitor', ...policy });
    await mbpoll(port, ['-a', '1', '-r', '20', '-t', '4', '127.0.0.1']);
    const w = await mbpoll(port, ['-a', '1', '-r', '20', '-t', '4', '127.0.0.1', '777']);
    assert.equal(w.code, 0, w.stdout);
    const v = await waitFor(() => find(ctx.events, 'modbus.policy_violation'));
    assert.deepEqual(
      [v.fields.reason, v.fields.blocked, v.fields.address],
      ['function_not_allowed', false, 20],
    );
    const write = ctx.events.find(
      (e) => e.action.startsWith('modbus.write_') && e.fields.direction === 'request',
    )!;
    assert.deepEqual(
      [write.fields.values, write.fields.previous_values, write.fields.policy],
      [[777], [120], 'violation'],
    );
    const direct = await mbpoll(plc.port, ['-a', '1', '-r', '20', '-t', '4', '127.0.0.1']);
    assert.equal(direct.values.get(20), 777, 'the write reached the PLC');
  });

  test('enforce mode blocks a write from a master that may not write; the register is unchanged', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll') || !pymodbusPython(t) || !plc) return;
    const { ctx, port } = await proxy({ mode: 'enforce', ...policy });
    const w = await mbpoll(port, ['-a', '1', '-r', '30', '-t', '4', '127.0.0.1', '4242']);
    assert.notEqual(w.code, 0, 'mbpoll reports the exception');
    const v = await waitFor(() => find(ctx.events, 'modbus.policy_violation'));
    assert.deepEqual([v.fields.blocked, v.fields.exception_code, v.severity], [true, 1, 4]);
    const direct = await mbpoll(plc.port, ['-a', '1', '-r', '30', '-t', '4', '127.0.0.1']);
    assert.equal(direct.values.get(30), 130, 'the PLC register is unchanged');
    // Reads are still allowed in enforce mode.
    const r = await mbpoll(port, ['-a', '1', '-r', '30', '-t', '4', '127.0.0.1']);
    assert.equal(r.values.get(30), 130);
  });

  test('enforce mode: an address outside the allowed range gets exception 02', async (t) => {
    if (!requireTool(t, 'mbpoll', 'mbpoll') || !pymodbusPython(t) || !plc) return;
    const { ctx, port } = await proxy({
      mode: 'enforce',
      masters: [{ address: '127.0.0.1', address_ranges: [{ start: 0, end: 49 }] }],
    });
    const ok = await mbpoll(port, ['-a', '1', '-r', '40', '-c', '10', '-t', '4', '127.0.0.1']);
    assert.equal(ok.code, 0);
    const denied = await mbpoll(port, ['-a', '1', '-r', '45', '-c', '10', '-t', '4', '127.0.0.1']);
    assert.notEqual(denied.code, 0);
    const v = await waitFor(() => find(ctx.events, 'modbus.policy_violation'));
    assert.deepEqual([v.fields.reason, v.fields.exception_code], ['address_not_allowed', 2]);
  });
});
