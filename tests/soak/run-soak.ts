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
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { track } from '../bench/support/procs.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';
import { type AttackRun, creditAlerts, startAttacks } from './attacks.ts';
import { gatewayMetric, startCentralProcess, startGatewayProcess } from './processes.ts';
import { createSampler, type Sample } from './sampler.ts';
import { GATEWAY_ID, HOST, MODBUS_LOAD_ADDRESS, openDatabase, startSoakSystem } from './system.ts';
import type { ConnRecord, FromLoad, LoadConfig, Stream, ToLoad } from './types.ts';
import {
  accountSequence,
  accountStreams,
  alertQueue,
  collectStored,
  type SequenceAccount,
  soakFailures,
  type StreamAccount,
  otherUdpSyslog,
  storedAlerts,
} from './verify.ts';

export type { AttackRun } from './attacks.ts';

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
      log(`database ${dbName}`);
    }
    const pgliteDir = path.join(work, 'central-pglite');
    const storage =
      o.store === 'postgres' ? { type: 'postgres', url: dbUrl } : { type: 'pglite', data_dir: pgliteDir };

    // --- central, the enrolled gateway, the plant (system.ts)
    const sys = await startSoakSystem(o, work, storage, cleanups);
    const { ports, mqttUsers, targets, devices, plc, ot, centralConfig, gatewayConfig } = sys;

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
    // A server that dies on its own ends the run at once with what it last printed (the waits
    // below race it), instead of an hour of load against a dead port.
    let crash: string | undefined;
    let wake: (() => void) | undefined;
    const watch = (p: { crashed: Promise<string> }) =>
      void p.crashed.then((text) => {
        crash ??= text;
        log(`[${fmt(at())}] ${text}`);
        wake?.();
      });
    const nap = async (ms: number) => {
      if (!crash) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, ms)));
      if (crash) throw new Error(crash);
    };
    watch(sys.central);
    watch(sys.gateway);
    const durationMs = o.minutes * 60_000;
    const centralRestartMs = durationMs * 0.4;
    const gatewayRestartMs = durationMs * 0.6;
    let gatewayDown = false;
    let udpReceivedBeforeKill = 0;

    const sampler = createSampler({
      t0,
      pids: () => ({
        central: sys.central.child.exitCode === null ? sys.central.pid : undefined,
        gateway: sys.gateway.child.exitCode === null ? sys.gateway.pid : undefined,
        load: load.exitCode === null ? load.pid : undefined,
        'plant+driver': process.pid,
      }),
      postgres: dbName ? { adminUrl: ADMIN_URL, database: dbName } : undefined,
      extra: async () => ({
        linkConnected: gatewayDown
          ? undefined
          : await gatewayMetric(sys.gateway.httpUrl, 'siem_gateway_link_connected').catch(() => undefined),
        queued: gatewayDown
          ? undefined
          : await gatewayMetric(sys.gateway.httpUrl, 'siem_gateway_queue_events').catch(() => undefined),
        sent: Object.values(loadSent).reduce((a, b) => a + b, 0),
      }),
    });
    const sampleTimer = setInterval(() => void sampler.sample(), o.sampleSecs * 1000);
    cleanups.push(async () => {
      clearInterval(sampleTimer);
      await sampler.close();
    });
    await sampler.sample();

    const attacker = startAttacks({
      t0,
      durationMs,
      gatewayRestartMs,
      attackEverySecs: o.attackEverySecs,
      targets,
      gatewayDown: () => gatewayDown,
      at,
      log,
      fmt,
    });
    // On a failure too: a pending attack loop would keep the process (or the test file) alive.
    cleanups.push(() => attacker.stop());

    // Central restart: SIGTERM, then again on the same database and port.
    await nap(Math.max(0, t0 + centralRestartMs - Date.now()));
    mark('central: SIGTERM');
    await sys.central.stop();
    mark('central: stopped; starting again');
    sys.central = await startCentralProcess(centralConfig);
    watch(sys.central);
    mark('central: up again');

    // Gateway restart: SIGKILL, then again on the same data directory (queue, state, credentials).
    await nap(Math.max(0, t0 + gatewayRestartMs - Date.now()));
    gatewayDown = true;
    toLoad({ type: 'phase', gatewayDown: true });
    // Waited for: a 12-minute run ended here on the 5 s timeout, its gateway busy catching up.
    udpReceivedBeforeKill = await gatewayMetric(
      sys.gateway.httpUrl,
      'siem_gateway_events_received_total',
      'syslog_udp',
      120_000,
    );
    await sleep(300); // the load generator hears of the kill before its sockets break
    mark('gateway: SIGKILL');
    const killedAt = Date.now();
    await sys.gateway.kill();
    sys.gateway = await startGatewayProcess(gatewayConfig, o.bundle);
    watch(sys.gateway);
    gatewayDown = false;
    toLoad({ type: 'phase', gatewayDown: false });
    mark('gateway: up again');

    await nap(Math.max(0, t0 + durationMs - Date.now()));
    mark('load: stopping');
    attacker.stop();
    const attacks = await attacker.done;
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
        if (crash) throw new Error(crash);
        if ((await gatewayMetric(sys.gateway.httpUrl, 'siem_gateway_queue_events', '', 30_000)) > 0)
          return undefined;
        await sleep(1100);
        return (await gatewayMetric(sys.gateway.httpUrl, 'siem_gateway_queue_events', '', 30_000)) === 0
          ? true
          : undefined;
      },
      {
        timeoutMs: (o.drainTimeoutSecs ?? 900) * 1000,
        intervalMs: 500,
        what: "the gateway's queue to drain",
      },
    ).catch(async () => {
      if (crash) throw new Error(crash);
      undrained = await gatewayMetric(sys.gateway.httpUrl, 'siem_gateway_queue_events', '', 30_000);
    });
    const drainSecs = (Date.now() - drainStart) / 1000;
    mark(
      undrained > 0
        ? `gateway: ${undrained} events still queued after ${drainSecs.toFixed(0)} s`
        : `gateway: queue drained in ${drainSecs.toFixed(1)} s`,
    );
    const udpReceivedAfter = await gatewayMetric(
      sys.gateway.httpUrl,
      'siem_gateway_events_received_total',
      'syslog_udp',
      30_000,
    );
    clearInterval(sampleTimer);
    await sampler.sample();
    await sampler.close();
    const durationSecs = at();
    await sys.gateway.stop();
    await sys.central.stop();
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

    const otherAlerts = creditAlerts(attacks, alertEvents);
    const udpReceived = udpReceivedBeforeKill + udpReceivedAfter;
    const failures = soakFailures({
      undrained,
      drainSecs,
      streams,
      sequence,
      udpReceivedAfter,
      udpOthersAfter,
      attacks,
    });

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

export function fmt(secs: number): string {
  const s = Math.floor(secs);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
