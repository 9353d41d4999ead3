/**
 * Builds a running gateway from a validated config, in the order the parts depend on each other,
 * top to bottom: access control, the durable queue, what the gateway learns (inventory, baselines,
 * rules: state.ts), the pipeline of stages that feeds the queue (gateway/pipeline), the health
 * reporter and the sources that feed the pipeline, the forwarder to central, and the local HTTP
 * server. `start` brings them up in that order and `stop` takes them down in reverse, flushing
 * what the stages hold, so nothing accepted is lost.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import type { Logger } from 'pino';
import type { PendingEvent } from '../protocols/event/schema.ts';
import { createWebAuth, ensureFirstAdmin } from '../server-shared/web-auth/index.ts';
import { openFileAuthStore } from './auth/file-store.ts';
import { parseListen } from './config/common.ts';
import type { GatewayConfig } from './config/schema.ts';
import { Forwarder } from './forwarder/index.ts';
import { createHealthReporter } from './health/reporter.ts';
import { createDeviceHistory } from './http/device-series.ts';
import { createGatewayHttp, type GatewayStatus } from './http/index.ts';
import { gatewayIngest, INGEST_SOURCE } from './http/ingest.ts';
import type { Inventory } from './inventory/index.ts';
import { createLogger } from './log.ts';
import { createGatewayMetrics } from './metrics.ts';
import { createStages } from './pipeline/build.ts';
import { createResponseControls } from './playbooks/controls.ts';
import { createGatewayPlaybooks, type GatewayPlaybooks } from './playbooks/index.ts';
import { createPipeline, type Pipeline } from './pipeline/index.ts';
import type { Source, SourceContext } from './pipeline/types.ts';
import { LANES, LevelQueue } from './queue/leveldb-queue.ts';
import { createSource } from './sources/index.ts';
import { openGatewayState } from './state.ts';

export const GATEWAY_SOFTWARE = 'edge-siem-gateway/0.1.0';

export interface GatewayOptions {
  /** The enrolled Ed25519 private key (PKCS#8 PEM), from the credentials file. */
  privateKey: string;
  logger?: Logger;
  /** Collect Node.js process metrics (off when several gateways share a process). */
  processMetrics?: boolean;
  /** Where the first admin's random password is printed, once (default: stdout, never the logger). */
  printSecret?: (text: string) => void;
  /** The clock of sessions, tokens and the audit log (tests move it). */
  authNow?: () => Date;
}

