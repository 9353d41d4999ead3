/**
 * Central's HTTP surface as one Hono app, wired from the services central/index.ts built:
 * `/healthz`, `/metrics`, enrollment, the REST API under `/api` (session cookie or bearer token,
 * a declared permission per route: server-shared/web-auth) and the SOC dashboard. The gateway
 * link is a WebSocket route on the same app (central/link/server.ts, mounted by index.ts between
 * `createCentralHttp` and `routeCentralApp`). Nothing here builds a service. One error handler
 * (server-shared/http-errors.ts) turns thrown errors into the one JSON error shape; handlers
 * throw `apiError(...)`.
 */
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type { Event } from '../protocols/event/schema.ts';
import { LINK_MAX_HELLO_BYTES } from '../protocols/link/codec.ts';
import { registerIngestRoutes } from '../server-shared/ingest-route.ts';
import { mountOpenApi } from '../server-shared/openapi/index.ts';
import { apiError, createErrorHandler, notFound } from '../server-shared/http-errors.ts';
import { createMetricsGuard, type WebAuth } from '../server-shared/web-auth/index.ts';
import type { Alerts } from './alerts/index.ts';
import type { Incidents } from './incidents/index.ts';
import { alertsApi } from './api/alerts.ts';
import { incidentsApi } from './api/incidents.ts';
import { centralIngest } from './api/ingest.ts';
import './api/context.ts';
import { enrichApi } from './api/enrich.ts';
import { registerDashboardStatic } from './api/dashboard-static.ts';
import { overviewApi } from './api/overview.ts';
import { refuseNulInRequest } from './api/query-guard.ts';
import { type LiveHub, streamApi } from './api/stream.ts';
import { eventsApi } from './api/events.ts';
import { searchApi } from './api/search.ts';
import { enrollApi, gatewaysApi } from './api/gateways.ts';
import { rulesApi } from './api/rules.ts';
import { playbooksApi } from './api/playbooks.ts';
import type { Playbooks } from './playbooks/index.ts';
import { reportsApi } from './api/reports.ts';
import type { Reports } from './reports/index.ts';
import { CENTRAL_ROUTE_DOCS } from './api/openapi.ts';
import type { RulesStore } from './rules/store.ts';
import type { CentralConfig } from './config/schema.ts';
import type { CentralEvents } from './events.ts';
import type { Refusals } from './gateways/refusals.ts';
import type { GatewayRegistry } from './gateways/registry.ts';
import type { mountLink } from './link/server.ts';
import type { Enrichment } from './enrich/index.ts';
import type { CentralMetrics } from './metrics.ts';
import { InvalidQueryError } from './store/errors.ts';
import type { EventStore } from './store/types.ts';

export type Link = ReturnType<typeof mountLink>;

/** What the routes serve, built by central/index.ts in dependency order. */
export interface CentralServices {
  config: CentralConfig;
  store: EventStore;
  metrics: CentralMetrics;
  logger: Logger;
  centralEvents: CentralEvents;
  auth: WebAuth;
  registry: GatewayRegistry;
  rules: RulesStore;
  refusals: Refusals;
  alerts: Alerts;
  /** Alerts folded by attacker (central/incidents); absent, no incident routes. */
  incidents?: Incidents;
  enrichment: Enrichment;
  /** Response playbooks (central/playbooks); absent, no playbook routes. */
  playbooks?: Playbooks;
  /** Periodic and on-demand reports (central/reports); absent, no report routes. */
  reports?: Reports;
  link: Link;
  hub: LiveHub;
  /** Events stored through HTTP ingest, after their commit (enrichment, detection). */
  afterIngest?: (events: Event[]) => void;
  /** True while those steps are too far behind to take more (HTTP ingest answers 429). */
  ingestFull?: () => boolean;
}

/**
 * The app with what must run before every route, the link's included: security headers, the
 * request counter, and the WebSocket upgrade (its frames capped until a gateway has proved its key).
 */
export function createCentralHttp(metrics: CentralMetrics) {
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
  return { app, upgradeWebSocket, injectWebSocket };
}

export type CentralHttp = ReturnType<typeof createCentralHttp>;

