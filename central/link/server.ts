/**
 * The link endpoint on central's Hono app. Any peer may open the WebSocket; the session then
 * challenges it and nothing is accepted until the gateway has proved its identity (SPEC §2).
 * Unauthenticated connections are bounded in number and time. A gateway has at most one live
 * connection: a new one replaces the old. A connection silent for three heartbeat intervals is
 * closed (SPEC §5.3). Revoking a gateway closes its connection at once.
 */
import type { NodeWebSocket } from '@hono/node-ws';
import type { Hono } from 'hono';
import type { WebSocket } from 'ws';
import type { RulesMessage } from '../../protocols/link/codec.ts';
import { type GatewayQueueReport, LinkSession, type SessionDeps } from './session.ts';

export interface GatewayConnection {
  gateway: string;
  remote: string;
  connectedAt: Date;
  lastSeen: Date;
  /** What the gateway said it runs (hello `software`). */
  software?: string;
  /** Its queue by lane as of its last heartbeat (link SPEC §5.5). */
  queue?: GatewayQueueReport;
}

/** Connections that have not authenticated yet, at most, and how long each may take. */
const MAX_UNAUTHENTICATED = 256;
const HELLO_TIMEOUT_MS = 10_000;

export function mountLink(
  app: Hono,
  path: string,
  upgradeWebSocket: NodeWebSocket['upgradeWebSocket'],
  deps: SessionDeps,
) {
  const live = new Map<string, { session: LinkSession; ws: WebSocket; remote: string; connectedAt: Date }>();
  const pending = new Set<LinkSession>();

  app.get(
    path,
    upgradeWebSocket((c) => {
      const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } }).incoming;
      const remote = (incoming?.socket?.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
      let session: LinkSession | undefined;
      let timer: NodeJS.Timeout | undefined;
      return {
        onOpen(_event, ws) {
          const raw = ws.raw as WebSocket;
          if (pending.size >= MAX_UNAUTHENTICATED) {
            deps.metrics.errors.inc({
              component: 'link',
              stage: 'receiving',
              code: 'too_many_unauthenticated',
            });
            raw.close(1013, 'try again later');
            return;
          }
          const s = new LinkSession(
            {
              ...deps,
              onAuthenticated: (authed) => {
                pending.delete(authed);
                const gateway = authed.gateway!;
                const previous = live.get(gateway);
                if (previous) previous.ws.close(1008, 'replaced by a new connection');
                live.set(gateway, { session: authed, ws: raw, remote, connectedAt: new Date() });
                deps.metrics.linkConnections.set(live.size);
                deps.logger.info({ gateway, remote }, 'gateway connected');
                deps.onGatewayConnected?.(gateway);
              },
            },
            {
              send: (text) => raw.send(text),
              close: (code, reason) => raw.close(code, reason),
              remoteIp: remote,
            },
          );
          session = s;
          pending.add(s);
          timer = setInterval(
            () => {
              const now = Date.now();
              if (!s.authenticated && now - s.openedAt > HELLO_TIMEOUT_MS) raw.terminate();
              else if (now - s.lastSeen > 3 * deps.heartbeatIntervalMs) {
                deps.logger.warn(
                  { gateway: s.gateway },
                  'gateway silent for three heartbeat intervals; closing',
                );
                raw.terminate();
              }
            },
            Math.min(deps.heartbeatIntervalMs, HELLO_TIMEOUT_MS),
          );
          timer.unref();
        },
        onMessage(event) {
          const data = event.data;
          session?.receive(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
        },
        onClose() {
          clearInterval(timer);
          if (!session) return;
          session.closed();
          pending.delete(session);
          const gateway = session.gateway;
          if (gateway && live.get(gateway)?.session === session) {
            live.delete(gateway);
            deps.logger.info({ gateway }, 'gateway disconnected');
          }
          deps.metrics.linkConnections.set(live.size);
        },
      };
    }),
  );

  return {
    connections(): GatewayConnection[] {
      return [...live.entries()].map(([gateway, c]) => ({
        gateway,
        remote: c.remote,
        connectedAt: c.connectedAt,
        lastSeen: new Date(c.session.lastSeen),
        software: c.session.software,
        queue: c.session.queue,
      }));
    },
    /** Sends a rule set to a connected gateway (link SPEC §8.2); false when it is not connected on v2. */
    pushRules(gateway: string, message: RulesMessage): boolean {
      return live.get(gateway)?.session.sendRules(message) ?? false;
    },
    /** Closes the live connection of a revoked gateway. */
    disconnect(gateway: string): void {
      live.get(gateway)?.session.revoke();
    },
    closeAll(): void {
      for (const { ws } of live.values()) ws.close(1001, 'central stopping');
    },
  };
}
