/**
 * Builds the stages of `pipeline:` (config.ts) from validated config, one small factory per type
 * (stages/), plus the `forward` profile as the last stage. What the observing stages need (the
 * inventory, the baselines, the running rules) is passed in, so live and replay build the same
 * pipeline from the same config.
 */
import path from 'node:path';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import type { SigmaEngine } from '../../protocols/sigma/index.ts';
import type { Baselines } from '../baselines/index.ts';
import type { PipelineConfig, StageConfig } from './config.ts';
import type { Evidence } from './evidence.ts';
import { stageMatch } from './match.ts';
import { OBSERVING_STAGES, type Stage } from './stage.ts';
import { createAggregateStage } from './stages/aggregate.ts';
import { createDedupeStage } from './stages/dedupe.ts';
import { createFilterStage } from './stages/filter.ts';
import { createForwardStage } from './stages/forward.ts';
import { createModbusReadsStage } from './stages/modbus-reads.ts';
import { createNormaliseStage } from './stages/normalise.ts';
import {
  createBaselinesStage,
  createDetectStage,
  createInventoryStage,
  type InventoryLike,
} from './stages/observe.ts';
import { createPseudonymiseStage, loadPseudonymKey } from './stages/pseudonymise.ts';
import { createRouteStage } from './stages/route.ts';
import { createSampleStage } from './stages/sample.ts';
import { createTelemetryStage } from './stages/telemetry.ts';
import { matchTopic } from '../../protocols/mqtt/topic.ts';
import type { SourceConfig } from '../sources/schema.ts';

export interface StageDeps {
  dataDir: string;
  /** The sources: their telemetry rules that sample or aggregate become stages. */
  sources?: Record<string, SourceConfig>;
  inventory?: InventoryLike;
  baselines?: Baselines;
  engine?: () => SigmaEngine | undefined;
  evidence: Evidence;
  alert: (event: PendingEvent) => void;
  /** A key other than the key file's (replay without the gateway's key file); undefined: the file. */
  pseudonymKey?: (keyFile: string | undefined) => Buffer | undefined;
}

export function createStage(config: StageConfig, deps: StageDeps): Stage {
  const name = config.name ?? config.type;
  switch (config.type) {
    case 'normalise':
      return createNormaliseStage(name);
    case 'inventory':
      return createInventoryStage(deps.inventory, name);
    case 'baselines':
      return createBaselinesStage(deps.baselines, name);
    case 'detect':
      return createDetectStage(
        { engine: deps.engine ?? (() => undefined), evidence: deps.evidence, alert: deps.alert },
        name,
      );
    case 'filter':
      return createFilterStage({ name, action: config.action, matches: stageMatch(config) });
    case 'sample':
      return createSampleStage({
        name,
        matches: stageMatch(config),
        key: config.key,
        ...(config.one_in !== undefined && { oneIn: config.one_in }),
        ...(config.interval_secs !== undefined && { intervalSecs: config.interval_secs }),
      });
    case 'aggregate':
      return createAggregateStage({
        name,
        matches: stageMatch(config),
        key: config.key,
        intervalSecs: config.interval_secs,
        numbers: config.numbers,
        distinct: config.distinct,
        ...(config.summary_action !== undefined && { summaryAction: config.summary_action }),
      });
    case 'modbus_reads':
      return createModbusReadsStage({ name, intervalSecs: config.interval_secs });
    case 'dedupe':
      return createDedupeStage({
        name,
        matches: stageMatch(config),
        fields: config.fields,
        windowSecs: config.window_secs,
      });
    case 'pseudonymise':
      return createPseudonymiseStage({
        name,
        fields: config.fields,
        key:
          deps.pseudonymKey?.(config.key_file) ??
          loadPseudonymKey(config.key_file ?? path.join(deps.dataDir, 'pseudonymise.key')),
      });
    case 'route':
      return createRouteStage({ name, lane: config.lane, matches: stageMatch(config) });
  }
}

/** One `<source>_telemetry` stage per MQTT or CoAP source whose telemetry rules sample or aggregate. */
export function telemetryStages(sources: Record<string, SourceConfig> = {}): Stage[] {
  const out: Stage[] = [];
  for (const [name, source] of Object.entries(sources)) {
    if (source.type !== 'mqtt_broker' && source.type !== 'mqtt_client' && source.type !== 'coap') continue;
    const rules = source.telemetry ?? [];
    if (!rules.some((r) => r.mode !== 'every')) continue;
    out.push(
      createTelemetryStage({
        name: `${name}_telemetry`,
        source: name,
        protocol: source.type === 'coap' ? 'coap' : 'mqtt',
        rules,
        matches: matchTopic,
      }),
    );
  }
  return out;
}

export function createStages(config: PipelineConfig, deps: StageDeps): Stage[] {
  const stages = config.stages.map((s) => createStage(s, deps));
  // The sources' own sampling and aggregation go right after the stages that see everything.
  let at = 0;
  stages.forEach((s, i) => {
    if (OBSERVING_STAGES.has(s.type) || s.type === 'normalise') at = i + 1;
  });
  stages.splice(at, 0, ...telemetryStages(deps.sources));
  return [...stages, createForwardStage(config.forward)];
}
