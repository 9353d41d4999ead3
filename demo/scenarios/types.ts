/**
 * What an attack scenario needs to know about the plant it attacks (the gateway's listening
 * addresses, the HMI's and the attacker's source addresses, one sensor's "stolen" credentials)
 * and what it promises: the titles of the rules in rules/ics whose alerts it must raise. The
 * demo writes the targets to `<data dir>/plant.json`, where `npm run attack` finds them.
 */
import { readFileSync } from 'node:fs';

export interface Endpoint {
  host: string;
  port: number;
}

export interface PlantTargets {
  /** The gateway's Modbus proxy in front of the PLC. */
  modbusProxy: Endpoint;
  unitId: number;
  /** Address the legitimate HMI connects from (allowed by the proxy's policy). */
  hmiAddress: string;
  /** Address attacks come from: not in any policy, not a known CoAP source. */
  attackerAddress: string;
  /** The gateway's embedded MQTT broker, and one sensor's credentials an attacker holds. */
  mqtt: Endpoint & { stolen: { id: string; password: string } };
  /** The gateway's CoAP server. */
  coap: Endpoint;
  /** The gateway's syslog TCP listener (and UDP port), and the switch that reports to it. */
  syslog: Endpoint & { udpPort: number; hostname: string };
  /** The gateway's ot_proxy in front of the DNP3 outstation (its link address), when the plant has one. */
  dnp3?: Endpoint & { outstation: number };
  /** The gateway's ot_proxy in front of the S7 controller, when the plant has one. */
  s7?: Endpoint;
}

export interface ScenarioOptions {
  /** Progress lines for a person watching (default: silent). */
  log?: (line: string) => void;
  /**
   * How long a tampered value stays before the scenario puts it back (default 6000 ms): longer
   * than the gateway poller's interval, so the poller sees it.
   */
  holdMs?: number;
}

export interface Scenario {
  name: string;
  /** One line for `npm run attack -- list` and the demo. */
  description: string;
  /** Titles of the rules (rules/ics) whose alerts the scenario must raise on the gateway. */
  expects: string[];
  /** Runs the attack; resolves with a one-line summary of what was sent. */
  run(targets: PlantTargets, options?: ScenarioOptions): Promise<string>;
}

export function readTargets(file: string): PlantTargets {
  return JSON.parse(readFileSync(file, 'utf8')) as PlantTargets;
}
