/**
 * `npm start`: the whole system on one machine. Central (embedded PGlite, no database server
 * needed) and one enrolled gateway running rules/ics, in front of a simulated plant: a PLC with
 * a tank process behind the gateway's Modbus proxy and poller, an HMI polling it, an MQTT sensor
 * fleet on the gateway's broker, CoAP sensors, and a switch sending syslog. The attack scenarios
 * (demo/scenarios) run one after another every DEMO_ATTACK_INTERVAL_SECS (20 s; 0 turns
 * them off), on a key press (1–9, 0 for the tenth) or from another terminal (`npm run attack -- <name>`), so a
 * newcomer sees alerts within a minute. Prints the two dashboard URLs and the demo login (a
 * password kept in the data dir, given to both servers as their first admin's password file);
 * Ctrl-C stops all. Preferred ports: DEMO_CENTRAL_PORT, DEMO_GATEWAY_HTTP_PORT, DEMO_SYSLOG_PORT,
 * DEMO_MODBUS_PORT, DEMO_MQTT_PORT, DEMO_COAP_PORT, DEMO_DNP3_PORT, DEMO_S7_PORT; a taken port is replaced by a free one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newToken, sha256Hex } from '../central/auth/tokens.ts';
import { centralConfigSchema } from '../central/config/schema.ts';
import { startCentral } from '../central/index.ts';
import { createLogger as centralLogger } from '../central/log.ts';
import { gatewayConfigSchema } from '../gateway/config/schema.ts';
import { enrollGateway } from '../gateway/enroll.ts';
import { startGateway } from '../gateway/index.ts';
import { createLogger as gatewayLogger } from '../gateway/log.ts';
import { SCENARIOS, type Scenario } from './scenarios/index.ts';
import { startModbusPlc } from '../firmware-shims/simulators/modbus-plc.ts';
import { plantGatewaySources, plantTargets, startOtDevices, startPlantDevices } from './plant.ts';
import { buildDashboards } from '../dashboards/build.ts';
import { pickPort } from './ports.ts';

const HOST = '127.0.0.1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.DEMO_DATA_DIR ?? path.join(root, '.data', 'demo');
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const logLevel = process.env.DEMO_LOG_LEVEL ?? 'warn';
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

// The servers serve the built dashboards: build them from the sources of this checkout first.
await buildDashboards();
const centralPort = await pickPort(HOST, env('DEMO_CENTRAL_PORT', 8080));
const syslogPort = await pickPort(HOST, env('DEMO_SYSLOG_PORT', 5514), { udp: true });
const gatewayHttpPort = await pickPort(HOST, env('DEMO_GATEWAY_HTTP_PORT', 9100));
const modbusPort = await pickPort(HOST, env('DEMO_MODBUS_PORT', 5020));
const mqttPort = await pickPort(HOST, env('DEMO_MQTT_PORT', 1883));
const coapPort = await pickPort(HOST, env('DEMO_COAP_PORT', 5683), { udp: true });
const dnp3Port = await pickPort(HOST, env('DEMO_DNP3_PORT', 20000));
const s7Port = await pickPort(HOST, env('DEMO_S7_PORT', 10102));
const attackIntervalSecs = env('DEMO_ATTACK_INTERVAL_SECS', 20);

// A fresh API token each run; only its digest goes into central's config.
const apiToken = newToken();
writeFileSync(path.join(dataDir, 'api-token'), `${apiToken}\n`, { mode: 0o600 });
// The demo login: one password for the first admin of both servers, kept with the demo's data
// (which keeps their users), so it stays valid from one run to the next.
const passwordFile = path.join(dataDir, 'admin-password');
if (!existsSync(passwordFile))
  writeFileSync(passwordFile, `${randomBytes(12).toString('base64url')}\n`, { mode: 0o600 });
const demoPassword = readFileSync(passwordFile, 'utf8').trim();

console.log('Starting central (embedded PostgreSQL via PGlite; the first start takes a few seconds)...');
const central = await startCentral(
  centralConfigSchema.parse({
    http: { listen: `${HOST}:${centralPort}` },
    storage: { type: 'pglite', data_dir: path.join(dataDir, 'central-pglite') },
    api: { tokens: [{ name: 'demo', token_sha256: sha256Hex(apiToken) }] },
    auth: { first_admin: { username: 'admin', password_file: passwordFile } },
    detection: { rules_dirs: [path.join(root, 'rules', 'central')] },
    // The Reports page (#/reports) offers the simulated plant as a site (no schedule: on demand).
    reports: { sites: [{ name: 'demo-plant', title: 'Demo plant', gateways: ['demo-gw-1'] }] },
    log: { level: logLevel },
  }),
  { logger: centralLogger(logLevel) },
);

// Enroll the gateway the way an installer would: a one-time token from central, exchanged over
// HTTP for credentials whose private key never leaves the gateway's data directory.
const gatewayDir = path.join(dataDir, 'gateway');
mkdirSync(gatewayDir, { recursive: true, mode: 0o700 });
const { token: enrollmentToken } = await central.registry.createEnrollmentToken({
  gatewayId: 'demo-gw-1',
  ttlSecs: 600,
  now: new Date(),
});
const credentials = await enrollGateway({
  central: central.url(),
  token: enrollmentToken,
  gatewayId: 'demo-gw-1',
  credentialsFile: path.join(gatewayDir, 'credentials.json'),
});

// The PLC first: the gateway's proxy and poller are configured with its address.
const plc = await startModbusPlc({ tank: { stepMs: 500 }, listenOnlyRecoveryMs: 15_000 });
// The OT devices too: the gateway's ot_proxy relays to them.
const ot = await startOtDevices({ host: HOST });
const plantOptions = {
  host: HOST,
  ports: {
    syslog: syslogPort,
    modbusProxy: modbusPort,
    mqtt: mqttPort,
    coap: coapPort,
    dnp3Proxy: dnp3Port,
    s7Proxy: s7Port,
  },
  attackerAddress: process.env.DEMO_ATTACKER_ADDRESS ?? '127.0.0.66',
  mqttSensors: env('DEMO_MQTT_SENSORS', 5),
};
const setup = await plantGatewaySources({ host: HOST, port: plc.port }, plantOptions, {
  host: HOST,
  dnp3Port: ot.outstation.port,
  dnp3Address: ot.outstation.address,
  s7Port: ot.s7.port,
});

const gateway = await startGateway(
  gatewayConfigSchema.parse({
    gateway: { id: 'demo-gw-1', data_dir: gatewayDir },
    sources: setup.sources,
    central: { endpoint: central.linkUrl(), heartbeat_interval_secs: 5 },
    detection: { rules_dirs: [path.join(root, 'rules', 'ics')] },
    // The plant's own devices all speak within seconds: learned as commissioned, not alerted on.
    inventory: { commissioning_hours: env('DEMO_COMMISSIONING_SECS', 15) / 3600 },
    http: {
      listen: `${HOST}:${gatewayHttpPort}`,
      auth: { first_admin: { username: 'admin', password_file: passwordFile } },
    },
    log: { level: logLevel },
  }),
  { privateKey: credentials.private_key, logger: gatewayLogger(logLevel), processMetrics: false },
);

const targets = plantTargets(gateway, setup, plantOptions);
// Where `npm run attack` finds the plant (it holds a sensor's password: owner only).
writeFileSync(path.join(dataDir, 'plant.json'), `${JSON.stringify(targets, null, 2)}\n`, { mode: 0o600 });
const devices = startPlantDevices(targets, setup, {
  coapSensors: env('DEMO_COAP_SENSORS', 3),
  mqttIntervalMs: env('DEMO_SENSOR_INTERVAL_MS', 5000),
  coapIntervalMs: env('DEMO_SENSOR_INTERVAL_MS', 5000),
});

const api = `${central.url()}/api/events`;
const login = `admin / ${demoPassword}`;
const dashboards = `central ${central.url()}/   gateway ${gateway.httpUrl()}/   login admin (password in ${passwordFile})`;
console.log(`
Edge SIEM demo is running (data in ${path.relative(process.cwd(), dataDir) || dataDir}).

  central     ${central.url()}/            SOC dashboard      REST API: ${api}
              API token: ${apiToken}
  gateway     ${gateway.httpUrl()}/            device dashboard   ${gateway.httpUrl()}/metrics
  login       ${login}   (both dashboards)
  syslog in   udp ${HOST}:${targets.syslog.udpPort}   tcp ${HOST}:${syslogPort}
  modbus      proxy ${HOST}:${targets.modbusProxy.port} → PLC "tank-plc" ${HOST}:${plc.port} (the gateway also polls it)
  mqtt        broker ${HOST}:${targets.mqtt.port}, ${setup.sensors.length} sensors publishing plant/line2/<id>/telemetry
  coap        ${HOST}:${targets.coap.port}, sensors POSTing /readings/<id>
  dnp3        proxy ${HOST}:${targets.dnp3?.port} → outstation "substation-rtu" (address ${ot.outstation.address}) ${HOST}:${ot.outstation.port}, polled by a master
  s7comm      proxy ${HOST}:${targets.s7?.port} → S7 CPU "pump-station-s7" ${HOST}:${ot.s7.port}, DB1 read by an HMI
  device      simulated switch "sw-line2-01" sending syslog every 2 s

Attacks (from ${targets.attackerAddress}): ${
  attackIntervalSecs > 0 ? `one every ${attackIntervalSecs} s, in turn` : 'automatic runs off'
}; press 1–${Math.min(SCENARIOS.length, 9)}${SCENARIOS.length > 9 ? ' or 0' : ''} to run one now,
'a' to pause/resume the automatic runs, or from another terminal: npm run attack -- <name>|all|list
${SCENARIOS.map((s, i) => `  ${(i + 1) % 10} ${s.name.padEnd(23)}${s.description}`).join('\n')}

Send your own message and find it:
  logger -n ${HOST} -P ${syslogPort} -d "hello"
  curl -s -H 'Authorization: Bearer ${apiToken}' '${api}?q=hello'
See the alert queue (the first attack runs within 5 s):
  curl -s -H 'Authorization: Bearer ${apiToken}' '${central.url()}/api/alerts'

Press Ctrl-C to stop.`);

let busy = false;
const runScenario = async (scenario: Scenario) => {
  if (busy) return void console.log(`an attack is running; ${scenario.name} not started`);
  busy = true;
  try {
    const summary = await scenario.run(targets);
    console.log(`[${new Date().toISOString().slice(11, 19)}] attack ${scenario.name}: ${summary}`);
    console.log(`           expect: ${scenario.expects.join('; ')}`);
  } catch (error) {
    console.log(`attack ${scenario.name} failed: ${(error as Error).message}`);
  } finally {
    busy = false;
  }
};

let next = 0;
let automatic = attackIntervalSecs > 0;
const timers: NodeJS.Timeout[] = [];
if (attackIntervalSecs > 0) {
  const tick = () => {
    // A scenario still running (the set-point one waits for the poller) delays the next one.
    if (!automatic || busy) return;
    const scenario = SCENARIOS[next % SCENARIOS.length]!;
    next += 1;
    void runScenario(scenario);
  };
  timers.push(setTimeout(tick, 5000), setInterval(tick, attackIntervalSecs * 1000));
}
// Reminder of where to look, for whoever scrolled past the banner.
timers.push(setInterval(() => console.log(`           dashboards: ${dashboards}`), 60_000));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping...');
  for (const t of timers) clearInterval(t);
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
  await devices.stop();
  await gateway.stop();
  await plc.stop();
  await ot.stop();
  await central.stop();
  console.log('Stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

if (process.stdin.isTTY) {
  process.stdin.setRawMode(true);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (key: string) => {
    if (key === '\u0003') return void stop(); // Ctrl-C, which raw mode delivers as a key
    if (key === 'a') {
      automatic = !automatic;
      console.log(`automatic attacks ${automatic ? 'resumed' : 'paused'}`);
      return;
    }
    const scenario = SCENARIOS[key === '0' ? 9 : Number(key) - 1];
    if (scenario) void runScenario(scenario);
  });
}
