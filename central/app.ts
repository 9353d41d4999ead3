/**
 * Central's HTTP surface as one Hono app: `/healthz`, `/metrics`, the REST API under `/api`
 * (session cookie or bearer token, a declared permission per route: server-shared/web-auth) and
 * the gateway link. One error handler turns thrown errors into JSON responses; handlers throw
 * typed HTTPExceptions.
 */
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type { Event } from '../protocols/event/schema.ts';
import { LINK_MAX_HELLO_BYTES } from '../protocols/link/codec.ts';
import { createAlerts } from './alerts/index.ts';
import type { Alert } from './alerts/types.ts';
import { alertsApi } from './api/alerts.ts';
import './api/context.ts';
import { enrichApi } from './api/enrich.ts';
import { registerDashboardStatic } from './api/dashboard-static.ts';
import { overviewApi } from './api/overview.ts';
import { refuseNulInRequest } from './api/query-guard.ts';
import { createLiveHub, streamApi } from './api/stream.ts';
import { eventsApi } from './api/events.ts';
import { searchApi } from './api/search.ts';
import { enrollApi, gatewaysApi } from './api/gateways.ts';
import { rulesApi } from './api/rules.ts';
import { BUILTIN_EDGE_RULES, createRulesStore, type RulesStore } from './rules/store.ts';
import { createSqlAuthStore } from './auth/sql-store.ts';
import { createMetricsGuard, createWebAuth } from '../server-shared/web-auth/index.ts';
import type { CentralConfig } from './config/schema.ts';
import { createCentralEvents } from './events.ts';
import { createRefusals } from './gateways/refusals.ts';
import { createGatewayRegistry } from './gateways/registry.ts';
import { mountLink } from './link/server.ts';
import { createSkewMonitor } from './link/skew.ts';
import type { Enrichment } from './enrich/index.ts';
import type { CentralMetrics } from './metrics.ts';
import { InvalidQueryError } from './store/errors.ts';
import type { SqlExecutor } from './store/sql-client.ts';
import type { EventStore } from './store/types.ts';

export interface AppDeps {
  config: CentralConfig;
  store: EventStore;
  metrics: CentralMetrics;
  logger: Logger;
  apiTokens: Array<{ name: string; token_sha256: string }>;
  onStored?: (events: Event[]) => void;
  onGatewayConnected?: (gateway: string) => void;
  /** Runs in the transaction of each new alert (the forwarding sinks' outbox). */
  onAlertCreated?: (tx: SqlExecutor, alert: Alert) => Promise<void>;
  /** Called after a new alert committed (wakes the sinks). */
  onAlertCommitted?: () => void;
  /** IP lookups and the device inventory API (absent: those routes are not served). */
  enrichment?: Enrichment;
  /** Central's own enabled rules changed through the rules API (its engine reloads them). */
  onCentralRulesChanged?: (rules: RulesStore) => void;
  /** The clock of sessions, tokens and the audit log (tests move it). */
  authNow?: () => Date;
}

