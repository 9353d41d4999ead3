/**
 * The WAN budget (issue 17): what a gateway sends central, with the OT-aware default pipeline
 * beside forwarding everything, on the same traffic and the same rules (rules/ics).
 * (1) The demo plant (demo/plant.ts: the tank PLC behind the Modbus proxy and poller, its HMI, 5
 * MQTT sensors, 3 CoAP sensors, a switch's syslog, at the demo's rates) runs live through a real
 * gateway for 10 minutes (quick: 20 s) with the attack scenarios spread over the run; the gateway
 * records every observation its sources make (a pipeline without stages, central unreachable:
 * the queue keeps them). The recording then runs through both pipelines on its own clock, whole
 * and as routine traffic only (without what came from or names the attacker's address).
 * (2) A public capture, ITI modbus_test.pcap (2 minutes, five masters and a PLC), through
 * `siem-gateway replay`'s pipeline with both configs.
 * Figures: events and bytes (the Event JSON the link carries, before compression) per hour
 * forwarded, rows central stores (one per forwarded event: storage is exactly once), alerts
 * raised (the bench fails unless both pipelines raise the same alerts) and each stage's cost in
 * µs per event it takes in (timed around each stage, the timer's own cost subtracted).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { plantGatewaySources, plantTargets, startOtDevices, startPlantDevices } from '../../demo/plant.ts';
import { SCENARIOS } from '../../demo/scenarios/index.ts';
import { startModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import { createBaselines } from '../../gateway/baselines/index.ts';
import { type GatewayConfig, gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { loadDetection } from '../../gateway/detection/index.ts';
import { startGateway } from '../../gateway/index.ts';
import { Inventory } from '../../gateway/inventory/index.ts';
import { createStages } from '../../gateway/pipeline/build.ts';
import { createPipeline, immediateSink } from '../../gateway/pipeline/index.ts';
import type { Stage } from '../../gateway/pipeline/stage.ts';
import { LANES } from '../../gateway/queue/leveldb-queue.ts';
import { replayPipeline } from '../../gateway/replay/pipeline.ts';
import { baselineOptions } from '../../gateway/state.ts';
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../../protocols/event/schema.ts';
import { REPO_ROOT, SHARED_DATA } from '../support/env.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'WAN budget: default pipeline beside forward-everything';

const RULES = path.join(REPO_ROOT, 'rules', 'ics');
const ATTACKER = '127.0.0.66';
/** Forward everything: the observing stages only (detection and baselines as in the default). */
const FORWARD_ALL = {
  stages: [{ type: 'normalise' }, { type: 'inventory' }, { type: 'baselines' }, { type: 'detect' }],
};

interface Outcome {
  /** Forwarded events by action (SIEM_BENCH_DEBUG prints them). */
  actions?: Map<string, number>;
  events: number;
  bytes: number;
  alerts: string[];
  stageNs: Map<string, { ns: number; n: number }>;
}

/** What one alert is, for comparing two runs: rule, entity, how many hits, and on which observations. */
const alertKey = (a: Event) =>
  `${a.threat?.rule_id}|${String(a.fields.entity)}|${String(a.fields.count)}|${a.action}`;

/** hrtime's own cost per call pair, to subtract from the stage timings. */
function timerCostNs(): number {
  let sink = 0n;
  const n = 200_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += process.hrtime.bigint() - process.hrtime.bigint();
  void sink;
  return Number(process.hrtime.bigint() - t0) / n / 2;
}

function timed(stage: Stage, acc: Map<string, { ns: number; n: number }>): Stage {
  const slot = { ns: 0, n: 0 };
  acc.set(stage.name, slot);
  const inner = stage.process.bind(stage);
  return {
    ...stage,
    process(event, ctx) {
      const t = process.hrtime.bigint();
      const r = inner(event, ctx);
      slot.ns += Number(process.hrtime.bigint() - t);
      slot.n++;
      return r;
    },
  };
}

