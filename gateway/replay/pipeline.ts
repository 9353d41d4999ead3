/**
 * `siem-gateway replay --config FILE`: the gateway's own pipeline over a capture or a log, on the
 * file's clock. The same stages as live (`pipeline:`), the same rules (`detection.rules_dirs` and
 * any `--rules`), the same baselines (`baselines:`; `--learn SECS` learns from the first SECS of
 * the file, then detects) and an in-memory inventory. It prints what the gateway would forward,
 * one Event per line with the config's gateway id and `seq` in output order: events and
 * summaries as the stages leave them, and alerts in the gateway's own shape (kind `alert`), each
 * with `fields.evidence` naming the frame or line of every event it was raised on. The stages'
 * clock ticks every second of file time, as the live gateway's timer does, and at the end
 * everything held is released and open windows close. Nothing is written to the data dir.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../../protocols/event/schema.ts';
import { EvictionCursor } from '../../protocols/event/evict.ts';
import { createBaselines } from '../baselines/index.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { loadDetection } from '../detection/index.ts';
import { Inventory } from '../inventory/index.ts';
import { createStages } from '../pipeline/build.ts';
import { createPipeline, immediateSink } from '../pipeline/index.ts';
import type { StageCounts } from '../pipeline/stage.ts';
import { baselineOptions } from '../state.ts';
import { observations, type ReplayOptions, readInputs, type ReplaySummary } from './index.ts';

/** Locations remembered for the most recent events (alerts name at most a few dozen). */
const MAX_REMEMBERED = 200_000;

export interface PipelineReplayOptions extends Pick<
  ReplayOptions,
  'modbusPorts' | 'syslogUdpPorts' | 'mqttPorts' | 'coapPorts'
> {
  config: GatewayConfig;
  write: (line: string) => void;
  /** Rule directories besides the config's. */
  rulesDirs?: string[];
  /** Learn from the first this many seconds of the file, then detect (default: the config's learning_hours per device). */
  learnSecs?: number;
  /** Rules refused while loading (printed by the CLI). */
  onRuleError?: (message: string) => void;
}

export interface PipelineReplaySummary extends ReplaySummary {
  /** Events the files held (before the stages). */
  observed: number;
  /** Bytes of the forwarded lines (the JSON the link would carry, before compression). */
  bytes: number;
  stages: StageCounts[];
}

export async function replayPipeline(
  files: string[],
  options: PipelineReplayOptions,
): Promise<PipelineReplaySummary> {
  const { config } = options;
  const inputs = readInputs(files);
  const summary: PipelineReplaySummary = {
    files: 0,
    frames: 0,
    lines: 0,
    records: 0,
    badRecords: 0,
    events: 0,
    alerts: 0,
    observed: 0,
    bytes: 0,
    stages: [],
  };
  const rulesDirs = [...config.detection.rules_dirs, ...(options.rulesDirs ?? [])];
  const loaded =
    rulesDirs.length > 0
      ? loadDetection({
          rulesDirs,
          fieldMap: config.detection.field_map,
          logsources: config.detection.logsources,
          placeholders: config.detection.placeholders,
          alertWindowMs: config.detection.alert_window_secs * 1000,
        })
      : undefined;
  for (const e of loaded?.errors ?? []) options.onRuleError?.(`${e.file ? `${e.file}: ` : ''}${e.message}`);
  const engine = loaded?.engine;

  // The file's clock starts at its first observation; learning and commissioning count from it.
  const stream = observations(inputs, options, summary);
  const first = stream.next();
  const startMs = first.done ? Date.now() : first.value.now.getTime();
  const baselines = config.baselines.enabled
    ? createBaselines({
        ...baselineOptions(config),
        ...(options.learnSecs !== undefined && { learningUntilMs: startMs + options.learnSecs * 1000 }),
      })
    : undefined;
  const inventory = Inventory.inMemory(
    {
      maxDevices: config.inventory.max_devices,
      commissioningMs: config.inventory.commissioning_hours * 3600_000,
    },
    startMs,
  );

  const gateway = config.gateway.id;
  const where = new Map<string, { frame?: number; line?: number; file?: string }>();
  const oldest = new EvictionCursor(where);
  let seq = 0;
  const sink = immediateSink((pending) =>
    pending.map((p) => {
      seq++;
      const id = `${gateway}:${seq}`;
      let event = { v: EVENT_SCHEMA_VERSION, id, gateway, seq, ...p } as Event;
      const f = p.fields as { frame?: unknown; line?: unknown; file?: unknown; event_ids?: unknown };
      if (p.kind === 'alert' && Array.isArray(f.event_ids)) {
        summary.alerts++;
        const evidence = (f.event_ids as string[]).map((eid) => ({ id: eid, ...where.get(eid) }));
        event = { ...event, fields: { ...event.fields, evidence } };
      } else if (typeof f.frame === 'number' || typeof f.line === 'number') {
        where.set(id, {
          ...(typeof f.frame === 'number' && { frame: f.frame }),
          ...(typeof f.line === 'number' && { line: f.line }),
          ...(typeof f.file === 'string' && { file: f.file }),
        });
        if (where.size > MAX_REMEMBERED) oldest.evict();
      }
      const line = JSON.stringify(event);
      summary.events++;
      summary.bytes += Buffer.byteLength(line) + 1;
      options.write(line);
      return event;
    }),
  );
  const keyFile = (file: string | undefined) =>
    file ?? path.join(config.gateway.data_dir, 'pseudonymise.key');
  const pipeline = createPipeline({
    sink,
    stages: (hooks) =>
      createStages(config.pipeline, {
        dataDir: config.gateway.data_dir,
        sources: config.sources,
        inventory,
        baselines,
        engine: () => engine,
        // The gateway's key when it is readable here; else a key for this run only (never written).
        pseudonymKey: (file) => (existsSync(keyFile(file)) ? undefined : randomBytes(32)),
        ...hooks,
      }),
    engine: () => engine,
  });

  let nextTick = Number.NEGATIVE_INFINITY;
  let nowMs = startMs;
  const run = async (batch: { events: PendingEvent[]; now: Date }) => {
    nowMs = batch.now.getTime();
    if (nowMs >= nextTick) {
      await pipeline.tick(nowMs);
      nextTick = nowMs + 1000;
    }
    summary.observed += batch.events.length;
    await pipeline.emit('replay', batch.events, nowMs);
  };
  if (!first.done) await run(first.value);
  for (const batch of stream) await run(batch);
  await pipeline.tick(nowMs, { final: true, flushDetection: true });
  summary.stages = pipeline.counts();
  return summary;
}

/** The per-stage summary, one line per stage, for stderr. */
export function formatStageCounts(stages: readonly StageCounts[]): string {
  const rows = stages.map((s) => [
    s.name,
    s.type,
    String(s.in),
    String(s.out),
    String(s.dropped),
    String(s.created),
    s.dropped > 0 ? s.drop_reason : '',
  ]);
  const head = ['stage', 'type', 'in', 'out', 'dropped', 'created', 'reason'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
