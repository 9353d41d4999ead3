/**
 * What the gateway learns and keeps between restarts, opened before the pipeline that feeds it:
 * the asset inventory (LevelDB), the learned baselines (a JSON file written every 30 s and on
 * stop) and the running rule set (the rule directories, or the set central pushed). The pipeline's
 * observing stages (inventory, baselines, detect) hold these.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Baselines, createBaselines, DEFAULT_BASELINE_OPTIONS } from './baselines/index.ts';
import type { GatewayConfig } from './config/schema.ts';
import { createManagedDetection } from './detection/managed.ts';
import { Inventory } from './inventory/index.ts';
import type { GatewayMetrics } from './metrics.ts';

export function baselineOptions(config: GatewayConfig) {
  return {
    learningMs: config.baselines.learning_hours * 3600_000,
    rangeMargin: config.baselines.range_margin,
    rateFactor: config.baselines.rate_factor,
    minRatePerMin: DEFAULT_BASELINE_OPTIONS.minRatePerMin,
  };
}

/** The learned baselines, restored from `<data_dir>/baselines.json` when it is readable. */
export function openBaselines(config: GatewayConfig, logger: Logger) {
  const file = path.join(config.gateway.data_dir, 'baselines.json');
  const baselines: Baselines | undefined = config.baselines.enabled
    ? createBaselines(baselineOptions(config))
    : undefined;
  if (baselines && existsSync(file)) {
    try {
      baselines.restore(JSON.parse(readFileSync(file, 'utf8')));
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'learned baselines unreadable; learning again');
    }
  }
  const save = () => {
    if (!baselines) return;
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(baselines.snapshot()), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'could not save the learned baselines');
    }
  };
  return { baselines, save };
}

export async function openGatewayState(config: GatewayConfig, logger: Logger, metrics: GatewayMetrics) {
  const inventory = await Inventory.open({
    dir: path.join(config.gateway.data_dir, 'inventory'),
    maxDevices: config.inventory.max_devices,
    saveIntervalMs: 5000,
    commissioningMs: config.inventory.commissioning_hours * 3600_000,
  });
  const { baselines, save: saveBaselines } = openBaselines(config, logger);
  // The rule directories, or the set central pushed (link SPEC §8); open windows survive restarts.
  const detection = createManagedDetection({
    dataDir: config.gateway.data_dir,
    rulesDirs: config.detection.rules_dirs,
    fieldMap: config.detection.field_map,
    logsources: config.detection.logsources,
    placeholders: config.detection.placeholders,
    alertWindowMs: config.detection.alert_window_secs * 1000,
    logger: logger.child({ component: 'detection' }),
    onChange: (set) => {
      metrics.rules.set({ state: 'loaded' }, set.rules);
      metrics.rules.set({ state: 'refused' }, set.errors.length);
    },
  });
  return {
    inventory,
    baselines,
    detection,
    saveBaselines,
    async close() {
      await inventory.close();
      saveBaselines();
      detection.close();
    },
  };
}
