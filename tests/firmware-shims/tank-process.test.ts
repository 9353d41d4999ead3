/**
 * The simulated PLC's tank: the level rises while the pump runs and falls while the valve is
 * open, the high alarm (coil and discrete input) is set above the high set-point, auto mode keeps
 * the level between its pump set-points, and the level stays in 0–100 % whatever is written.
 * Then the same over Modbus/TCP: the process runs in the PLC's tables, and FC 8 sub-function 4
 * puts the PLC in listen only mode until a restart communications request (§6.8.1).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createPlcMemory,
  type ModbusPlc,
  startModbusPlc,
} from '../../firmware-shims/simulators/modbus-plc.ts';
import { connectModbusMaster } from '../../firmware-shims/simulators/modbus-master.ts';
import { initTank, stepTank, TANK } from '../../firmware-shims/simulators/tank-process.ts';
import { waitFor } from '../support/env.ts';

function manualTank(level: number) {
  const mem = createPlcMemory(100);
  initTank(mem, { level, mode: 0 });
  return mem;
}

describe('tank process', () => {
  it('pump on, valve closed: the level rises at the inflow rate', () => {
    const mem = manualTank(400);
    mem.coils[TANK.coils.pump] = 1;
    mem.coils[TANK.coils.valve] = 0;
    const state = {};
    for (let i = 0; i < 10; i += 1) stepTank(mem, 0.5, state);
    assert.equal(mem.input[TANK.input.level], 400 + 20 * 5);
    assert.equal(mem.discrete[TANK.discrete.pump_running], 1);
    assert.equal(mem.input[TANK.input.flow_in], 20);
  });

  it('pump off, valve open: the level falls; the low alarm sets below the low set-point', () => {
    const mem = manualTank(150);
    mem.coils[TANK.coils.pump] = 0;
    mem.coils[TANK.coils.valve] = 1;
    stepTank(mem, 4);
    assert.equal(mem.input[TANK.input.level], 110);
    assert.equal(mem.coils[TANK.coils.alarm_low], 0);
    stepTank(mem, 2);
    assert.equal(mem.input[TANK.input.level], 90);
    assert.equal(mem.coils[TANK.coils.alarm_low], 1);
    assert.equal(mem.discrete[TANK.discrete.alarm_low], 1);
  });

  it('sets the high alarm coil once the level is above the high set-point, and clears it below', () => {
    const mem = manualTank(480);
    mem.holding[TANK.holding.level_high_sp] = 500;
    mem.coils[TANK.coils.pump] = 1;
    mem.coils[TANK.coils.valve] = 0;
    stepTank(mem, 1);
    assert.equal(mem.input[TANK.input.level], 500);
    assert.equal(mem.coils[TANK.coils.alarm_high], 0, 'at the set-point, not above');
    stepTank(mem, 1);
    assert.equal(mem.coils[TANK.coils.alarm_high], 1);
    assert.equal(mem.discrete[TANK.discrete.alarm_high], 1);
    mem.coils[TANK.coils.pump] = 0;
    mem.coils[TANK.coils.valve] = 1;
    stepTank(mem, 5);
    assert.equal(mem.coils[TANK.coils.alarm_high], 0);
  });

  it('auto mode keeps the level between the pump set-points', () => {
    const mem = createPlcMemory(100);
    initTank(mem, { level: 500 });
    const state = {};
    const seen: number[] = [];
    for (let i = 0; i < 400; i += 1) {
      stepTank(mem, 1, state);
      seen.push(mem.input[TANK.input.level]!);
    }
    assert.ok(
      Math.min(...seen) >= 290 && Math.max(...seen) <= 710,
      `${Math.min(...seen)}–${Math.max(...seen)}`,
    );
    assert.ok(Math.max(...seen) >= 690 && Math.min(...seen) <= 310, 'it cycles');
    assert.ok(!seen.some((l, i) => i > 0 && l === seen[i - 1]), 'never still');
  });

  it('keeps the level in 0–1000 whatever the coils, rates and set-points (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(
          fc.record({
            pump: fc.boolean(),
            valve: fc.boolean(),
            mode: fc.integer({ min: 0, max: 1 }),
            inflow: fc.integer({ min: 0, max: 65535 }),
            outflow: fc.integer({ min: 0, max: 65535 }),
            dt: fc.double({ min: 0, max: 30, noNaN: true }),
          }),
          { maxLength: 30 },
        ),
        (level, steps) => {
          const mem = manualTank(level);
          const state = {};
          for (const s of steps) {
            mem.coils[TANK.coils.pump] = s.pump ? 1 : 0;
            mem.coils[TANK.coils.valve] = s.valve ? 1 : 0;
            mem.holding[TANK.holding.mode] = s.mode;
            mem.holding[TANK.holding.inflow_rate] = s.inflow;
            mem.holding[TANK.holding.outflow_rate] = s.outflow;
            stepTank(mem, s.dt, state);
            const l = mem.input[TANK.input.level]!;
            if (l < 0 || l > 1000) return false;
            const above = l > mem.holding[TANK.holding.level_high_sp]! ? 1 : 0;
            if (mem.coils[TANK.coils.alarm_high] !== above) return false;
          }
          return true;
        },
      ),
    );
  });
});

describe('the PLC runs the tank over Modbus/TCP', () => {
  let plc: ModbusPlc;
  after(() => plc?.stop());

  it('the level read with FC 4 rises after FC 5 turns the pump on in manual mode', async () => {
    plc = await startModbusPlc({ tank: { stepMs: 50, speed: 4, initial: { level: 300, mode: 0 } } });
    const m = await connectModbusMaster({ host: '127.0.0.1', port: plc.port });
    try {
      await m.request({ function: 5, address: TANK.coils.valve, value: false });
      await m.request({ function: 5, address: TANK.coils.pump, value: true });
      const first = (await m.request({ function: 4, address: TANK.input.level, quantity: 1 }))?.values?.[0];
      assert.ok(first !== undefined);
      const risen = await waitFor(async () => {
        const v = (await m.request({ function: 4, address: TANK.input.level, quantity: 1 }))?.values?.[0];
        return v !== undefined && v >= first + 50 ? v : undefined;
      });
      assert.ok(risen > first);
      // Set-point below the level: the high alarm coil reads 1 (FC 1).
      await m.request({ function: 6, address: TANK.holding.level_high_sp, value: 100 });
      const alarm = await waitFor(async () => {
        const bits = (await m.request({ function: 1, address: TANK.coils.alarm_high, quantity: 1 }))?.values;
        return bits?.[0] === 1 ? bits : undefined;
      });
      assert.equal(alarm[0], 1);
    } finally {
      m.close();
    }
  });

  it('FC 8/4 silences the PLC until FC 8/1 (restart communications)', async () => {
    const m = await connectModbusMaster({ host: '127.0.0.1', port: plc.port, timeoutMs: 300 });
    try {
      const echo = await m.request({ function: 8, subFunction: 0, data: Uint8Array.of(0xa5, 0x37) });
      assert.equal(echo?.subFunction, 0);
      assert.equal(await m.request({ function: 8, subFunction: 4 }), undefined, 'no response (§6.8.1)');
      assert.equal(plc.listenOnly(), true);
      assert.equal(await m.request({ function: 3, address: 0, quantity: 1 }), undefined);
      const restart = await m.request({ function: 8, subFunction: 1 });
      assert.equal(restart?.subFunction, 1);
      assert.equal(plc.listenOnly(), false);
      assert.ok(await m.request({ function: 3, address: 0, quantity: 1 }));
    } finally {
      m.close();
    }
  });
});
