/**
 * `npm start`: the whole system on one machine. Central (embedded PGlite, no database server
 * needed), one gateway with syslog on UDP and TCP, and a simulated switch sending syslog.
 * Prints the URLs, ports and a ready-to-paste `logger` and `curl` command; Ctrl-C stops all.
 * Preferred ports can be changed with DEMO_CENTRAL_PORT, DEMO_SYSLOG_PORT, DEMO_GATEWAY_HTTP_PORT;
 * a taken port is replaced by a free one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { startCentral } from '../../central/index.ts';
import { createLogger as centralLogger } from '../../central/log.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import { startGateway } from '../../gateway/index.ts';
import { createLogger as gatewayLogger } from '../../gateway/log.ts';
import { startSyslogSwitch } from '../simulators/syslog-switch.ts';
import { pickPort } from './ports.ts';

const HOST = '127.0.0.1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = process.env.DEMO_DATA_DIR ?? path.join(root, '.data', 'demo');
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const logLevel = process.env.DEMO_LOG_LEVEL ?? 'warn';

const centralPort = await pickPort(HOST, Number(process.env.DEMO_CENTRAL_PORT ?? 8080));
const syslogPort = await pickPort(HOST, Number(process.env.DEMO_SYSLOG_PORT ?? 5514), { udp: true });
const gatewayHttpPort = await pickPort(HOST, Number(process.env.DEMO_GATEWAY_HTTP_PORT ?? 9100));

// A fresh API token each run; only its digest goes into central's config.
const apiToken = newToken();
writeFileSync(path.join(dataDir, 'api-token'), `${apiToken}\n`, { mode: 0o600 });

console.log('Starting central (embedded PostgreSQL via PGlite; the first start takes a few seconds)...');
const central = await startCentral(
  centralConfigSchema.parse({
    http: { listen: `${HOST}:${centralPort}` },
    storage: { type: 'pglite', data_dir: path.join(dataDir, 'central-pglite') },
    api: { tokens: [{ name: 'demo', token_sha256: sha256Hex(apiToken) }] },
    detection: { rules_dirs: [path.join(root, 'rules', 'central')] },
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

const gateway = await startGateway(
  gatewayConfigSchema.parse({
    gateway: { id: 'demo-gw-1', data_dir: gatewayDir },
    sources: {
      syslog_udp: { type: 'syslog', mode: 'udp', listen: `${HOST}:${syslogPort}` },
      syslog_tcp: { type: 'syslog', mode: 'tcp', listen: `${HOST}:${syslogPort}` },
    },
    central: { endpoint: central.linkUrl(), heartbeat_interval_secs: 5 },
    detection: { rules_dirs: [path.join(root, 'rules', 'ics')] },
    http: { listen: `${HOST}:${gatewayHttpPort}` },
    log: { level: logLevel },
  }),
  { privateKey: credentials.private_key, logger: gatewayLogger(logLevel), processMetrics: false },
);

const device = startSyslogSwitch({ host: HOST, udpPort: syslogPort, tcpPort: syslogPort, attackEvery: 10 });

const api = `${central.url()}/api/events`;
console.log(`
Edge SIEM demo is running (data in ${path.relative(process.cwd(), dataDir) || dataDir}).

  central     ${central.url()}            REST API: ${api}
              API token: ${apiToken}
  gateway     ${gateway.httpUrl()}/api/status    ${gateway.httpUrl()}/metrics
  syslog in   udp ${HOST}:${syslogPort}   tcp ${HOST}:${syslogPort}
  device      simulated switch "sw-line2-01" sending syslog every 2 s; every 20 s it suffers an
              SSH brute force followed by a login, which the gateway's rules (rules/) turn into alerts

Send your own message and find it:
  logger -n ${HOST} -P ${syslogPort} -d "hello"
  curl -s -H 'Authorization: Bearer ${apiToken}' '${api}?q=hello'
See the alert queue (the edge's alerts appear within about 20 s):
  curl -s -H 'Authorization: Bearer ${apiToken}' '${central.url()}/api/alerts'

Press Ctrl-C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping...');
  device.stop();
  await gateway.stop();
  await central.stop();
  console.log('Stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
