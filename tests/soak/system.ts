/**
 * The soak's system, set up as an installer would: central (a child process) on the soak's
 * database with an API token, the gateway enrolled with a one-time token, the plant's PLC and OT
 * devices, the gateway's sources for them (demo/plant.ts) plus the load's own (a second Modbus
 * operator station, MQTT users), the gateway itself, and the plant's devices at their ports.
 * Ports are fixed for the whole run, so restarted processes come back where they were. Every
 * part started registers its stop in `cleanups`; `central` and `gateway` are replaced when the
 * run restarts them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { plantGatewaySources, plantTargets, startOtDevices, startPlantDevices } from '../../demo/plant.ts';
import { pickPort } from '../../demo/ports.ts';
import { startModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import { DEFAULT_STAGES } from '../../gateway/pipeline/config.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import { hashPassword } from '../../gateway/sources/mqtt-broker/password.ts';
import { REPO_ROOT } from '../support/env.ts';
import {
  type GatewayServer,
  type ServerProcess,
  startCentralProcess,
  startGatewayProcess,
} from './processes.ts';
import type { SoakOptions } from './run-soak.ts';
import type { Query } from './verify.ts';

export const HOST = '127.0.0.1';
export const GATEWAY_ID = 'soak-gw-1';
/** Where the Modbus load and the MQTT load clients connect from (loopback has all of 127/8). */
export const MODBUS_LOAD_ADDRESS = '127.0.0.2';

type Cleanups = Array<() => Promise<void> | void>;

export interface SoakSystem {
  central: ServerProcess & { url: string; linkUrl: string };
  gateway: GatewayServer;
  centralConfig: string;
  gatewayConfig: string;
  ports: Record<'central' | 'syslog' | 'modbus' | 'mqtt' | 'coap' | 'dnp3' | 's7', number>;
  plc: Awaited<ReturnType<typeof startModbusPlc>>;
  ot: Awaited<ReturnType<typeof startOtDevices>>;
  targets: ReturnType<typeof plantTargets>;
  devices: ReturnType<typeof startPlantDevices>;
  mqttUsers: Array<{ username: string; password: string; address: string }>;
}

