/**
 * The small process behind the simulated PLC: one tank with an inlet pump and an outlet valve.
 * The level rises while the pump runs and falls while the valve is open; in auto mode the PLC
 * starts the pump below one level and stops it above another; high and low alarms compare the
 * level with their set-points. Everything lives in the PLC's Modbus tables (the register map
 * below), so an HMI, the gateway's poller and an attacker all see and change the same values.
 * Pure: `stepTank` takes the elapsed time; the PLC calls it from a timer.
 */
import type { PlcMemory } from './types.ts';

/** Level and set-points are in 0.1 % of the tank's height (0–1000); rates in 0.1 %/s. */
export const TANK = {
  holding: {
    level_high_sp: 0,
    level_low_sp: 1,
    pump_on_level: 2,
    pump_off_level: 3,
    /** 0 manual (coils as written), 1 auto (the PLC drives the pump). */
    mode: 4,
    inflow_rate: 5,
    outflow_rate: 6,
  },
  input: { level: 0, temperature: 1, flow_in: 2 },
  coils: { pump: 0, valve: 1, alarm_high: 2, alarm_low: 3 },
  discrete: { alarm_high: 0, alarm_low: 1, pump_running: 2 },
} as const;

export const TANK_DEFAULTS = {
  level: 500,
  level_high_sp: 900,
  level_low_sp: 100,
  pump_on_level: 300,
  pump_off_level: 700,
  mode: 1,
  inflow_rate: 20,
  outflow_rate: 10,
} as const;

/** Initial values of the tank, in register units. */
export type TankState = { -readonly [K in keyof typeof TANK_DEFAULTS]: number };

/** The engineering range of each set-point (0.1 %): what an operator may set. */
export const TANK_SETPOINT_RANGES: Record<keyof typeof TANK.holding, [number, number]> = {
  level_high_sp: [500, 950],
  level_low_sp: [50, 500],
  pump_on_level: [100, 600],
  pump_off_level: [400, 900],
  mode: [0, 1],
  inflow_rate: [0, 100],
  outflow_rate: [0, 100],
};

/** Puts the tank's initial state into the PLC's tables. */
export function initTank(mem: PlcMemory, initial: Partial<TankState> = {}): void {
  const v: TankState = { ...TANK_DEFAULTS, ...initial };
  const h = TANK.holding;
  mem.holding[h.level_high_sp] = v.level_high_sp;
  mem.holding[h.level_low_sp] = v.level_low_sp;
  mem.holding[h.pump_on_level] = v.pump_on_level;
  mem.holding[h.pump_off_level] = v.pump_off_level;
  mem.holding[h.mode] = v.mode;
  mem.holding[h.inflow_rate] = v.inflow_rate;
  mem.holding[h.outflow_rate] = v.outflow_rate;
  mem.input[TANK.input.level] = v.level;
  mem.input[TANK.input.temperature] = 215;
  mem.input[TANK.input.flow_in] = 0;
  mem.coils[TANK.coils.pump] = 0;
  mem.coils[TANK.coils.valve] = 1;
  updateAlarms(mem);
}

function updateAlarms(mem: PlcMemory): void {
  const level = mem.input[TANK.input.level]!;
  const high = level > mem.holding[TANK.holding.level_high_sp]! ? 1 : 0;
  const low = level < mem.holding[TANK.holding.level_low_sp]! ? 1 : 0;
  mem.coils[TANK.coils.alarm_high] = high;
  mem.coils[TANK.coils.alarm_low] = low;
  mem.discrete[TANK.discrete.alarm_high] = high;
  mem.discrete[TANK.discrete.alarm_low] = low;
  mem.discrete[TANK.discrete.pump_running] = mem.coils[TANK.coils.pump]!;
}

/**
 * Advances the process by `dtSecs`. The level is kept as a fraction between steps in `state`
 * (registers hold integers), so slow rates and short steps still move it.
 */
export function stepTank(
  mem: PlcMemory,
  dtSecs: number,
  state: { level?: number; temperature?: number } = {},
): void {
  const h = TANK.holding;
  let level = state.level ?? mem.input[TANK.input.level]!;
  // A register written by someone else (a test, an attacker) wins over the kept fraction.
  if (Math.round(level) !== mem.input[TANK.input.level]) level = mem.input[TANK.input.level]!;
  if (mem.holding[h.mode] === 1) {
    if (level < mem.holding[h.pump_on_level]!) mem.coils[TANK.coils.pump] = 1;
    else if (level > mem.holding[h.pump_off_level]!) mem.coils[TANK.coils.pump] = 0;
    mem.coils[TANK.coils.valve] = 1;
  }
  const pump = mem.coils[TANK.coils.pump] === 1;
  const valve = mem.coils[TANK.coils.valve] === 1;
  const inflow = pump ? mem.holding[h.inflow_rate]! : 0;
  const outflow = valve && level > 0 ? mem.holding[h.outflow_rate]! : 0;
  level = Math.min(1000, Math.max(0, level + (inflow - outflow) * dtSecs));
  state.level = level;
  mem.input[TANK.input.level] = Math.round(level);
  mem.input[TANK.input.flow_in] = inflow;
  // Temperature drifts towards that of the inflowing water while the pump runs, for a livelier trend.
  const temp = state.temperature ?? mem.input[TANK.input.temperature]!;
  const target = pump ? 180 : 240;
  state.temperature = temp + (target - temp) * Math.min(1, dtSecs / 60);
  mem.input[TANK.input.temperature] = Math.round(state.temperature);
  updateAlarms(mem);
}
