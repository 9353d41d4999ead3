/**
 * What the sink tests share: alerts wired to real sinks over a real store (raise → outbox in the
 * same transaction → dispatcher → receiver), the outbox rows to inspect, and a hostile alert
 * whose rule title and entity hold every character CEF must escape.
 */
import { createAlerts } from '../../../central/alerts/index.ts';
import type { Logger } from 'pino';
import type { AlertInput } from '../../../central/alerts/types.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createSinks, sinksConfigSchema } from '../../../central/sinks/index.ts';
import type { EventStore } from '../../../central/store/index.ts';

export interface OutboxRow {
  sink: string;
  alert_id: number;
  status: string;
  attempts: number;
  idempotency_key: string;
  last_error: string | null;
}

export function startSinkHarness(
  store: EventStore,
  sinks: unknown,
  env: NodeJS.ProcessEnv = {},
  logger: Logger = createLogger((process.env.SIEM_TEST_LOG ?? 'silent') as 'silent'),
) {
  const metrics = createCentralMetrics({ processMetrics: false });
  const running = createSinks({
    config: sinksConfigSchema.parse(sinks),
    sql: store.sql,
    metrics,
    logger,
    env,
  });
  const alerts = createAlerts({
    sql: store.sql,
    metrics,
    groupWindowSecs: 0,
    onCreated: (tx, alert) => running.onCreated(tx, alert),
    onCommitted: () => running.wake(),
  });
  running.start();
  return {
    alerts,
    metrics,
    async outbox(sink: string): Promise<OutboxRow[]> {
      const { rows } = await store.sql.query<OutboxRow>(
        `SELECT sink, alert_id, status, attempts, idempotency_key, last_error FROM sink_outbox
          WHERE sink = $1 ORDER BY id`,
        [sink],
      );
      return rows.map((r) => ({ ...r, alert_id: Number(r.alert_id), attempts: Number(r.attempts) }));
    },
    /** Sum of a counter's values with these labels. */
    async count(metric: 'sinkSent' | 'sinkFailures' | 'sinkRejected', sink: string): Promise<number> {
      const values = (await metrics[metric].get()).values.filter((v) => v.labels.sink === sink);
      return values.reduce((sum, v) => sum + v.value, 0);
    },
    stop: () => running.stop(),
  };
}

export const HOSTILE_TITLE = 'Write | to PLC \\ "x" a=b\r\nsecond line';

export function alertInput(rule: string, host: string, extra: Partial<AlertInput> = {}): AlertInput {
  return {
    rule: { id: rule, title: HOSTILE_TITLE, level: 'high', techniques: ['T0836', 'T0855'], tags: ['ics'] },
    entity: { host, gateway: 'gw-1', site: 'plant-a' },
    event_ids: ['gw-1:7'],
    at: '2026-03-01T10:00:00.000Z',
    ...extra,
  };
}
