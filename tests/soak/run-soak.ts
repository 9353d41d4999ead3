/**
 * The soak (issue 18, ask 4): the demo plant (demo/plant.ts: PLC behind the gateway's Modbus proxy
 * and poller, HMI, MQTT sensors, CoAP sensors, a switch) plus a steady load of mixed syslog, MQTT
 * and Modbus (loadgen.ts, a child process) through one gateway to central, both real child
 * processes, for `minutes`. The attack scenarios (demo/scenarios) run in turn at known times; a
 * central restart (SIGTERM, then again on the same database) and a gateway restart (SIGKILL, then
 * again on the same queue) happen in the middle. RSS and CPU of every process are read from /proc
 * every `sampleSecs`. At the end the load is stopped, the gateway's queue drains, both servers
 * stop, and verify.ts accounts for every message in central's database. The result is a report
 * (report.ts) and `ok`: nothing lost where the protocol promises delivery, nothing stored twice,
 * the gateway's sequence whole, and an alert for every attack run.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { plantGatewaySources, plantTargets, startOtDevices, startPlantDevices } from '../../demo/plant.ts';
import { pickPort } from '../../demo/ports.ts';
import { SCENARIOS } from '../../demo/scenarios/index.ts';
import { startModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import { DEFAULT_STAGES } from '../../gateway/pipeline/config.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import { hashPassword } from '../../gateway/sources/mqtt-broker/password.ts';
import { track } from '../bench/support/procs.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';
import {
  gatewayMetric,
  type GatewayServer,
  type ServerProcess,
  startCentralProcess,
  startGatewayProcess,
} from './processes.ts';
import { createSampler, type Sample } from './sampler.ts';
import type { ConnRecord, FromLoad, LoadConfig, Stream, ToLoad } from './types.ts';
import {
  accountSequence,
  accountStreams,
  alertQueue,
  collectStored,
  type Query,
  type SequenceAccount,
  type StreamAccount,
  otherUdpSyslog,
  storedAlerts,
} from './verify.ts';

const HOST = '127.0.0.1';
const GATEWAY_ID = 'soak-gw-1';
/** Where the Modbus load and the MQTT load clients connect from (loopback has all of 127/8). */
const MODBUS_LOAD_ADDRESS = '127.0.0.2';
const ADMIN_URL = process.env.SIEM_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface SoakOptions {
  minutes: number;
  /** Events per second from the load generators (default 5000). */
  rate: number;
  /** Where the report goes (report.html, report.json, report.txt). */
  out: string;
  store: 'postgres' | 'pglite';
  /** Seconds between two /proc samples (default 60). */
  sampleSecs: number;
  /** Seconds between two attacks (default 60). */
  attackEverySecs: number;
  /** Run the gateway bundle as it ships instead of the sources through tsx. */
  bundle: boolean;
  /** Keep the soak database and data directories. */
  keep: boolean;
  /** How long the gateway's queue may take to drain once the load stopped (default 900). */
  drainTimeoutSecs?: number;
  log: (line: string) => void;
}

export interface AttackRun {
  name: string;
  atSecs: number;
  startMs: number;
  endMs: number;
  summary: string;
  error?: string;
  /** The error of a first attempt that was retried. */
  retried?: string;
  expects: string[];
  /** Alert events central stored for each expected title in this run's window. */
  alerts: Record<string, number>;
}

