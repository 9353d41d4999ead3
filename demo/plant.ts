/**
 * The simulated plant wired through one gateway, shared by `npm start` and the end-to-end tests:
 * the gateway's sources for it (syslog, a Modbus proxy with a master policy in front of the PLC, a
 * poller reading the tank's register map with set-point flags and engineering ranges, the
 * embedded MQTT broker with one user and ACL per sensor, the CoAP server with its reading
 * resources and known sources), the attack targets read back from the running gateway, and the
 * devices (HMI, MQTT fleet, CoAP sensors, switches) pointed at it. Counts and rates are options.
 * The OT part of the plant (startOtDevices): a DNP3 outstation (a substation RTU) and an S7
 * controller (a pumping station), each behind the gateway's ot_proxy source, with a master and
 * an HMI polling them through it.
 */
import { hashPassword } from '../gateway/sources/mqtt-broker/password.ts';
import { type CoapSensorsOptions, startCoapSensors } from '../firmware-shims/simulators/coap-sensors.ts';
import {
  type Dnp3Outstation,
  startDnp3Outstation,
  startDnp3Poller,
} from '../firmware-shims/simulators/dnp3-outstation.ts';
import { startHmi } from '../firmware-shims/simulators/modbus-master.ts';
import { type S7Plc, startS7Hmi, startS7Plc } from '../firmware-shims/simulators/s7-plc.ts';
import { type MqttSensor, mqttSensors, startMqttFleet } from '../firmware-shims/simulators/mqtt-fleet.ts';
import { startSyslogSwitch } from '../firmware-shims/simulators/syslog-switch.ts';
import { TANK, TANK_SETPOINT_RANGES } from '../firmware-shims/simulators/tank-process.ts';
import type { PlantTargets } from './scenarios/types.ts';

export interface PlantOptions {
  host: string;
  /** Preferred listening ports of the gateway's sources (0: any free port). */
  ports?: {
    syslog?: number;
    modbusProxy?: number;
    mqtt?: number;
    coap?: number;
    dnp3Proxy?: number;
    s7Proxy?: number;
  };
  hmiAddress?: string;
  attackerAddress?: string;
  /** `monitor` (default: report, forward everything) or `enforce` (block what the policy denies). */
  proxyMode?: 'monitor' | 'enforce';
  pollIntervalMs?: number;
  /** Number of MQTT sensors, each with its own credentials (default 5). */
  mqttSensors?: number;
  /** scrypt cost of the sensors' password hashes (tests use the minimum, 1024). */
  scryptN?: number;
}

export interface PlantGatewaySetup {
  sources: Record<string, unknown>;
  sensors: MqttSensor[];
  /** The OT devices behind the ot_proxy source, when the plant has them. */
  ot?: { dnp3Address: number };
}

export interface OtDevices {
  outstation: Dnp3Outstation;
  s7: S7Plc;
  stop(): Promise<void>;
}

/** The OT devices the gateway's ot_proxy fronts: a DNP3 outstation and an S7 controller. */
export async function startOtDevices(
  o: { host?: string; stepMs?: number; s7RecoverMs?: number } = {},
): Promise<OtDevices> {
  const host = o.host ?? '127.0.0.1';
  const outstation = await startDnp3Outstation({ host, stepMs: o.stepMs ?? 1000 });
  const s7 = await startS7Plc({ host, stepMs: o.stepMs ?? 1000, recoverMs: o.s7RecoverMs ?? 15_000 });
  return {
    outstation,
    s7,
    async stop() {
      await outstation.stop();
      await s7.stop();
    },
  };
}