/** Runs recorded observations through a pipeline built from `config`, on their own clock. */
async function runRecording(recording: PendingEvent[], config: GatewayConfig): Promise<Outcome> {
  const out: Outcome = { events: 0, bytes: 0, alerts: [], stageNs: new Map(), actions: new Map() };
  const engine = loadDetection({ rulesDirs: [RULES] }).engine;
  const start = Date.parse(recording[0]?.received ?? new Date().toISOString());
  const inventory = Inventory.inMemory({ maxDevices: 10_000 }, start);
  const baselines = createBaselines(baselineOptions(config));
  let seq = 0;
  const sink = immediateSink((pending) =>
    pending.map((p) => {
      seq++;
      const e = { v: EVENT_SCHEMA_VERSION, id: `bench:${seq}`, gateway: 'bench', seq, ...p } as Event;
      out.events++;
      out.bytes += Buffer.byteLength(JSON.stringify(e));
      out.actions?.set(e.action, (out.actions.get(e.action) ?? 0) + 1);
      if (e.kind === 'alert') out.alerts.push(alertKey(e));
      return e;
    }),
  );
  const pipeline = createPipeline({
    sink,
    stages: (hooks) =>
      createStages(config.pipeline, {
        dataDir: config.gateway.data_dir,
        sources: config.sources,
        inventory,
        baselines,
        engine: () => engine,
        ...hooks,
      }).map((s) => timed(s, out.stageNs)),
    engine: () => engine,
  });
  let nextTick = Number.NEGATIVE_INFINITY;
  let now = start;
  for (const event of recording) {
    now = Date.parse(event.received);
    if (now >= nextTick) {
      await pipeline.tick(now);
      nextTick = now + 1000;
    }
    await pipeline.emit('recorded', [event], now);
  }
  await pipeline.tick(now, { final: true, flushDetection: true });
  out.alerts.sort();
  if (process.env.SIEM_BENCH_DEBUG)
    console.error(
      [...out.actions!.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([a, n]) => `${n} ${a}`)
        .join('\n'),
    );
  return out;
}

/** The demo plant, live, for `seconds`; returns every observation the gateway's sources made. */
async function recordPlant(
  seconds: number,
  dir: string,
): Promise<{ recording: PendingEvent[]; sources: Record<string, unknown>; attacks: number }> {
  const plc = await startModbusPlc({ tank: { stepMs: 500 }, listenOnlyRecoveryMs: 15_000 });
  const options = { host: '127.0.0.1', attackerAddress: ATTACKER, mqttSensors: 5, scryptN: 1024 };
  // The OT devices too (the DNP3 and S7 attacks need them), behind the gateway's ot_proxy.
  const ot = await startOtDevices({ host: '127.0.0.1' });
  const setup = await plantGatewaySources({ host: '127.0.0.1', port: plc.port }, options, {
    host: '127.0.0.1',
    dnp3Port: ot.outstation.port,
    dnp3Address: ot.outstation.address,
    s7Port: ot.s7.port,
  });
  const privateKey = generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const gateway = await startGateway(
    gatewayConfigSchema.parse({
      gateway: { id: 'bench-plant', data_dir: dir },
      sources: setup.sources,
      // Nobody listens: the queue keeps every observation for the two pipelines below.
      central: { endpoint: 'ws://127.0.0.1:9/link', initial_backoff_secs: 30, max_backoff_secs: 30 },
      pipeline: { stages: [] },
      http: { listen: '127.0.0.1:0' },
      log: { level: 'silent' },
    }),
    { privateKey, logger: pino({ level: 'silent' }), processMetrics: false, printSecret: () => undefined },
  );
  const targets = plantTargets(gateway, setup, options);
  const devices = startPlantDevices(targets, setup, { coapSensors: 3 });
  let attacks: typeof SCENARIOS = [];
  try {
    // The attacks, spread over the run (each once), as the demo runs them every 20 s.
    const started = Date.now();
    attacks =
      seconds >= 300
        ? SCENARIOS
        : SCENARIOS.filter((s) => ['rogue-write', 'ssh-brute-force', 'dnp3-cold-restart'].includes(s.name));
    for (const [i, scenario] of attacks.entries()) {
      const at = started + ((i + 1) * seconds * 1000) / (attacks.length + 1);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
      await scenario.run(targets, { holdMs: 3000 });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + seconds * 1000 - Date.now())));
  } finally {
    await devices.stop();
  }
  const recording: Event[] = [];
  for (const lane of LANES) {
    let after: string | null = null;
    for (;;) {
      const records = await gateway.queue.read(lane, after, 1000);
      if (records.length === 0) break;
      for (const r of records) recording.push(...r.events);
      after = records.at(-1)!.key;
    }
  }
  await gateway.stop();
  await plc.stop();
  await ot.stop();
  recording.sort((a, b) => a.seq - b.seq);
  // Back to what a source hands the pipeline: no identity yet.
  const pending = recording
    .filter((e) => e.source !== 'gateway')
    .map(({ v: _v, id: _id, gateway: _g, seq: _s, clock_offset_ms: _c, ...p }) => p as PendingEvent);
  return { recording: pending, sources: setup.sources, attacks: attacks.length };
}