export interface Marker {
  atSecs: number;
  what: string;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>;
  startedAt: string;
  durationSecs: number;
  samples: Sample[];
  markers: Marker[];
  streams: StreamAccount[];
  sequence: SequenceAccount;
  attacks: AttackRun[];
  /** Alert events not attributed to an attack run, by title. */
  otherAlerts: Record<string, number>;
  queue: Array<{ title: string; alerts: number; hits: number }>;
  behind: Record<Stream, number>;
  /** Datagrams the gateway counted received: both runs (the killed one read just before the kill). */
  udpReceived: number;
  udpReceivedAfterRestart: number;
  /** The plant's own UDP syslog (the switch) stored from the restarted gateway. */
  udpPlantAfterRestart: number;
  drainSecs: number;
  failures: string[];
  ok: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const work = mkdtempSync(path.join(tmpdir(), 'siem-soak-'));
  mkdirSync(o.out, { recursive: true });
  const log = o.log;
  const cleanups: Array<() => Promise<void> | void> = [];
  let dbName: string | undefined;
  let dbUrl: string | undefined;
  try {
    // --- the database
    if (o.store === 'postgres') {
      dbName = `siem_soak_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
      const url = new URL(ADMIN_URL);
      url.pathname = `/${dbName}`;
      dbUrl = url.toString();
    }
    const pgliteDir = path.join(work, 'central-pglite');

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
        storage:
          o.store === 'postgres' ? { type: 'postgres', url: dbUrl } : { type: 'pglite', data_dir: pgliteDir },
        api: { tokens: [{ name: 'soak', token_sha256: sha256Hex(apiToken) }] },
        detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'central')] },
        log: { level: 'warn' },
      }),
    );
    log(`central: starting on ${o.store}${dbName ? ` (database ${dbName})` : ''}`);
    let central: ServerProcess & { url: string; linkUrl: string } = await startCentralProcess(centralConfig);
    cleanups.push(() => central.stop());

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
    let gateway: GatewayServer = await startGatewayProcess(gatewayConfig, o.bundle);
    cleanups.push(() => gateway.stop());

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

    // --- the load generator
    const load = track(
      fork(path.join(REPO_ROOT, 'tests', 'soak', 'loadgen.ts'), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    cleanups.push(() => void (load.connected && load.disconnect()));
    let loadSent: Record<Stream, number> = { tcp: 0, udp: 0, mqtt: 0, modbus: 0 };
    let finalLoad: Extract<FromLoad, { type: 'final' }> | undefined;
    let loadReady = false;
    load.on('message', (m: FromLoad) => {
      if (m.type === 'ready') loadReady = true;
      else if (m.type === 'stats') loadSent = m.sent;
      else finalLoad = m;
    });
    const toLoad = (m: ToLoad) => load.send(m);
    const loadConfig: LoadConfig = {
      host: HOST,
      ports: { syslogTcp: ports.syslog, syslogUdp: ports.syslog, mqtt: ports.mqtt, modbus: ports.modbus },
      rate: o.rate,
      mqttUsers,
      modbusAddress: MODBUS_LOAD_ADDRESS,
      modbusUnitId: 1,
      tcpConnections: 4,
      modbusConnections: 4,
    };
    toLoad({ type: 'start', config: loadConfig });
    await waitFor(() => (loadReady ? true : undefined), { timeoutMs: 60_000, what: 'the load generator' });

    // --- the run
    const t0 = Date.now();
    const at = () => (Date.now() - t0) / 1000;
    const markers: Marker[] = [];
    const mark = (what: string) => {
      markers.push({ atSecs: Math.round(at()), what });
      log(`[${fmt(at())}] ${what}`);
    };
    const durationMs = o.minutes * 60_000;
    const centralRestartMs = durationMs * 0.4;
    const gatewayRestartMs = durationMs * 0.6;
    let gatewayDown = false;
    let udpReceivedBeforeKill = 0;

    const sampler = createSampler({
      t0,
      pids: () => ({
        central: central.child.exitCode === null ? central.pid : undefined,
        gateway: gateway.child.exitCode === null ? gateway.pid : undefined,
        load: load.exitCode === null ? load.pid : undefined,
        'plant+driver': process.pid,
      }),
      postgres: dbName ? { adminUrl: ADMIN_URL, database: dbName } : undefined,
      extra: async () => ({
        linkConnected: gatewayDown
          ? undefined
          : await gatewayMetric(gateway.httpUrl, 'siem_gateway_link_connected').catch(() => undefined),
        queued: gatewayDown
          ? undefined
          : await gatewayMetric(gateway.httpUrl, 'siem_gateway_queue_events').catch(() => undefined),
        sent: Object.values(loadSent).reduce((a, b) => a + b, 0),
      }),
    });
    const sampleTimer = setInterval(() => void sampler.sample(), o.sampleSecs * 1000);
    cleanups.push(async () => {
      clearInterval(sampleTimer);
      await sampler.close();
    });
    await sampler.sample();

    // Attacks in turn every attackEverySecs, never in the 20 s before the gateway kill nor while
    // it is down (an attack on a dead gateway is not an attack the soak can count).
    const attacks: AttackRun[] = [];
    let stopAttacks = false;
    // On a failure too: a pending attack loop would keep the process (or the test file) alive.
    cleanups.push(() => void (stopAttacks = true));
    const attacker = (async () => {
      let n = 0;
      let next = Math.min(15_000, o.attackEverySecs * 1000);
      while (!stopAttacks) {
        await sleep(Math.max(0, t0 + next - Date.now()));
        next += o.attackEverySecs * 1000;
        if (stopAttacks || Date.now() - t0 > durationMs - 20_000) break;
        const since = Date.now() - t0;
        if (gatewayDown || (since > gatewayRestartMs - 20_000 && since < gatewayRestartMs)) continue;
        const scenario = SCENARIOS[n % SCENARIOS.length]!;
        n += 1;
        const run: AttackRun = {
          name: scenario.name,
          atSecs: Math.round(at()),
          startMs: Date.now(),
          endMs: 0,
          summary: '',
          expects: scenario.expects,
          alerts: {},
        };
        // One retry, 3 s later, when the attack could not reach the plant (a connection refused or
        // timed out on a loaded machine is not an attack the gateway missed); the report says so.
        for (let attempt = 0; ; attempt += 1) {
          try {
            run.summary = await scenario.run(targets);
            run.error = undefined;
            break;
          } catch (error) {
            run.error = (error as Error).message;
            if (attempt > 0) break;
            run.retried = run.error;
            await sleep(3000);
          }
        }
        run.endMs = Date.now();
        attacks.push(run);
        log(`[${fmt(at())}] attack ${scenario.name}: ${run.error ?? run.summary}`);
      }
    })();

    // Central restart: SIGTERM, then again on the same database and port.
    await sleep(Math.max(0, t0 + centralRestartMs - Date.now()));
    mark('central: SIGTERM');
    await central.stop();
    mark('central: stopped; starting again');
    central = await startCentralProcess(centralConfig);
    mark('central: up again');

    // Gateway restart: SIGKILL, then again on the same data directory (queue, state, credentials).
    await sleep(Math.max(0, t0 + gatewayRestartMs - Date.now()));
    gatewayDown = true;
    toLoad({ type: 'phase', gatewayDown: true });
    udpReceivedBeforeKill = await gatewayMetric(
      gateway.httpUrl,
      'siem_gateway_events_received_total',
      'syslog_udp',
    );
    await sleep(300); // the load generator hears of the kill before its sockets break
    mark('gateway: SIGKILL');
    const killedAt = Date.now();
    await gateway.kill();
    gateway = await startGatewayProcess(gatewayConfig, o.bundle);
    gatewayDown = false;
    toLoad({ type: 'phase', gatewayDown: false });
    mark('gateway: up again');

    await sleep(Math.max(0, t0 + durationMs - Date.now()));
    mark('load: stopping');
    stopAttacks = true;
    await attacker;
    toLoad({ type: 'stop' });
    await waitFor(() => finalLoad, { timeoutMs: 60_000, what: "the load generator's final record" });
    await devices.stop();
    await sampler.sample();
    // The drain: the queue empty on two reads a second apart (the gauge refreshes once a second).
    const drainStart = Date.now();
    // A queue that does not drain in time is a failure, not a reason to lose the report.
    let undrained = 0;
    await waitFor(
      async () => {
        if ((await gatewayMetric(gateway.httpUrl, 'siem_gateway_queue_events')) > 0) return undefined;
        await sleep(1100);
        return (await gatewayMetric(gateway.httpUrl, 'siem_gateway_queue_events')) === 0 ? true : undefined;
      },
      {
        timeoutMs: (o.drainTimeoutSecs ?? 900) * 1000,
        intervalMs: 500,
        what: "the gateway's queue to drain",
      },
    ).catch(async () => {
      undrained = await gatewayMetric(gateway.httpUrl, 'siem_gateway_queue_events');
    });
    const drainSecs = (Date.now() - drainStart) / 1000;
    mark(
      undrained > 0
        ? `gateway: ${undrained} events still queued after ${drainSecs.toFixed(0)} s`
        : `gateway: queue drained in ${drainSecs.toFixed(1)} s`,
    );
    const udpReceivedAfter = await gatewayMetric(
      gateway.httpUrl,
      'siem_gateway_events_received_total',
      'syslog_udp',
    );
    clearInterval(sampleTimer);
    await sampler.sample();
    await sampler.close();
    const durationSecs = at();
    await gateway.stop();
    await central.stop();
    await plc.stop();
    // The DNP3 outstation and S7 controller too: left running, they kept the test file alive
    // past the runner's 600 s limit after the soak itself had passed.
    await ot.stop();
    cleanups.length = 0;
    if (load.connected) load.disconnect();

    // --- the accounting, on central's database
    log("verifying in central's database...");
    const { q, close } = await openDatabase(o.store, dbUrl, pgliteDir);
    let streams: StreamAccount[];
    let sequence: SequenceAccount;
    let alertEvents: Awaited<ReturnType<typeof storedAlerts>>;
    let udpOthersAfter: number;
    let queue: Awaited<ReturnType<typeof alertQueue>>;
    try {
      await collectStored(q, GATEWAY_ID, MODBUS_LOAD_ADDRESS);
      streams = await accountStreams(q, finalLoad!.conns as ConnRecord[]);
      sequence = await accountSequence(q, GATEWAY_ID);
      alertEvents = await storedAlerts(q, GATEWAY_ID);
      udpOthersAfter = await otherUdpSyslog(q, GATEWAY_ID, killedAt);
      queue = await alertQueue(q);
    } finally {
      await close();
    }

    // Alerts per attack run: alert events of an expected title whose last_seen falls between the
    // run's start and the next run's start (a minute at most after the last one).
    attacks.sort((a, b) => a.startMs - b.startMs);
    const attributed = new Set<number>();
    attacks.forEach((run, k) => {
      const until = attacks[k + 1]?.startMs ?? run.endMs + 60_000;
      for (const title of run.expects) {
        run.alerts[title] = 0;
        alertEvents.forEach((a, idx) => {
          if (a.title === title && a.lastSeen >= run.startMs - 1000 && a.lastSeen < until) {
            run.alerts[title]! += 1;
            attributed.add(idx);
          }
        });
      }
    });
    const otherAlerts: Record<string, number> = {};
    alertEvents.forEach((a, idx) => {
      if (!attributed.has(idx)) otherAlerts[a.title] = (otherAlerts[a.title] ?? 0) + 1;
    });

    const udp = streams.find((s) => s.stream === 'udp')!;
    const udpReceived = udpReceivedBeforeKill + udpReceivedAfter;
    // What the restarted gateway received (its counter after the drain is exact) must all be stored:
    // none of it can have been sent before the kill notice.
    const failures: string[] = [];
    if (undrained > 0)
      failures.push(
        `the gateway's queue held ${undrained} events ${drainSecs.toFixed(0)} s after the load stopped (they count as lost below)`,
      );
    for (const s of streams) {
      if (s.lost > 0) failures.push(`${s.stream}: ${s.lost} lost (${s.examples.join(', ')})`);
      if (s.duplicates > 0) failures.push(`${s.stream}: ${s.duplicates} stored twice`);
      if (s.unknown > 0) failures.push(`${s.stream}: ${s.unknown} stored that the load never sent`);
      if (s.sent === 0) failures.push(`${s.stream}: nothing sent`);
    }
    // The plant's switch sends syslog over UDP too: its datagrams count in the gateway's counter.
    if ((udp.udpStoredAfterKill ?? 0) + udpOthersAfter < udpReceivedAfter)
      failures.push(
        `udp: the restarted gateway counted ${udpReceivedAfter} received, but only ${udp.udpStoredAfterKill} of the load's sent after the kill and ${udpOthersAfter} of the plant's are stored`,
      );
    if (sequence.stored !== sequence.max || sequence.distinct !== sequence.stored)
      failures.push(
        `gateway sequence: ${sequence.stored} stored, ${sequence.distinct} distinct, max ${sequence.max} (a gap or a repeat)`,
      );
    for (const run of attacks) {
      if (run.error) failures.push(`attack ${run.name} at ${run.atSecs} s failed: ${run.error}`);
      const silent = run.expects.filter((t) => !run.alerts[t]);
      if (silent.length > 0)
        failures.push(`attack ${run.name} at ${run.atSecs} s raised no "${silent.join('", "')}"`);
    }
    if (attacks.length === 0) failures.push('no attack ran');

    return {
      options: { ...o, log: undefined } as unknown as SoakReport['options'],
      startedAt: new Date(t0).toISOString(),
      durationSecs,
      samples: sampler.samples,
      markers,
      streams,
      sequence,
      attacks,
      otherAlerts,
      queue,
      behind: finalLoad!.behind,
      udpReceived,
      udpReceivedAfterRestart: udpReceivedAfter,
      udpPlantAfterRestart: udpOthersAfter,
      drainSecs,
      failures,
      ok: failures.length === 0,
    };
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    if (dbName && !o.keep) {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
    if (!o.keep) rmSync(work, { recursive: true, force: true });
    else log(`kept: ${work}${dbName ? ` and database ${dbName}` : ''}`);
  }
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

async function openDatabase(
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

export function fmt(secs: number): string {
  const s = Math.floor(secs);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
