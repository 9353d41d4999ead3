/**
 * The one place central is assembled. `startCentral` opens the store (PGlite or PostgreSQL,
 * migrations, partitions), builds every service in dependency order (`buildCentral`), starts the
 * partition lifecycle (partitions ahead, retention, DEFAULT partition watch: at start and hourly),
 * creates the first admin, then serves the Hono app with the WebSocket link on HTTP or HTTPS.
 * Every part registers its closer as it is built; `stop()` runs them once, in reverse
 * (teardown.ts), and a failed start runs the same list.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Event } from '../protocols/event/schema.ts';
import { createWebAuth, ensureFirstAdmin } from '../server-shared/web-auth/index.ts';
import { type Alerts, createAlerts } from './alerts/index.ts';
import { createLiveHub } from './api/stream.ts';
import { type CentralServices, createCentralHttp, routeCentralApp } from './app.ts';
import { createSqlAuthStore } from './auth/sql-store.ts';
import { sha256Hex } from './auth/tokens.ts';
import type { CentralConfig } from './config/schema.ts';
import { createCentralDetection } from './detection.ts';
import { createEnrichment } from './enrich/index.ts';
import { createCentralEvents } from './events.ts';
import { createRefusals } from './gateways/refusals.ts';
import { createGatewayRegistry, type GatewayRegistry } from './gateways/registry.ts';
import { createIncidents } from './incidents/index.ts';
import { createIngest, enrichOnInsert } from './ingest.ts';
import { createLifecycleJob, type LifecycleJob } from './lifecycle.ts';
import { linkLimits } from './link/limits.ts';
import { mountLink } from './link/server.ts';
import { createSkewMonitor } from './link/skew.ts';
import { feedWriter, startClusterNode } from './cluster/node.ts';
import { createLogger } from './log.ts';
import { deferPlaybooks } from './playbooks/deferred.ts';
import { createPlaybooks } from './playbooks/index.ts';
import { type CentralMetrics, createCentralMetrics } from './metrics.ts';
import { BUILTIN_EDGE_RULES, createRulesStore } from './rules/store.ts';
import { createTableChanges } from './store/table-changes.ts';
import { createReports } from './reports/index.ts';
import { listenCentral } from './serve.ts';
import { createSinks } from './sinks/index.ts';
import { createStore } from './store/index.ts';
import type { EventStore } from './store/types.ts';
import { createTeardown, type Teardown } from './teardown.ts';

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

export interface BuildOptions extends Pick<CentralOptions, 'onStored' | 'onGatewayConnected' | 'authNow'> {
  metrics: CentralMetrics;
  logger: Logger;
  /** API tokens from the config and the environment, as name and SHA-256 of the token. */
  apiTokens: Array<{ name: string; token_sha256: string }>;
  /** Where each part registers its closer (startCentral's; a new one when absent). */
  teardown?: Teardown;
}

/**
 * Every service of central over an open store, in dependency order, and the HTTP app routed over
 * them (not listening: startCentral serves it; tests call `app.request`). `stop()` stops them.
 */
