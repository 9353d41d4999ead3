/**
 * Central's forwarding sinks, built from the `sinks:` config: the hook that queues each new
 * alert into the outbox of every sink whose filter accepts it (inside the alert's transaction),
 * and one dispatcher per sink delivering that outbox (syslog/CEF, webhook, e-mail).
 */
import type { Logger } from 'pino';
import type { Alert } from '../alerts/types.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import type { SinkConfig } from './config.ts';
import { createDispatcher } from './dispatcher.ts';
import { createEmailSink } from './email.ts';
import { sinkAccepts } from './filter.ts';
import { enqueue } from './outbox.ts';
import { createSyslogSink } from './syslog.ts';
import type { Sink } from './types.ts';
import { createWebhookSink } from './webhook.ts';

export { sinkConfigSchema, sinksConfigSchema, type SinkConfig } from './config.ts';

export function createSink(name: string, config: SinkConfig, env: NodeJS.ProcessEnv = process.env): Sink {
  try {
    if (config.type === 'syslog') return createSyslogSink(name, config);
    if (config.type === 'webhook') return createWebhookSink(name, config, env);
    return createEmailSink(name, config, env);
  } catch (error) {
    // A start-up error names the sink (an unreadable CA or secret file, a missing variable).
    const message = (error as Error).message;
    throw new Error(message.startsWith('sinks.') ? message : `sinks.${name}: ${message}`);
  }
}

export interface SinksOptions {
  config: Record<string, SinkConfig>;
  sql: SqlClient;
  metrics: CentralMetrics;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

/** Builds every sink (secrets are read here: a missing one fails start with the key to fix). */
export function createSinks(options: SinksOptions) {
  const entries = Object.entries(options.config);
  const dispatchers = entries.map(([name, config]) =>
    createDispatcher({
      sink: createSink(name, config, options.env),
      retry: config.retry,
      sql: options.sql,
      metrics: options.metrics,
      logger: options.logger,
      now: options.now,
    }),
  );
  return {
    /** For `raiseAlert`: queue the alert for the sinks that want it, in its transaction. */
    async onCreated(tx: SqlExecutor, alert: Alert): Promise<void> {
      const names = entries.filter(([, config]) => sinkAccepts(config.filter, alert)).map(([name]) => name);
      await enqueue(tx, names, alert);
    },
    /** After a new alert committed: deliver without waiting for the next poll. */
    wake() {
      for (const d of dispatchers) d.wake();
    },
    start() {
      for (const d of dispatchers) d.start();
    },
    async stop() {
      await Promise.all(dispatchers.map((d) => d.stop()));
    },
  };
}

export type Sinks = ReturnType<typeof createSinks>;
