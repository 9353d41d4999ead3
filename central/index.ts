/**
 * Builds a running central server from a validated config: opens the store (PGlite or
 * PostgreSQL), applies migrations and creates partitions, runs the partition lifecycle (partitions
 * ahead, retention, DEFAULT partition watch) at start and hourly,
 * then serves the Hono app with the WebSocket link on HTTP or HTTPS.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { parseListen } from '../server-shared/config/listen.ts';
import { tlsServerOptions } from '../server-shared/config/tls.ts';
import type { Event } from '../protocols/event/schema.ts';
import type { Alerts } from './alerts/index.ts';
import { createCentralDetection } from './detection.ts';
import { createCentralApp } from './app.ts';
import { ensureFirstAdmin } from '../server-shared/web-auth/index.ts';
import { sha256Hex } from './auth/tokens.ts';
import type { CentralConfig } from './config/schema.ts';
import { createCentralEvents } from './events.ts';
import { createLifecycleJob, type LifecycleJob } from './lifecycle.ts';
import { createLogger } from './log.ts';
import { createSinks, type Sinks } from './sinks/index.ts';
import { createEnrichment, type Enrichment } from './enrich/index.ts';
import { createCentralMetrics } from './metrics.ts';
import { createStore } from './store/index.ts';
import type { EventStore } from './store/types.ts';
import type { GatewayRegistry } from './gateways/registry.ts';

export interface CentralOptions {
  logger?: Logger;
  processMetrics?: boolean;
  /** Extra API token (plain text, e.g. from SIEM_API_TOKEN); only its hash is kept. */
  apiToken?: string;
  /** Called with each committed batch of events (correlation, live views, benchmarks). */
  onStored?: (events: Event[]) => void;
  /** Called when a gateway has authenticated on the link. */
  onGatewayConnected?: (gateway: string) => void;
  /** Where the first admin's random password is printed, once (default: stdout, never the logger). */
  printSecret?: (text: string) => void;
  /** The clock of sessions, tokens and the audit log (tests move it). */
  authNow?: () => Date;
}

export interface Central {
  readonly store: EventStore;
  /** The partition lifecycle job (runs hourly; `run()` runs it now). */
  readonly lifecycle: LifecycleJob;
  /** Alerts: `alerts.raise(input)` is what central's detection calls (central/alerts/raise.ts). */
  readonly alerts: Alerts;
  readonly registry: GatewayRegistry;
  url(): string;
  linkUrl(): string;
  stop(): Promise<void>;
}

export async function startCentral(config: CentralConfig, options: CentralOptions = {}): Promise<Central> {
  const logger = options.logger ?? createLogger(config.log.level);
  const metrics = createCentralMetrics({ processMetrics: options.processMetrics ?? true });
  const store = await createStore(config.storage);
  try {
    await store.init(new Date());
  } catch (error) {
    await store.close();
    throw error;
  }
  // Partitions ahead, retention (with archive) and the DEFAULT partition watch: now, then hourly.
  const lifecycle = createLifecycleJob({
    store,
    storage: config.storage,
    metrics,
    logger: logger.child({ component: 'lifecycle' }),
    centralEvents: createCentralEvents({
      store,
      centralId: config.central.id,
      logger: logger.child({ component: 'central-events' }),
      metrics,
    }),
  });
  lifecycle.start();

  const apiTokens = [...config.api.tokens];
  if (options.apiToken) apiTokens.push({ name: 'env', token_sha256: sha256Hex(options.apiToken) });

  // Forwarding sinks: built before serving, so a missing secret fails start with its key.
  let sinks: Sinks;
  try {
    sinks = createSinks({
      config: config.sinks,
      sql: store.sql,
      metrics,
      logger: logger.child({ component: 'sinks' }),
    });
  } catch (error) {
    await lifecycle.stop();
    await store.close();
    throw error;
  }

  // Inventory and threat intel after each stored batch; intel hits raise alerts.
  const late: { alerts?: Alerts } = {};
  let enrichment: Enrichment;
  try {
    enrichment = await createEnrichment({
      config: config.enrichment,
      sql: store.sql,
      alerts: () => late.alerts!,
      metrics,
      logger: logger.child({ component: 'enrichment' }),
    });
  } catch (error) {
    await lifecycle.stop();
    await store.close();
    throw error;
  }

  // Alerts from gateways, and central's own rules across gateways (rules/central).
  const detection = createCentralDetection({
    rulesDirs: config.detection.rules_dirs,
    alertWindowMs: config.detection.alert_window_secs * 1000,
    alerts: () => late.alerts!,
    logger: logger.child({ component: 'detection' }),
    store, // windows open before a restart are rebuilt from stored events
  });
  const { app, link, registry, alerts, injectWebSocket, authStore, auth, rules } = createCentralApp({
    onAlertCreated: (tx, alert) => sinks.onCreated(tx, alert),
    onAlertCommitted: () => sinks.wake(),
    enrichment,
    onStored: (events) => {
      options.onStored?.(events);
      enrichment.onStored(events);
      detection.onStored(events);
    },
    onGatewayConnected: options.onGatewayConnected,
    onCentralRulesChanged: (changed) => void detection.reloadFrom(changed),
    config,
    store,
    metrics,
    logger,
    apiTokens,
    authNow: options.authNow,
  });
  // First start: the first admin, from auth.first_admin.password_file or a random password printed once.
  try {
    const first = await ensureFirstAdmin(
      authStore,
      config.auth,
      options.printSecret ?? ((text) => process.stdout.write(text)),
    );
    if (first.created) logger.info({ username: first.username, source: first.from }, 'first admin created');
  } catch (error) {
    await detection.stop();
    await lifecycle.stop();
    await store.close();
    throw error;
  }

  late.alerts = alerts;
  // Central runs the enabled central rules of the rule store (seeded from detection.rules_dirs).
  void detection.reloadFrom(rules);

  const { host, port: listenPort } = parseListen(config.http.listen);
  const tls = config.http.tls;
  let server: ServerType;
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve(
        {
          fetch: app.fetch,
          hostname: host,
          port: listenPort,
          ...(tls
            ? {
                createServer: createHttpsServer,
                serverOptions: tlsServerOptions(tls),
              }
            : {}),
        },
        () => resolve(s),
      );
      s.once('error', reject);
    });
  } catch (error) {
    await lifecycle.stop();
    await store.close();
    throw error;
  }
  injectWebSocket(server);
  sinks.start();
  const address = server.address() as AddressInfo;
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const base = `${tls ? 'https' : 'http'}://${hostText}:${address.port}`;
  logger.info({ url: base, storage: store.adapter }, 'central started');

  return {
    store,
    lifecycle,
    alerts,
    registry,
    url: () => base,
    linkUrl: () => `${tls ? 'wss' : 'ws'}://${hostText}:${address.port}${config.link.path}`,
    async stop() {
      await lifecycle.stop();
      auth.close();
      // Closes the link and stores the refusals counted in the current interval (gateways/refusals.ts).
      await link.stop();
      await enrichment.idle();
      await detection.stop();
      await sinks.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await store.close();
      logger.info('central stopped');
    },
  };
}