export async function buildCentral(config: CentralConfig, store: EventStore, options: BuildOptions) {
  const { metrics, logger } = options;
  const teardown = options.teardown ?? createTeardown(logger);
  const child = (component: string) => logger.child({ component });
  const centralEvents = createCentralEvents({
    store,
    centralId: config.central.id,
    logger: child('central-events'),
    metrics,
  });
  // Users, sessions, tokens and the audit log (server-shared/web-auth/SPEC.md).
  const authStore = createSqlAuthStore(store.sql);
  const auth = createWebAuth({
    store: authStore,
    config: config.auth,
    cookieName: 'siem_session',
    issuer: `edge-siem ${config.central.id}`,
    configTokens: options.apiTokens,
    now: options.authNow,
    onError: (error) => logger.error({ err: error.message }, 'auth storage write failed'),
  });
  teardown.add('auth', () => auth.close());
  const registry = createGatewayRegistry(store.sql);
  // Managed Sigma rules (issue 6): shipped edge rules and central's rules_dirs, pushed over the link.
  // The stores' change notices (store/table-changes.ts): caches follow the tables they hold.
  const tableChanges = createTableChanges();
  const rules = createRulesStore({
    sql: store.sql,
    changes: tableChanges,
    builtin: [
      { dir: BUILTIN_EDGE_RULES, target: 'edge' },
      ...config.detection.rules_dirs.map((dir) => ({ dir, target: 'central' as const })),
    ],
  });
  // Refused enrollments and link logins: rows bounded per address and interval (issue 15 item 8).
  // Stored at stop by the link (link.stop), while the database is still open.
  const refusals = createRefusals({
    centralEvents,
    metrics,
    logger: child('refusals'),
    intervalMs: config.link.refusal_summary_interval_secs * 1000,
    maxAddresses: config.link.refusal_max_tracked_addresses,
  });
  // Forwarding sinks: built before anything raises alerts, so a missing secret fails start with its key.
  const sinks = createSinks({ config: config.sinks, sql: store.sql, metrics, logger: child('sinks') });
  teardown.add('sinks', () => sinks.stop());
  // Incidents: each new alert folds into its attacker's incident in its own transaction.
  const incidents = createIncidents({
    sql: store.sql,
    windowSecs: config.alerts.incident_window_secs,
    notify: config.alerts.incident_notify,
  });
  // Built after the link it sends commands over; the alerts and the link reach it through this.
  const late = deferPlaybooks();
  const alerts = createAlerts({
    sql: store.sql,
    metrics,
    groupWindowSecs: config.alerts.group_window_secs,
    onCreated: async (tx, alert) => {
      if ((await incidents.onAlertCreated(tx, alert)).forward) await sinks.onCreated(tx, alert);
    },
    onCommitted: () => sinks.wake(),
    // Response playbooks (built after the link they send commands over) match each new alert.
    onRaised: late.onAlert,
  });
  // Inventory and threat intel after each stored batch; intel hits raise alerts.
  const enrichment = await createEnrichment({
    config: config.enrichment,
    sql: store.sql,
    alerts: () => alerts,
    metrics,
    logger: child('enrichment'),
    // The link waits at the bound; skipping is for a writer that does not (ingest.ts).
    maxPendingEvents: 2 * config.link.max_unprocessed_events,
  });
  // Alerts store the enrichment of the addresses and asset they name (enrich/alert.ts).
  alerts.setEnricher((input) => enrichment.enrichAlert(input));
  // Names the reverse-DNS cache did not have yet when an alert was raised are added when found.
  alerts.changes.on('alert', (alert) => enrichment.followUp(alert));
  teardown.add('enrichment', async () => {
    enrichment.stop();
    await enrichment.idle();
    await enrichment.followUpsDone();
  });
  enrichOnInsert(store, (events) => enrichment.annotate(events));
  const detectionAlerts: typeof alerts = {
    ...alerts,
    raise: (input, actor) => alerts.raise(input, actor, { once: true }),
  };
  // Central's own rules across gateways (rules/central); windows open before a restart are
  // rebuilt from stored events. It runs the enabled central rules of the rule store.
  const detection = createCentralDetection({
    rulesDirs: config.detection.rules_dirs,
    alertWindowMs: config.detection.alert_window_secs * 1000,
    // Keyed raises: a hit raised again by a new cluster leader or after a restart (its windows
    // replayed) changes no count (alerts/raise.ts).
    alerts: () => detectionAlerts,
    logger: child('detection'),
    store,
    // Several nodes: the cluster's leader runs detection over the event feed (central/cluster).
    rebuildAtStart: !config.cluster.enabled,
  });
  teardown.add('detection', () => detection.stop());
  void detection.reloadFrom(rules);
  // A rule written here or on another node (the rules API, a new release's shipped rules).
  tableChanges.on('rules', () => void detection.reloadFrom(rules));
  const ingest = createIngest(
    {
      subscriber: options.onStored,
      enrichment,
      detection: config.cluster.enabled ? { onStored: () => undefined } : detection,
    },
    config.link.max_unprocessed_events,
  );
  metrics.unprocessedSource(ingest.backlog);
  // Reports (issue 21 ask 5): on demand through the API; schedules start with the server.
  const reports = createReports({
    config: config.reports,
    sql: store.sql,
    node: `${config.central.id}/${hostname()}/${process.pid}`,
    centralId: config.central.id,
    logger: child('reports'),
    registry: metrics.registry,
  });
  teardown.add('reports', () => reports.stop());

  const http = createCentralHttp(metrics);
  // The link's closer is registered by startCentral with the server that carries it.
  const link = mountLink(http.app, config.link.path, http.upgradeWebSocket, {
    rules,
    refusals,
    centralId: config.central.id,
    store,
    metrics,
    logger: child('link'),
    registry,
    centralEvents,
    ...linkLimits(config.link, store.adapter),
    onStored: (events) => {
      ingest.afterCommit(events);
      late.onEvents(events);
    },
    room: () => ingest.room(),
    playbooks: late.link,
    onGatewayConnected: options.onGatewayConnected,
    onClockOffset: createSkewMonitor({
      registry,
      centralEvents,
      maxSkewMs: config.link.max_clock_skew_secs * 1000,
      logger,
    }),
  });
  let playbookLink: Pick<typeof link, 'sendPlaybooks'> = link;
  const playbooks = createPlaybooks({
    sql: store.sql,
    auth: authStore,
    sinks: config.sinks,
    registry,
    // Several nodes: to the node holding the gateway (the cluster's link, set once it started).
    send: (gateway, message) => playbookLink.sendPlaybooks(gateway, message),
    logger: child('playbooks'),
    metrics,
    changes: tableChanges,
  });
  late.set(playbooks);
  // The SOC dashboard's live stream: alert changes, event rates, gateways coming and going.
  // Several nodes (issue 22): the gateways, alert changes and rule pushes of every node.
  const { cluster, link: nodeLink } = await startClusterNode(
    config,
    {
      sql: store.sql,
      logger: child('cluster'),
      detection,
      alerts,
      rules,
      link,
      playbooks: playbooks.cluster,
      tableChanges,
    },
    (close) => teardown.add('cluster', close),
  );
  playbookLink = nodeLink;
  const hub = createLiveHub({
    changes: cluster?.changes ?? alerts.changes,
    metrics,
    connections: () => nodeLink.connections(),
  });
  teardown.add('live stream', () => hub.stop());
  const services: CentralServices = {
    config,
    store,
    metrics,
    logger,
    centralEvents,
    auth,
    registry,
    rules,
    refusals,
    alerts,
    incidents,
    enrichment,
    reports,
    playbooks,
    link: nodeLink,
    hub,
    afterIngest: (events) => ingest.afterCommit(events),
    ingestFull: () => ingest.full(),
  };
  routeCentralApp(http.app, services);
  return {
    ...services,
    authStore,
    sinks,
    detection,
    ingest,
    app: http.app,
    injectWebSocket: http.injectWebSocket,
    teardown,
    stop: () => teardown.run(),
  };
}

