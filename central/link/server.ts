/**
 * The link endpoint on central's Hono app: authenticates the gateway on the upgrade request
 * (`Authorization: Bearer`, SPEC §1.2) before any WebSocket exists, then runs one LinkSession
 * per connection. A gateway has at most one live connection: a new one replaces the old.
 * A connection silent for three heartbeat intervals is closed (SPEC §5.3).
 */
import type { NodeWebSocket } from '@hono/node-ws';
import type { Hono } from 'hono';
import type { WebSocket } from 'ws';
import { bearerToken, type TokenTable } from '../auth/tokens.ts';
import { LinkSession, type SessionDeps } from './session.ts';

export interface GatewayConnection {
  gateway: string;
  remote: string;
  connectedAt: Date;
  lastSeen: Date;
}

export function mountLink(
  app: Hono,
  path: string,
  upgradeWebSocket: NodeWebSocket['upgradeWebSocket'],
  gateways: TokenTable<string>,
  deps: SessionDeps,
) {
  const live = new Map<string, { session: LinkSession; ws: WebSocket; remote: string; connectedAt: Date }>();

  app.get(
    path,
    async (c, next) => {
      const gateway = gateways.lookup(bearerToken(c.req.header('authorization')));
      if (!gateway) {
        deps.metrics.errors.inc({ component: 'link', stage: 'receiving', code: 'unauthorized' });
        return c.json({ error: 'unauthorized' }, 401);
      }
      c.set('gateway' as never, gateway as never);
      await next();
    },
    upgradeWebSocket((c) => {
      const gateway = c.get('gateway' as never) as string;
      const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } }).incoming;
      const remote = incoming?.socket?.remoteAddress ?? 'unknown';
      let session: LinkSession | undefined;
      let timer: NodeJS.Timeout | undefined;
      return {
        onOpen(_event, ws) {
          const raw = ws.raw as WebSocket;
          const previous = live.get(gateway);
          if (previous) previous.ws.close(1008, 'replaced by a new connection');
          session = new LinkSession(gateway, deps, {
            send: (text) => raw.send(text),
            close: (code, reason) => raw.close(code, reason),
          });
          live.set(gateway, { session, ws: raw, remote, connectedAt: new Date() });
          deps.metrics.linkConnections.set(live.size);
          deps.logger.info({ gateway, remote }, 'gateway connected');
          timer = setInterval(() => {
            if (session && Date.now() - session.lastSeen > 3 * deps.heartbeatIntervalMs) {
              deps.logger.warn({ gateway }, 'gateway silent for three heartbeat intervals; closing');
              raw.terminate();
            }
          }, deps.heartbeatIntervalMs);
          timer.unref();
        },
        onMessage(event) {
          const data = event.data;
          session?.receive(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
        },
        onClose() {
          clearInterval(timer);
          session?.closed();
          if (live.get(gateway)?.session === session) live.delete(gateway);
          deps.metrics.linkConnections.set(live.size);
          deps.logger.info({ gateway }, 'gateway disconnected');
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
      }));
    },
    closeAll(): void {
      for (const { ws } of live.values()) ws.close(1001, 'central stopping');
    },
  };
}