/** Wires every HTTP route of central on `app` (from createCentralHttp) over the given services. */
export function routeCentralApp(app: Hono, services: CentralServices): void {
  const { config, store, metrics, logger, link, rules, registry } = services;

  // Anonymous, so only up or degraded: no gateway names, versions or counts (issue 15 item 13).
  app.get('/healthz', async (c) => {
    const health = await store.health();
    return c.json({ status: health.ok ? 'ok' : 'degraded' }, health.ok ? 200 : 503);
  });
  // Names gateways, versions and counts: behind http.metrics (token, allow-list) when configured.
  app.get('/metrics', createMetricsGuard(config.http.metrics), async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );

  const gatewayDeps = {
    registry,
    centralEvents: services.centralEvents,
    refusals: services.refusals,
    centralId: config.central.id,
    metrics,
    defaultTtlSecs: config.enrollment.default_ttl_secs,
    connected: () => new Set(link.connections().map((c) => c.gateway)),
    disconnect: (gateway: string) => link.disconnect(gateway),
    rulesStates: () => rules.gatewayStates(),
  };
  app.use('/enroll', bodyLimit({ maxSize: 16 * 1024 }));
  app.route('/enroll', enrollApi(gatewayDeps));

  const limit = bodyLimit({ maxSize: 1024 * 1024 });
  // Ingest bounds its own body (api.ingest.max_body_bytes), refusing it while it is read.
  app.use('/api/*', (c, next) => (c.req.path.startsWith('/api/ingest') ? next() : limit(c, next)));
  // Access control (server-shared/web-auth/SPEC.md): session cookie or bearer token; every /api route
  // declares its permission with requirePermission(...) and an undeclared one is refused.
  app.use('/api/*', refuseNulInRequest);
  app.use('/api/*', services.auth.middleware);
  app.use('/api/*', async (c, next) => {
    c.set('apiUser', c.get('auth')?.actor ?? '-');
    await next();
  });
  app.route('/api', services.auth.routes);
  registerIngestRoutes(
    app,
    centralIngest({
      config: config.api.ingest,
      store,
      centralId: config.central.id,
      metrics,
      afterCommit: services.afterIngest,
      full: services.ingestFull,
    }),
    services.auth.middleware,
  );
  app.route('/api/events', searchApi(store, logger.child({ component: 'search' })));
  app.route('/api/events', eventsApi(store));
  app.route('/api', gatewaysApi(gatewayDeps));
  app.route(
    '/api',
    rulesApi({
      rules,
      registry,
      push: (gateway, message) => link.pushRules(gateway, message),
    }),
  );
  app.route('/api', alertsApi(services.alerts, { relatedMarginSecs: config.alerts.related_margin_secs }));
  if (services.incidents) app.route('/api', incidentsApi(services.incidents));
  // SOC dashboard data: live stream (SSE) and the overview/fleet aggregates.
  app.route('/api', streamApi(services.hub, config.api.stream));
  app.route(
    '/api',
    overviewApi({ store, registry, connections: () => link.connections(), hub: services.hub }),
  );
  app.route('/api', enrichApi(services.enrichment, store.sql));
  if (services.playbooks) app.route('/api', playbooksApi(services.playbooks));
  if (services.reports) app.route('/api', reportsApi(services.reports, config.reports.time_zone));

  mountOpenApi(app, {
    title: 'edge-siem central',
    version: '1',
    description: "Central's REST API (docs/api.md). Errors: the ApiError shape.",
    cookieName: 'siem_session',
    docs: CENTRAL_ROUTE_DOCS,
  });

  registerDashboardStatic(app, config.http.dashboard_dir, config.link.path);
  app.notFound(notFound);
  app.onError(
    createErrorHandler({
      logger,
      countInternal: () => metrics.errors.inc({ component: 'api', stage: 'processing', code: 'internal' }),
      // The store refuses a query it cannot run (a bad cursor, a text search it cannot parse).
      classify: (error) =>
        error instanceof InvalidQueryError ? apiError(400, 'invalid_query', error.message) : undefined,
    }),
  );
}