export interface Gateway {
  readonly config: GatewayConfig;
  readonly queue: LevelQueue;
  readonly forwarder: Forwarder;
  readonly metrics: ReturnType<typeof createGatewayMetrics>;
  readonly inventory: Inventory;
  readonly pipeline: Pipeline;
  /** Response playbooks pushed by central and the blocks they keep (gateway/playbooks). */
  readonly playbooks: GatewayPlaybooks;
  readonly controls: ReturnType<typeof createResponseControls>;
  sources(): Source[];
  /** Hands events to the pipeline as the named source would (resolves once durable). */
  ingest(sourceName: string, events: PendingEvent[]): Promise<void>;
  httpUrl(): string;
  status(): Promise<GatewayStatus>;
  /** Stops; with `drainMs`, forwards what it can first (inputs closed, link up, bounded). */
  stop(options?: { drainMs?: number }): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log.level);
  const metrics = createGatewayMetrics(config.gateway.id, { processMetrics: options.processMetrics ?? true });
  mkdirSync(config.gateway.data_dir, { recursive: true, mode: 0o700 });

  // 1. Access control of the local API (first, so a bad password_file fails start before anything
  // is open): users, sessions, tokens and the audit log in <data_dir>/auth.
  const authStore = await openFileAuthStore({
    dir: path.join(config.gateway.data_dir, 'auth'),
    onError: (error) => logger.warn({ err: error.message }, 'could not save the sessions'),
  });
  const first = await ensureFirstAdmin(
    authStore,
    config.http.auth,
    options.printSecret ?? ((text) => process.stdout.write(text)),
  );
  if (first.created) logger.info({ username: first.username, source: first.from }, 'first admin created');

  // 2. The durable queue: nothing is acknowledged to a device before it is on disk.
  const { queue, recovery } = await LevelQueue.openOrRecover({
    dir: path.join(config.gateway.data_dir, 'queue'),
    gateway: config.gateway.id,
    maxRecordEvents: config.queue.max_batch_events,
    flushIntervalMs: config.queue.flush_interval_ms,
    sync: config.queue.sync,
    maxSizeBytes: config.queue.max_size_bytes,
  });

  // 3. What the gateway learns: inventory, baselines, the running rules.
  const state = await openGatewayState(config, logger, metrics);
  const { inventory, baselines, detection } = state;

  // 3b. Response controls (what playbooks block), persisted, and the playbooks central pushed.
  const controls = createResponseControls({
    dataDir: config.gateway.data_dir,
    maxEntries: config.playbooks.max_entries,
  });
  // The pipeline is built after the playbooks (it feeds them): they reach it through this.
  const late: { pipeline?: Pipeline } = {};
  const playbooks = createGatewayPlaybooks({
    dataDir: config.gateway.data_dir,
    gateway: config.gateway.id,
    controls,
    idFor: (event) => late.pipeline!.evidence.idFor(event),
    emit: (events) => late.pipeline!.emit('gateway', events),
    logger: logger.child({ component: 'playbooks' }),
    metrics,
  });
  metrics.responseEntries.set(controls.list().length);

  // 4. The forwarder: queue → link → central (started last); central may push rule sets back.
  const c = config.central;
  const forwarder = new Forwarder({
    endpoints: c.endpoints,
    failback: {
      intervalMs: c.failback.check_interval_secs * 1000,
      healthyChecks: c.failback.healthy_checks,
    },
    privateKey: options.privateKey,
    gateway: config.gateway.id,
    batchMaxEvents: c.batch_max_events,
    batchMaxBytes: c.batch_max_bytes,
    maxInFlight: c.max_in_flight_batches,
    heartbeatIntervalMs: c.heartbeat_interval_secs * 1000,
    initialBackoffMs: c.initial_backoff_secs * 1000,
    maxBackoffMs: c.max_backoff_secs * 1000,
    tls: c.tls ? { caFile: c.tls.ca_file, certFile: c.tls.cert_file, keyFile: c.tls.key_file } : undefined,
    queue,
    metrics,
    logger: logger.child({ component: 'forwarder' }),
    software: GATEWAY_SOFTWARE,
    rules: { version: () => detection.running().version, apply: (m) => detection.apply(m) },
    playbooks,
  });

  // 5. The pipeline: every observation through the configured stages into the queue; the device
  // dashboard's live history sees every observation, before any reduction.
  const h = config.http.device_history;
  const history = createDeviceHistory({
    pointsPerValue: h.points_per_value,
    maxValues: h.max_values,
    eventsPerDevice: h.events_per_device,
    maxDevices: h.max_devices,
    maxAlerts: h.max_alerts,
  });
  const pipeline = createPipeline({
    sink: queue,
    stages: (hooks) =>
      createStages(config.pipeline, {
        dataDir: config.gateway.data_dir,
        sources: config.sources,
        inventory,
        baselines,
        engine: () => detection.engine,
        ...hooks,
      }),
    metrics,
    engine: () => detection.engine,
    clockOffsetMs: () => forwarder.clockOffsetMs,
    onObserved: (events) => {
      history.observe(events);
      playbooks.observe(events);
    },
  });
  late.pipeline = pipeline;

  // 6. The health reporter (evictions, refused input, queue recovery) and the sources, both
  // feeding the pipeline.
  const health = createHealthReporter({
    intervalMs: config.queue.report_interval_secs * 1000,
    emit: (events) => pipeline.emit('gateway', events),
    now: () => new Date(),
    host: hostname(),
  });
  pipeline.reportTo(health);
  if (recovery) {
    logger.error(
      { ...recovery },
      'the queue database was corrupt and has been %s',
      recovery.action.replace('_', ' '),
    );
    health.queueRecovered(recovery);
  }
  queue.on('evicted', (report) => {
    metrics.evicted.inc({ lane: report.lane }, report.events);
    health.evicted(report);
  });
  const sources: Source[] = Object.entries(config.sources).map(([name, sourceConfig]) => {
    const ctx: SourceContext = {
      emit: (events: PendingEvent[], opts) =>
        pipeline.emit(name, events, Date.now(), opts?.state, opts?.ack === true),
      readState: (prefix) => queue.readState(prefix),
      metrics,
      logger: logger.child({ component: name }),
      now: () => new Date(),
      response: controls.view,
    };
    return createSource(name, sourceConfig, ctx);
  });

  // 7. Status, gauges and the 1 s clock of the stateful stages and correlation windows.
  const status = createStatus(config, { queue, forwarder, health, sources, pipeline });
  const refreshQueueGauges = () => {
    const depth = queue.depth;
    for (const lane of LANES) {
      metrics.queueEvents.set({ lane }, depth.byLane[lane]);
      metrics.queueLaneBytes.set({ lane }, depth.bytesByLane[lane]);
    }
    metrics.queueBytes.set(depth.bytes);
    metrics.queueCorrupt.set(queue.corruptRecords);
    queue
      .oldestReceived()
      .then((oldest) => metrics.oldestUnsentAge.set(oldest ? (Date.now() - oldest.getTime()) / 1000 : 0))
      .catch(() => undefined);
  };
  refreshQueueGauges();
  let ticks = 0;
  const gaugeTimer = setInterval(() => {
    refreshQueueGauges();
    if (++ticks % 30 === 0) state.saveBaselines();
    if (ticks % 60 === 0) controls.prune();
    // Windows that are due close, and a quiet network still closes correlation windows.
    pipeline.tick(Date.now()).catch(() => undefined);
  }, 1000);
  gaugeTimer.unref();
  forwarder.on('connected', () => {});

  // 8. The local HTTP server: /healthz, /metrics, the API and the device dashboard.
  const auth = createWebAuth({
    store: authStore,
    config: config.http.auth,
    cookieName: 'siem_gw_session',
    issuer: `edge-siem ${config.gateway.id}`,
    now: options.authNow,
    onError: (error) => logger.error({ err: error.message }, 'auth storage write failed'),
  });
  const app = createGatewayHttp({
    auth,
    metrics,
    metricsAccess: config.http.metrics,
    logger: logger.child({ component: 'http' }),
    ingest: gatewayIngest(config.http.ingest, (events) => pipeline.emit(INGEST_SOURCE, events), metrics),
    response: { playbooks, controls },
    status,
    inventory,
    dashboard: {
      history,
      dir: config.http.dashboard_dir,
      baselines: baselines && {
        get: (device) => baselines.devices.get(device),
        learningMs: config.baselines.learning_hours * 3600_000,
      },
    },
  });

  // Start: sources, then HTTP, then the link; undone in reverse when a step fails.
  const { host, port } = parseListen(config.http.listen);
  const stopped: Array<() => Promise<void>> = [];
  let httpAddress: AddressInfo;
  try {
    for (const source of sources) {
      await source.start();
      stopped.unshift(() => source.stop());
    }
    const server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
      s.once('error', reject);
    });
    stopped.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
    forwarder.start();
    httpAddress = server.address() as AddressInfo;
  } catch (error) {
    for (const stop of stopped) await stop();
    health.stop();
    auth.close();
    await queue.close();
    await state.close();
    clearInterval(gaugeTimer);
    throw error;
  }
  logger.info({ sources: sources.map((s) => s.addresses()) }, 'gateway %s started', config.gateway.id);

  return {
    config,
    queue,
    forwarder,
    metrics,
    inventory,
    pipeline,
    playbooks,
    controls,
    sources: () => sources,
    ingest: (sourceName, events) => pipeline.emit(sourceName, events),
    httpUrl: () =>
      `http://${httpAddress.family === 'IPv6' ? `[${httpAddress.address}]` : httpAddress.address}:${httpAddress.port}`,
    status,
    /** Stops; `drainMs` (the CLI's SIGTERM: central.stop_drain_secs) forwards what it can first. */
    async stop({ drainMs = 0 }: { drainMs?: number } = {}) {
      for (const stop of stopped) await stop();
      clearInterval(gaugeTimer);
      // What the stages hold (open summaries, held duplicates) is released and queued.
      await pipeline.tick(Date.now(), { final: true }).catch(() => undefined);
      health.stop();
      await health.flush().catch(() => undefined);
      if (drainMs > 0) {
        const left = () => queue.depth.events;
        const before = left();
        const drained = await forwarder.drain(drainMs);
        logger.info(
          '%s on stop: %d events forwarded, %d left queued',
          drained ? 'drained' : 'not drained',
          before - left(),
          left(),
        );
      }
      await forwarder.stop();
      await queue.close();
      auth.close();
      await authStore.close?.();
      await state.close();
      logger.info('gateway %s stopped', config.gateway.id);
    },
  };
}