/** Poller points for the tank: values with their ranges, set-points flagged, pump/valve/alarms. */
export function tankPoints(): Array<Record<string, unknown>> {
  const pct = { scale: 0.1, unit: '%' };
  const points: Array<Record<string, unknown>> = [
    { name: 'level', table: 'input', address: TANK.input.level, ...pct, min: 0, max: 100 },
    { name: 'temperature', table: 'input', address: TANK.input.temperature, scale: 0.1, unit: 'degC' },
    { name: 'flow_in', table: 'input', address: TANK.input.flow_in, scale: 0.1, unit: '%/s' },
  ];
  for (const [name, address] of Object.entries(TANK.holding)) {
    const [lo, hi] = TANK_SETPOINT_RANGES[name as keyof typeof TANK.holding];
    const scaled = name === 'mode' ? { scale: 1 } : pct;
    const k = scaled.scale;
    points.push({ name, table: 'holding', address, ...scaled, setpoint: true, min: lo * k, max: hi * k });
  }
  for (const [name, address] of Object.entries(TANK.coils))
    points.push({ name: `${name}_coil`, type: 'coil', address });
  for (const [name, address] of Object.entries(TANK.discrete))
    points.push({ name, type: 'bool', table: 'discrete_input', address });
  return points;
}

/** The gateway's `sources:` for the plant, with fresh credentials for the MQTT sensors. */
export async function plantGatewaySources(
  plc: { host: string; port: number },
  o: PlantOptions,
  ot?: { host: string; dnp3Port: number; dnp3Address: number; s7Port: number },
): Promise<PlantGatewaySetup> {
  const host = o.host;
  const hmi = o.hmiAddress ?? '127.0.0.1';
  const sensors = mqttSensors(o.mqttSensors ?? 5);
  const params = { N: o.scryptN ?? 16_384, r: 8, p: 1 };
  const users = await Promise.all(
    sensors.map(async (s) => ({
      username: s.id,
      password_hash: await hashPassword(s.password, params),
      // Each sensor may publish its own readings only (Mosquitto-style %u), and subscribe to nothing.
      publish: ['plant/+/%u/#'],
    })),
  );
  const syslogListen = `${host}:${o.ports?.syslog ?? 0}`;
  const otSources = ot && {
    ot_proxy: {
      type: 'ot_proxy',
      proxies: [
        {
          protocol: 'dnp3',
          listen: `${host}:${o.ports?.dnp3Proxy ?? 0}`,
          upstream: `${ot.host}:${ot.dnp3Port}`,
          device_name: 'substation-rtu',
        },
        {
          protocol: 's7comm',
          listen: `${host}:${o.ports?.s7Proxy ?? 0}`,
          upstream: `${ot.host}:${ot.s7Port}`,
          device_name: 'pump-station-s7',
        },
      ],
    },
  };
  return {
    sensors,
    ...(ot && { ot: { dnp3Address: ot.dnp3Address } }),
    sources: {
      ...otSources,
      syslog_udp: { type: 'syslog', mode: 'udp', listen: syslogListen },
      syslog_tcp: { type: 'syslog', mode: 'tcp', listen: syslogListen },
      modbus_proxy: {
        type: 'modbus_proxy',
        listen: `${host}:${o.ports?.modbusProxy ?? 0}`,
        endpoint: `${plc.host}:${plc.port}`,
        mode: o.proxyMode ?? 'monitor',
        unit_ids: [1],
        device_name: 'tank-plc',
        // The HMI reads the tank and writes set-points, pump and valve; nobody else talks to it.
        masters: [
          {
            address: hmi,
            function_codes: [1, 2, 3, 4, 5, 6, 15, 16],
            address_ranges: [{ start: 0, end: 99 }],
          },
        ],
      },
      modbus_poller: {
        type: 'modbus_poller',
        endpoint: `${plc.host}:${plc.port}`,
        unit_id: 1,
        poll_interval_ms: o.pollIntervalMs ?? 2000,
        device_name: 'tank-plc',
        points: tankPoints(),
      },
      mqtt_broker: {
        type: 'mqtt_broker',
        listen: `${host}:${o.ports?.mqtt ?? 0}`,
        users,
        telemetry: [{ match: 'plant/#', payload: 'json' }],
        // Detect only: the demo's attacker runs every scenario from one address, and blocking it
        // after the brute force (the default) would refuse the stolen-credential sweep after it.
        rates: { block_secs: 0 },
      },
      coap: {
        type: 'coap',
        listen: `${host}:${o.ports?.coap ?? 0}`,
        resources: [{ path: '/readings/#', methods: ['POST', 'PUT'], title: 'sensor readings' }],
        known_sources: [host],
        telemetry: [{ match: 'readings/#', payload: 'json' }],
      },
    },
  };
}