/** Starts everything but the load; `storage` is central's storage config. */
export async function startSoakSystem(
  o: SoakOptions,
  work: string,
  storage: Record<string, unknown>,
  cleanups: Cleanups,
): Promise<SoakSystem> {
  const log = o.log;
  const sys: Partial<SoakSystem> = {};
  // --- ports fixed for the whole run: restarted processes come back where they were
  const port = (udp = false) => pickPort(HOST, 0, { udp });
  const ports = {
    central: await port(),
    syslog: await port(true),
    modbus: await port(),
    mqtt: await port(),
    coap: await port(true),
    dnp3: await port(),
    s7: await port(),
  };

  // --- central
  const apiToken = newToken();
  const centralConfig = path.join(work, 'central.yaml');
  writeFileSync(
    centralConfig,
    JSON.stringify({
      http: { listen: `${HOST}:${ports.central}` },
      storage,
      api: { tokens: [{ name: 'soak', token_sha256: sha256Hex(apiToken) }] },
      detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'central')] },
      log: { level: 'warn' },
    }),
  );
  log(`central: starting on ${o.store}`);
  sys.central = await startCentralProcess(centralConfig);
  cleanups.push(() => sys.central?.stop());
  const central = sys.central;

  // --- enrollment, as an installer does it: a one-time token, exchanged for credentials
  const gatewayDir = path.join(work, 'gateway');
  mkdirSync(gatewayDir, { recursive: true, mode: 0o700 });
  const tokenRes = await fetch(`${central.url}/api/enrollment-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ gateway_id: GATEWAY_ID, ttl_secs: 600 }),
  });
  if (!tokenRes.ok) throw new Error(`enrollment token: HTTP ${tokenRes.status} ${await tokenRes.text()}`);
  const { token } = (await tokenRes.json()) as { token: string };
  await enrollGateway({
    central: central.url,
    token,
    gatewayId: GATEWAY_ID,
    credentialsFile: path.join(gatewayDir, 'credentials.json'),
  });

  // --- the plant's PLC, and the gateway's sources for it (demo/plant.ts) plus the load's own
  const plc = await startModbusPlc({ tank: { stepMs: 500 }, listenOnlyRecoveryMs: 15_000 });
  cleanups.push(() => plc.stop());
  const ot = await startOtDevices({ host: HOST });
  cleanups.push(() => ot.stop());
  const plantOptions = {
    host: HOST,
    ports: {
      syslog: ports.syslog,
      modbusProxy: ports.modbus,
      mqtt: ports.mqtt,
      coap: ports.coap,
      dnp3Proxy: ports.dnp3,
      s7Proxy: ports.s7,
    },
    mqttSensors: 5,
    scryptN: 1024,
  };
  const setup = await plantGatewaySources({ host: HOST, port: plc.port }, plantOptions, {
    host: HOST,
    dnp3Port: ot.outstation.port,
    dnp3Address: ot.outstation.address,
    s7Port: ot.s7.port,
  });
  const sources = setup.sources as Record<string, Record<string, unknown>>;
  // The Modbus load is a second operator station: FC 3 reads of holding registers 0-99 only.
  (sources.modbus_proxy!.masters as unknown[]).push({
    address: MODBUS_LOAD_ADDRESS,
    function_codes: [3],
    address_ranges: [{ start: 0, end: 99 }],
  });
  // MQTT load clients: each from its own loopback address, so that none publishes 1,000
  // messages in 10 s from one address (the publish flood rule) at the configured rate.
  const mqttClients = Math.max(2, Math.ceil((o.rate * 0.3) / 60));
  const mqttUsers = Array.from({ length: mqttClients }, (_, k) => ({
    username: `soak-m${String(k + 1).padStart(2, '0')}`,
    password: randomBytes(12).toString('base64url'),
    address: `127.0.1.${k + 1}`,
  }));
  for (const u of mqttUsers)
    (sources.mqtt_broker!.users as unknown[]).push({
      username: u.username,
      password_hash: await hashPassword(u.password, { N: 1024, r: 8, p: 1 }),
      publish: ['plant/soak/%u/#'],
    });
  const gatewayConfig = path.join(work, 'gateway.yaml');
  writeFileSync(
    gatewayConfig,
    JSON.stringify({
      gateway: { id: GATEWAY_ID, data_dir: gatewayDir },
      sources,
      central: {
        endpoint: central.linkUrl,
        heartbeat_interval_secs: 5,
        initial_backoff_secs: 0.2,
        max_backoff_secs: 2,
      },
      detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
      // Everything the plant and the load do in the first minute is the plant commissioned.
      inventory: { commissioning_hours: 60 / 3600 },
      pipeline: { stages: soakStages() },
      http: { listen: `${HOST}:0` },
      log: { level: 'warn' },
    }),
  );
  log(`gateway: starting (${o.bundle ? 'bundle' : 'sources through tsx'})`);
  sys.gateway = await startGatewayProcess(gatewayConfig, o.bundle);
  cleanups.push(() => sys.gateway?.stop());

  // --- the plant's devices and the attack targets, at the fixed ports
  const fixed: Array<[string, string, number[]]> = [
    ['syslog_tcp', 'tcp', [ports.syslog]],
    ['syslog_udp', 'udp', [ports.syslog]],
    ['modbus_proxy', 'tcp', [ports.modbus]],
    ['mqtt_broker', 'tcp', [ports.mqtt]],
    ['coap', 'udp', [ports.coap]],
    // The ot_proxy's listeners in the order plantTargets expects: DNP3 first, S7 second.
    ['ot_proxy', 'tcp', [ports.dnp3, ports.s7]],
  ];
  const view = {
    sources: () =>
      fixed.map(([name, transport, list]) => ({
        name,
        addresses: () => list.map((p) => ({ transport, host: HOST, port: p })),
      })),
  };
  const targets = plantTargets(view, setup, plantOptions);
  const devices = startPlantDevices(targets, setup, { coapSensors: 3 });
  cleanups.push(() => devices.stop());
  Object.assign(sys, { centralConfig, gatewayConfig, ports, plc, ot, targets, devices, mqttUsers });
  return sys as SoakSystem;
}

/**
 * The default pipeline (gateway/pipeline/config.ts) with the load kept whole, so that each of its
 * messages can be counted at central: the sensor aggregate leaves the load's topics alone, and the
 * Modbus read summary is left out (it has no match; the plant's HMI reads then cross one by one).
 * The word-for-word syslog dedupe stays: no two load lines are the same.
 */
export function soakStages(): unknown[] {
  return DEFAULT_STAGES.filter((s) => s.type !== 'modbus_reads').map((s) =>
    s.type === 'aggregate'
      ? {
          ...s,
          match: undefined,
          sigma: {
            selection: { action: ['mqtt.telemetry', 'coap.telemetry'] },
            load: { 'fields.topic|startswith': 'plant/soak/' },
            condition: 'selection and not load',
          },
        }
      : s,
  );
}

/** A connection to central's database for the accounting, once central has stopped. */
export async function openDatabase(
  store: 'postgres' | 'pglite',
  url: string | undefined,
  dir: string,
): Promise<{ q: Query; close: () => Promise<void> }> {
  if (store === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return {
      q: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
      close: () => client.end(),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const db = await PGlite.create(dir, { extensions: { pg_trgm } });
  return {
    q: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    close: () => db.close(),
  };
}