function createStatus(
  config: GatewayConfig,
  parts: {
    queue: LevelQueue;
    forwarder: Forwarder;
    health: ReturnType<typeof createHealthReporter>;
    sources: Source[];
    pipeline: Pipeline;
  },
): () => Promise<GatewayStatus> {
  const { queue, forwarder, health, sources, pipeline } = parts;
  // Since when the link is down (the dashboard's "offline since"): from start until connected.
  let offlineSince = new Date();
  forwarder.on('disconnected', () => {
    offlineSince = new Date();
  });
  return async () => {
    const link = forwarder.status();
    const depth = queue.depth;
    const oldest = await queue.oldestReceived();
    return {
      status: link.connected ? 'ok' : 'degraded',
      gateway: config.gateway.id,
      link: { ...link, disconnected_since: link.connected ? null : offlineSince.toISOString() },
      queue: {
        ...depth,
        max_size_bytes: config.queue.max_size_bytes,
        last_write_error: health.lastWriteError() ?? null,
        oldest_unsent_age_secs: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : null,
        // With nothing acked lately (link down) the drain time is unknown, not infinite.
        expected_drain_secs:
          depth.events === 0 ? 0 : link.ack_rate_per_sec > 0 ? depth.events / link.ack_rate_per_sec : null,
      },
      sources: sources.map((s) => {
        const notes = s.notes?.() ?? [];
        return {
          name: s.name,
          type: s.type,
          addresses: s.addresses(),
          ...(notes.length > 0 ? { notes } : {}),
        };
      }),
      pipeline: { forward: config.pipeline.forward, stages: pipeline.counts() },
      process: processMemory(),
    };
  };
}

function processMemory() {
  const m = process.memoryUsage();
  return {
    rss_bytes: m.rss,
    heap_used_bytes: m.heapUsed,
    external_bytes: m.external,
    array_buffers_bytes: m.arrayBuffers,
  };
}