function figures(label: string, hours: number, def: Outcome, all: Outcome, target?: number): BenchFigure[] {
  const same = def.alerts.length === all.alerts.length && def.alerts.every((a, i) => a === all.alerts[i]);
  if (!same)
    throw new Error(
      `${label}: the pipelines raised different alerts (default ${def.alerts.length}, forward-all ${all.alerts.length})`,
    );
  const chart = { id: `wan-${label.replace(/\W+/g, '-')}`, title: `${label}: bytes forwarded per hour` };
  return [
    {
      name: `${label}: bytes forwarded per hour, default pipeline`,
      value: def.bytes / hours,
      unit: 'bytes/h',
      peer: { name: 'forward everything', value: all.bytes / hours },
      chart: { ...chart, series: 'default pipeline' },
    },
    {
      name: `${label}: events forwarded per hour, default pipeline`,
      value: def.events / hours,
      unit: 'events/h',
      peer: { name: 'forward everything', value: all.events / hours },
      note: 'also the rows central stores per hour (one per event, exactly once)',
    },
    {
      name: `${label}: fewer bytes forwarded than forwarding everything`,
      value: all.bytes / Math.max(1, def.bytes),
      unit: '×',
      ...(target !== undefined && { target: { value: target, better: 'higher' as const, issue: 17 } }),
      note: `alerts identical: ${def.alerts.length} in both`,
    },
    {
      name: `${label}: alerts raised, default pipeline (identical to forward everything)`,
      value: def.alerts.length,
      unit: 'alerts',
      peer: { name: 'forward everything', value: all.alerts.length },
    },
  ];
}

function stageCosts(label: string, o: Outcome, overheadNs: number): BenchFigure[] {
  return [...o.stageNs.entries()]
    .filter(([, s]) => s.n > 0)
    .map(([name, s]) => ({
      name: `${label}: stage ${name}, cost per event it takes in`,
      value: Math.max(0, s.ns / s.n - overheadNs) / 1000,
      unit: 'µs/event',
      note: `${s.n.toLocaleString('en-US')} events`,
      chart: {
        id: `wan-stage-cost-${label.replace(/\W+/g, '-')}`,
        title: `${label}: µs per event per stage`,
        series: name,
      },
    }));
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const out: BenchFigure[] = [];
  const overhead = timerCostNs();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-wan-'));
  try {
    const seconds = quick ? 20 : 600;
    const { recording, sources, attacks } = await recordPlant(seconds, path.join(dir, 'gw'));
    const base = {
      gateway: { id: 'bench', data_dir: dir },
      sources,
      central: { endpoint: 'ws://127.0.0.1:9/link' },
    };
    const hours = seconds / 3600;
    // Routine traffic: what the plant does all day, without the attacks (anything from or naming
    // the attacker's address). With them: the demo's eight attacks in ten minutes, whose security
    // events (a 600-request register scan is 600 policy violations) go one by one by design.
    const fromAttacker = (e: PendingEvent) =>
      e.src?.ip === ATTACKER || e.dst?.ip === ATTACKER || e.message.includes(ATTACKER);
    const routine = recording.filter((e) => !fromAttacker(e));
    const rDef = await runRecording(routine, gatewayConfigSchema.parse(base));
    const rAll = await runRecording(routine, gatewayConfigSchema.parse({ ...base, pipeline: FORWARD_ALL }));
    out.push(...figures(`demo plant ${seconds} s, routine traffic`, hours, rDef, rAll, 10));
    const def = await runRecording(recording, gatewayConfigSchema.parse(base));
    const all = await runRecording(recording, gatewayConfigSchema.parse({ ...base, pipeline: FORWARD_ALL }));
    out.push(...figures(`demo plant ${seconds} s with ${attacks} attacks`, hours, def, all));
    out.push(...stageCosts('demo plant', def, overhead));

    const capture = path.join(SHARED_DATA, 'modbus', 'iti', 'modbus_test.pcap');
    const cfg = (pipeline?: unknown) =>
      gatewayConfigSchema.parse({
        gateway: { id: 'bench', data_dir: dir },
        sources: {},
        central: { endpoint: 'ws://127.0.0.1:9/link' },
        detection: { rules_dirs: [RULES] },
        ...(pipeline !== undefined && { pipeline }),
      });
    const replayOnce = async (pipeline?: unknown): Promise<Outcome & { secs: number }> => {
      const o: Outcome & { secs: number } = { events: 0, bytes: 0, alerts: [], stageNs: new Map(), secs: 0 };
      let first = Number.POSITIVE_INFINITY;
      let last = 0;
      await replayPipeline([capture], {
        config: cfg(pipeline),
        write: (line) => {
          const e = JSON.parse(line) as Event;
          o.events++;
          o.bytes += Buffer.byteLength(line);
          if (e.kind === 'alert') o.alerts.push(alertKey(e));
          const t = Date.parse(e.ts);
          if (e.source === 'modbus' && Number.isFinite(t)) {
            first = Math.min(first, t);
            last = Math.max(last, t);
          }
        },
      });
      o.alerts.sort();
      o.secs = (last - first) / 1000;
      return o;
    };
    const cDef = await replayOnce();
    const cAll = await replayOnce(FORWARD_ALL);
    out.push(...figures(`ITI modbus_test.pcap (${Math.round(cAll.secs)} s)`, cAll.secs / 3600, cDef, cAll));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