type SourceView = { name: string; addresses(): Array<{ transport: string; host: string; port: number }> };

/** Where the running gateway listens, as the attack scenarios need it. */
export function plantTargets(
  gateway: { sources(): SourceView[] },
  setup: PlantGatewaySetup,
  o: PlantOptions,
  switchHostname = 'sw-line2-01',
): PlantTargets {
  const at = (name: string) => {
    const a = gateway
      .sources()
      .find((s) => s.name === name)
      ?.addresses()[0];
    if (!a) throw new Error(`the gateway has no listening source ${name}`);
    return { host: a.host, port: a.port };
  };
  return {
    modbusProxy: at('modbus_proxy'),
    unitId: 1,
    hmiAddress: o.hmiAddress ?? '127.0.0.1',
    attackerAddress: o.attackerAddress ?? '127.0.0.66',
    mqtt: { ...at('mqtt_broker'), stolen: setup.sensors[0]! },
    coap: at('coap'),
    syslog: { ...at('syslog_tcp'), udpPort: at('syslog_udp').port, hostname: switchHostname },
    ...(setup.ot && otTargets(gateway, setup.ot.dnp3Address)),
  };
}

/** The ot_proxy's two listeners: the DNP3 outstation's first, the S7 controller's second. */
function otTargets(gateway: { sources(): SourceView[] }, dnp3Address: number) {
  const proxy = gateway.sources().find((s) => s.name === 'ot_proxy');
  const [dnp3, s7] = proxy?.addresses() ?? [];
  if (!dnp3 || !s7) throw new Error('the gateway has no listening ot_proxy');
  return {
    dnp3: { host: dnp3.host, port: dnp3.port, outstation: dnp3Address },
    s7: { host: s7.host, port: s7.port },
  };
}

export interface PlantDevicesOptions {
  hmiIntervalMs?: number;
  mqttIntervalMs?: number;
  coapIntervalMs?: number;
  syslogIntervalMs?: number;
  /** The DNP3 master's integrity polls and the S7 HMI's reads (default 2000 ms). */
  otIntervalMs?: number;
  coapSensors?: number;
  switches?: number;
  coap?: Partial<CoapSensorsOptions>;
}

/** Starts the plant's devices against the gateway; `stop` ends them all. */
export function startPlantDevices(
  targets: PlantTargets,
  setup: PlantGatewaySetup,
  o: PlantDevicesOptions = {},
) {
  const hmi = startHmi({
    ...targets.modbusProxy,
    localAddress: targets.hmiAddress,
    unitId: targets.unitId,
    intervalMs: o.hmiIntervalMs ?? 1000,
  });
  const fleet = startMqttFleet({
    ...targets.mqtt,
    sensors: setup.sensors,
    intervalMs: o.mqttIntervalMs ?? 5000,
  });
  const coap = startCoapSensors({
    ...targets.coap,
    count: o.coapSensors ?? 3,
    intervalMs: o.coapIntervalMs ?? 5000,
    ...o.coap,
  });
  const switches = Array.from({ length: o.switches ?? 1 }, (_, i) =>
    startSyslogSwitch({
      host: targets.syslog.host,
      udpPort: targets.syslog.udpPort,
      tcpPort: targets.syslog.port,
      hostname: i === 0 ? targets.syslog.hostname : `sw-line2-${String(i + 1).padStart(2, '0')}`,
      intervalMs: o.syslogIntervalMs ?? 2000,
    }),
  );
  const otMs = o.otIntervalMs ?? 2000;
  const from = targets.hmiAddress;
  const dnp3Master =
    targets.dnp3 &&
    startDnp3Poller({
      ...targets.dnp3,
      localAddress: from,
      intervalMs: otMs,
      outstation: targets.dnp3.outstation,
    });
  const s7Hmi = targets.s7 && startS7Hmi({ ...targets.s7, localAddress: from, intervalMs: otMs });
  return {
    hmi,
    fleet,
    coap,
    async stop(): Promise<void> {
      dnp3Master?.stop();
      s7Hmi?.stop();
      hmi.stop();
      coap.stop();
      for (const s of switches) s.stop();
      await fleet.stop();
    },
  };
}