export type BuiltCentral = Awaited<ReturnType<typeof buildCentral>>;

export async function startCentral(config: CentralConfig, options: CentralOptions = {}): Promise<Central> {
  const logger = options.logger ?? createLogger(config.log.level);
  const metrics = createCentralMetrics({ processMetrics: options.processMetrics ?? true });
  const teardown = createTeardown(logger);
  try {
    const store = await createStore(config.storage, {
      ...(config.cluster.enabled && { onInserted: feedWriter(config) }),
      // A multi-host storage.url (docs/high-availability.md): what the operator should know.
      onWarning: (message) => logger.warn(message),
      onHostSwitch: (to, why) =>
        logger.warn(
          { host: `${to.host}:${to.port}`, why },
          'PostgreSQL: new connections go to another server',
        ),
    });
    teardown.add('store', () => store.close());
    await store.init(new Date());

    const apiTokens = [...config.api.tokens];
    if (options.apiToken) apiTokens.push({ name: 'env', token_sha256: sha256Hex(options.apiToken) });
    const central = await buildCentral(config, store, { ...options, metrics, logger, apiTokens, teardown });

    // Partitions ahead, retention (with archive) and the DEFAULT partition watch: now, then hourly.
    const lifecycle = createLifecycleJob({
      store,
      storage: config.storage,
      playbooks: config.playbooks,
      metrics,
      logger: logger.child({ component: 'lifecycle' }),
      centralEvents: central.centralEvents,
    });
    lifecycle.start();
    teardown.add('lifecycle', () => lifecycle.stop());

    // First start: the first admin, from auth.first_admin.password_file or a random password printed once.
    const first = await ensureFirstAdmin(
      central.authStore,
      config.auth,
      options.printSecret ?? ((text) => process.stdout.write(text)),
    );
    if (first.created) logger.info({ username: first.username, source: first.from }, 'first admin created');

    const http = await listenCentral(config, central.app.fetch);
    teardown.add('http server', () => http.close());
    central.injectWebSocket(http.server);
    // Before the server closes: gateways are told central is stopping, refusals are stored.
    teardown.add('link', () => central.link.stop());
    central.sinks.start();
    central.reports?.start();

    logger.info({ url: http.url, storage: store.adapter }, 'central started');
    return {
      store,
      lifecycle,
      alerts: central.alerts,
      registry: central.registry,
      url: () => http.url,
      linkUrl: () => http.linkUrl,
      async stop() {
        await teardown.run();
        logger.info('central stopped');
      },
    };
  } catch (error) {
    await teardown.run();
    throw error;
  }
}
