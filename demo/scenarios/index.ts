/**
 * The registry of attack scenarios: one place that lists them for `npm run attack`, the demo's
 * scheduler and the end-to-end tests (which check each raises what `expects` says).
 */
import { coapDiscovery } from './coap.ts';
import { forceListenOnly, registerScan, rogueWrite, setpointOutOfRange } from './modbus.ts';
import { mqttBruteForce, mqttSysSweep } from './mqtt.ts';
import { dnp3ColdRestart, s7PlcStop } from './ot.ts';
import { sshBruteForce } from './ssh.ts';
import type { Scenario } from './types.ts';

export type { PlantTargets, Scenario, ScenarioOptions } from './types.ts';

export const SCENARIOS: readonly Scenario[] = [
  sshBruteForce,
  rogueWrite,
  setpointOutOfRange,
  forceListenOnly,
  registerScan,
  mqttBruteForce,
  mqttSysSweep,
  coapDiscovery,
  dnp3ColdRestart,
  s7PlcStop,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