export function createCentralApp(deps: AppDeps) {
  const { config, store, metrics, logger } = deps;
  const app = new Hono();
  const { upgradeWebSocket, injectWebSocket, wss } = createNodeWebSocket({ app });
  // Link SPEC §3: until a gateway has proved its key its frames are capped at a few KiB by the
  // WebSocket layer itself; link/server.ts raises its socket's limit to 16 MiB after the hello.
  (wss.options as { maxPayload?: number }).maxPayload = LINK_MAX_HELLO_BYTES;
  app.use('*', secureHeaders());
  app.use('*', async (c, next) => {
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.httpRequests.inc({ route, status: String(c.res.status) });
  });

  // Anonymous, so only up or degraded: no gateway names, versions or counts (issue 15 item 13).
  app.get('/healthz', async (c) => {
    const health = await store.health();
    return c.json({ status: health.ok ? 'ok' : 'degraded' }, health.ok ? 200 : 503);
  });
  // Names gateways, versions and counts: behind http.metrics (token, allow-list) when configured.
  app.get('/metrics', createMetricsGuard(config.http.metrics), async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );

  const registry = createGatewayRegistry(store.sql);
  const centralEvents = createCentralEvents({
    store,
    centralId: config.central.id,
    logger: logger.child({ component: 'central-events' }),
    metrics,
  });
  // Managed Sigma rules (issue 6): shipped edge rules and central's rules_dirs, pushed over the link.
  const rules = createRulesStore({
    sql: store.sql,
    builtin: [
      { dir: BUILTIN_EDGE_RULES, target: 'edge' },
      ...config.detection.rules_dirs.map((dir) => ({ dir, target: 'central' as const })),
    ],
  });
  // Refused enrollments and link logins: rows bounded per address and interval (issue 15 item 8).
  const refusals = createRefusals({
    centralEvents,
    metrics,
    logger: logger.child({ component: 'refusals' }),
    intervalMs: config.link.refusal_summary_interval_secs * 1000,
    maxAddresses: config.link.refusal_max_tracked_addresses,
  });
  const link = mountLink(app, config.link.path, upgradeWebSocket, {
    rules,
    refusals,
    centralId: config.central.id,
    store,
    metrics,
    logger: logger.child({ component: 'link' }),
    registry,
    centralEvents,
    maxBatchEvents: config.link.max_batch_events,
    heartbeatIntervalMs: config.link.heartbeat_interval_secs * 1000,
    maxEventsPerSecond: config.link.max_events_per_second_per_gateway,
    maxQueuedBatches: config.link.max_queued_batches,
    // PGlite is one single-threaded engine: concurrency there only adds contention.
    maxConcurrentBatches: store.adapter === 'pglite' ? 1 : config.link.max_concurrent_batches,
    onStored: deps.onStored,
    onGatewayConnected: deps.onGatewayConnected,
    onClockOffset: createSkewMonitor({
      registry,
      centralEvents,
      maxSkewMs: config.link.max_clock_skew_secs * 1000,
      logger,
    }),
    pending: {
      maxPending: config.link.max_pending_connections,
      maxPendingPerAddress: config.link.max_pending_connections_per_address,
      helloTimeoutMs: config.link.hello_timeout_secs * 1000,
    },
  });
  const gatewayDeps = {
    registry,
    centralEvents,
    refusals,
    centralId: config.central.id,
    metrics,
    defaultTtlSecs: config.enrollment.default_ttl_secs,
    connected: () => new Set(link.connections().map((c) => c.gateway)),
    disconnect: (gateway: string) => link.disconnect(gateway),
    rulesStates: () => rules.gatewayStates(),
  };
  app.use('/enroll', bodyLimit({ maxSize: 16 * 1024 }));
  app.route('/enroll', enrollApi(gatewayDeps));

  app.use('/api/*', bodyLimit({ maxSize: 1024 * 1024 }));
  // Access control (server-shared/web-auth/SPEC.md): session cookie or bearer token; every /api route
  // declares its permission with requirePermission(...) and an undeclared one is refused.
  const authStore = createSqlAuthStore(store.sql);
  const auth = createWebAuth({
    store: authStore,
    config: config.auth,
    cookieName: 'siem_session',
    issuer: `edge-siem ${config.central.id}`,
    configTokens: deps.apiTokens,
    now: deps.authNow,
    onError: (error) => logger.error({ err: error.message }, 'auth storage write failed'),
  });
  app.use('/api/*', refuseNulInRequest);
  app.use('/api/*', auth.middleware);
  app.use('/api/*', async (c, next) => {
    c.set('apiUser', c.get('auth')?.actor ?? '-');
    await next();
  });
  app.route('/api', auth.routes);
  app.route('/api/events', searchApi(store, logger.child({ component: 'search' })));
  app.route('/api/events', eventsApi(store));
  app.route('/api', gatewaysApi(gatewayDeps));
  app.route(
    '/api',
    rulesApi({
      rules,
      registry,
      push: (gateway, message) => link.pushRules(gateway, message),
      onCentralRulesChanged: () => deps.onCentralRulesChanged?.(rules),
    }),
  );
  const alerts = createAlerts({
    sql: store.sql,
    metrics,
    groupWindowSecs: config.alerts.group_window_secs,
    onCreated: deps.onAlertCreated,
    onCommitted: deps.onAlertCommitted,
  });
  app.route('/api', alertsApi(alerts, { relatedMarginSecs: config.alerts.related_margin_secs }));
  // SOC dashboard data: live stream (SSE) and the overview/fleet aggregates.
  const hub = createLiveHub({ changes: alerts.changes, metrics, connections: () => link.connections() });
  app.route('/api', streamApi(hub, config.api.stream));
  app.route('/api', overviewApi({ store, registry, connections: () => link.connections(), hub }));
  if (deps.enrichment) app.route('/api', enrichApi(deps.enrichment, store.sql));

  registerDashboardStatic(app, config.http.dashboard_dir, config.link.path);
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      return c.json(
        { error: error.message },
        error.status,
        error.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      );
    }
    if (error instanceof InvalidQueryError) return c.json({ error: error.message }, 400);
    metrics.errors.inc({ component: 'api', stage: 'processing', code: 'internal' });
    logger.error({ err: error.message, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return { app, link, registry, alerts, injectWebSocket, authStore, auth, rules };
}
