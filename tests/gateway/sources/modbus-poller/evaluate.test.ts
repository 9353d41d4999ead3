/**
 * The poller's pure parts: the read plan (points joined into few requests within the spec's
 * quantity limits), decoding of every data type in every byte/word order with scaling, and what
 * a sequence of poll cycles reports (set-point changes, range violations, exceptions once,
 * unreachable once and its recovery), with time passed in.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { modbusPollerSourceSchema } from '../../../../gateway/sources/modbus-poller/config.ts';
import { type BlockOutcome, createPollerState } from '../../../../gateway/sources/modbus-poller/evaluate.ts';
import { decodePoint, planReads } from '../../../../gateway/sources/modbus-poller/registers.ts';
import { eventSchema } from '../../../../protocols/event/schema.ts';

const config = (points: unknown[], extra: Record<string, unknown> = {}) =>
  modbusPollerSourceSchema.parse({ type: 'modbus_poller', endpoint: '10.0.0.5:502', points, ...extra });

describe('read plan', () => {
  test('adjacent points of one table share a read; tables and far addresses do not', () => {
    const c = config([
      { name: 'a', address: 0 },
      { name: 'b', address: 2, type: 'float32' },
      { name: 'c', address: 100 },
      { name: 'd', address: 0, table: 'input' },
      { name: 'e', address: 5, type: 'coil' },
      { name: 'f', address: 9, type: 'bool', table: 'coil' },
    ]);
    const plan = planReads(c.points, c.max_gap).map((b) => [
      b.function,
      b.address,
      b.quantity,
      b.points.length,
    ]);
    assert.deepEqual(plan, [
      [3, 0, 4, 2],
      [3, 100, 1, 1],
      [4, 0, 1, 1],
      [1, 5, 5, 2],
    ]);
  });

  test('no read exceeds 125 registers (Application Protocol §6.3)', () => {
    const points = Array.from({ length: 200 }, (_, i) => ({ name: `p${i}`, address: i }));
    const c = config(points);
    const blocks = planReads(c.points, c.max_gap);
    assert.deepEqual(
      blocks.map((b) => b.quantity),
      [125, 75],
    );
  });
});

describe('decoding', () => {
  const one = (point: Record<string, unknown>, words: number[]) => {
    const c = config([{ name: 'x', address: 10, ...point }]);
    return decodePoint(c.points[0]!, words, 10);
  };
  // 123.456 as float32 is 0x42F6E979: registers 0x42F6, 0xE979 in ABCD order.
  test('float32 in the four byte/word orders', () => {
    assert.equal(one({ type: 'float32' }, [0x42f6, 0xe979]), 123.456);
    assert.equal(one({ type: 'float32', word_order: 'little' }, [0xe979, 0x42f6]), 123.456);
    assert.equal(one({ type: 'float32', byte_order: 'little' }, [0xf642, 0x79e9]), 123.456);
    assert.equal(
      one({ type: 'float32', byte_order: 'little', word_order: 'little' }, [0x79e9, 0xf642]),
      123.456,
    );
  });
  test('signed, unsigned, 32-bit, scaling and offset', () => {
    assert.equal(one({ type: 'int16' }, [0xfffe]), -2);
    assert.equal(one({ type: 'uint16' }, [0xfffe]), 65534);
    assert.equal(one({ type: 'int32' }, [0xffff, 0xfffd]), -3);
    assert.equal(one({ type: 'uint32', word_order: 'little' }, [0x0002, 0x0001]), 65538);
    assert.equal(one({ type: 'int16', scale: 0.1 }, [215]), 21.5);
    assert.equal(one({ type: 'uint16', scale: 0.1, offset: -40 }, [3]), -39.7);
  });
  test('bits: coils and a bit inside a register', () => {
    assert.equal(one({ type: 'coil' }, [1]), true);
    assert.equal(one({ type: 'bool', bit: 3 }, [0b1000]), true);
    assert.equal(one({ type: 'bool', bit: 2 }, [0b1000]), false);
    assert.equal(one({ type: 'bool' }, [0]), false);
  });
  test('a short answer gives no value', () => {
    assert.equal(one({ type: 'float32' }, [0x42f6]), undefined);
  });
});

describe('poll cycles', () => {
  const c = config(
    [
      { name: 'temp', address: 0, type: 'int16', scale: 0.1, unit: 'degC', min: 0, max: 80 },
      { name: 'sp', address: 1, setpoint: true, unit: 'rpm' },
    ],
    { unreachable_after_failures: 2, device_name: 'pump-3' },
  );
  const block = planReads(c.points, c.max_gap)[0]!;
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const ok = (...data: number[]): BlockOutcome[] => [{ block, ok: true, data }];
  const actions = (events: { action: string }[]) => events.map((e) => e.action);

  test('a sequence of cycles', () => {
    const state = createPollerState(c, {
      name: 'p',
      transport: 'tcp',
      endpoint: '10.0.0.5:502',
      peer: { ip: '10.0.0.5', port: 502 },
    });
    const first = state.cycle(ok(215, 1200), t(0), 3);
    assert.deepEqual(actions(first), ['modbus.poll'], 'the first poll is the baseline');
    const poll = first[0]!;
    assert.deepEqual(poll.fields.readings, { temp: 21.5, sp: 1200 });
    assert.deepEqual(poll.fields.units, { temp: 'degC', sp: 'rpm' });
    assert.deepEqual(
      [poll.kind, poll.severity, poll.time_source, poll.device?.id, poll.device?.name],
      ['telemetry', 6, 'gateway', 'modbus:10.0.0.5/1', 'pump-3'],
    );
    assert.ok(eventSchema.safeParse({ ...poll, v: 1, id: 'g:1', gateway: 'g', seq: 1 }).success);

    const changed = state.cycle(ok(215, 1500), t(1), 3);
    assert.deepEqual(actions(changed), ['modbus.poll', 'modbus.setpoint_change']);
    assert.deepEqual(
      [changed[1]!.fields.point, changed[1]!.fields.previous, changed[1]!.fields.value, changed[1]!.kind],
      ['sp', 1200, 1500, 'security'],
    );
    assert.deepEqual(actions(state.cycle(ok(215, 1500), t(2), 3)), ['modbus.poll']);

    const hot = state.cycle(ok(853, 1500), t(3), 3);
    assert.deepEqual(actions(hot), ['modbus.poll', 'modbus.value_out_of_range']);
    assert.deepEqual([hot[1]!.fields.value, hot[1]!.fields.limit, hot[1]!.fields.max], [85.3, 'max', 80]);
    assert.deepEqual(actions(state.cycle(ok(860, 1500), t(4), 3)), ['modbus.poll'], 'reported once');
    assert.deepEqual(actions(state.cycle(ok(700, 1500), t(5), 3)), ['modbus.poll', 'modbus.value_in_range']);

    const exc: BlockOutcome[] = [{ block, ok: false, exceptionCode: 2 }];
    const e1 = state.cycle(exc, t(6), 3);
    assert.deepEqual(actions(e1), ['modbus.poll', 'modbus.exception']);
    assert.deepEqual([e1[1]!.fields.exception, e1[1]!.fields.function_code], ['illegal_data_address', 3]);
    assert.deepEqual(e1[0]!.fields.failed_points, ['temp', 'sp']);
    assert.deepEqual(actions(state.cycle(exc, t(7), 3)), ['modbus.poll'], 'the same exception once');

    const dead: BlockOutcome[] = [{ block, ok: false, error: 'ECONNREFUSED' }];
    assert.deepEqual(actions(state.cycle(dead, t(8), 3)), [], 'one failure is not yet unreachable');
    const down = state.cycle(dead, t(9), 3);
    assert.deepEqual(actions(down), ['modbus.device_unreachable']);
    assert.deepEqual(
      [down[0]!.severity, down[0]!.fields.error, down[0]!.fields.failed_polls],
      [3, 'ECONNREFUSED', 2],
    );
    assert.equal(state.reachable(), false);
    assert.deepEqual(actions(state.cycle(dead, t(10), 3)), [], 'reported once');
    const back = state.cycle(ok(700, 1500), t(20), 3);
    assert.deepEqual(actions(back), ['modbus.poll', 'modbus.device_reachable']);
    assert.deepEqual([back[1]!.fields.down_secs, back[1]!.fields.failed_polls], [11, 3]);
  });
});

describe('config', () => {
  test('errors name the key', () => {
    const bad = modbusPollerSourceSchema.safeParse({
      type: 'modbus_poller',
      transport: 'rtu',
      points: [{ name: 'x', address: 1, type: 'float32', table: 'coil' }],
    });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('points.0.type'), paths.join());
    assert.ok(paths.includes('transport'), paths.join());
    const unknown = modbusPollerSourceSchema.safeParse({
      type: 'modbus_poller',
      endpoint: 'plc:502',
      points: [{ name: 'x', address: 1, colour: 'red' }],
    });
    assert.equal(unknown.success, false);
  });
});
