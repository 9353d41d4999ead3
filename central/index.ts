/**
 * Builds a running central server from a validated config: opens the store (PGlite or
 * PostgreSQL), applies migrations and creates partitions (and keeps creating them ahead, hourly),
 * then serves the Hono app with the WebSocket link on HTTP or HTTPS.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Event } from '../protocols/event/schema.ts';
import { createCentralApp } from './app.ts';
import { sha256Hex } from './auth/tokens.ts';
import type { CentralConfig } from './config/schema.ts';
import { createLogger } from './log.ts';
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
}

export interface Central {
  readonly store: EventStore;
  readonly registry: GatewayRegistry;
  url(): string;
  linkUrl(): string;
  stop(): Promise<void>;
}

const PARTITION_CHECK_MS = 60 * 60 * 1000;

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
  const partitionTimer = setInterval(() => {
    store.ensurePartitions(new Date()).catch((error: Error) => {
      metrics.errors.inc({ component: 'store', stage: 'processing', code: 'partitions' });
      logger.error({ err: error.message }, 'could not create partitions');
    });
  }, PARTITION_CHECK_MS);
  partitionTimer.unref();

  const apiTokens = [...config.api.tokens];
  if (options.apiToken) apiTokens.push({ name: 'env', token_sha256: sha256Hex(options.apiToken) });

  const { app, link, registry, injectWebSocket } = createCentralApp({
    onStored: options.onStored,
    onGatewayConnected: options.onGatewayConnected,
    config,
    store,
    metrics,
    logger,
    apiTokens,
  });

  const [host, portText] = splitListen(config.http.listen);
  const tls = config.http.tls;
  let server: ServerType;
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve(
        {
          fetch: app.fetch,
          hostname: host,
          port: Number(portText),
          ...(tls
            ? {
                createServer: createHttpsServer,
                serverOptions: {
                  cert: readFileSync(tls.cert_file),
                  key: readFileSync(tls.key_file),
                  ca: tls.ca_file ? readFileSync(tls.ca_file) : undefined,
                  requestCert: tls.ca_file !== undefined,
                  rejectUnauthorized: tls.ca_file !== undefined,
                  minVersion: 'TLSv1.2' as const,
                },
              }
            : {}),
        },
        () => resolve(s),
      );
      s.once('error', reject);
    });
  } catch (error) {
    clearInterval(partitionTimer);
    await store.close();
    throw error;
  }
  injectWebSocket(server);
  const address = server.address() as AddressInfo;
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const base = `${tls ? 'https' : 'http'}://${hostText}:${address.port}`;
  logger.info({ url: base, storage: store.adapter }, 'central started');

  return {
    store,
    registry,
    url: () => base,
    linkUrl: () => `${tls ? 'wss' : 'ws'}://${hostText}:${address.port}${config.link.path}`,
    async stop() {
      clearInterval(partitionTimer);
      link.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await store.close();
      logger.info('central stopped');
    },
  };
}

function splitListen(listen: string): [string, string] {
  const idx = listen.lastIndexOf(':');
  return [listen.slice(0, idx).replace(/^\[(.*)\]$/, '$1'), listen.slice(idx + 1)];
}
