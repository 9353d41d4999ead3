/**
 * The link endpoint on central's Hono app. Any peer may open the WebSocket; the session then
 * challenges it and nothing is accepted until the gateway has proved its identity (SPEC §2).
 * Before that a peer costs central little (SPEC §3): its frames are capped at
 * LINK_MAX_HELLO_BYTES (the WebSocket server's maxPayload, raised for this socket only once the
 * hello verified: frame-limit.ts), the unauthenticated connections are bounded in number, in
 * total and per address, and each is closed when it has not authenticated in time. A gateway has
 * at most one live connection: a new one replaces the old. A connection silent for three
 * heartbeat intervals is closed (SPEC §5.3). Revoking a gateway closes its connection at once.
 */
import type { NodeWebSocket } from '@hono/node-ws';
import type { Hono } from 'hono';
import type { WebSocket } from 'ws';
import { normalizeIp } from '../../protocols/event/address.ts';
import {
  type CommandMessage,
  LINK_MAX_MESSAGE_BYTES,
  type PlaybooksMessage,
  type RulesMessage,
} from '../../protocols/link/codec.ts';
import { raiseMaxPayload } from './frame-limit.ts';
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

/** Bounds on connections that have not authenticated yet (config `link.*`, SPEC §2.5). */
export interface PendingLimits {
  /** Unauthenticated connections at once, from all addresses. */
  maxPending: number;
  /** Unauthenticated connections at once from one address. */
  maxPendingPerAddress: number;
  /** Time a connection has to authenticate. */
  helloTimeoutMs: number;
}

/** How long a connection turned away (1013) has to complete the close handshake. */
const REFUSED_GRACE_MS = 1000;

export function mountLink(
  app: Hono,
  path: string,
  upgradeWebSocket: NodeWebSocket['upgradeWebSocket'],
  { pending: limits, ...deps }: SessionDeps & { pending: PendingLimits },
) {
  const live = new Map<string, { session: LinkSession; ws: WebSocket; remote: string; connectedAt: Date }>();
  const pending = new Set<LinkSession>();
  const pendingByAddress = new Map<string, number>();
  const unpend = (s: LinkSession, remote: string) => {
    if (!pending.delete(s)) return;
    const n = (pendingByAddress.get(remote) ?? 1) - 1;
    if (n > 0) pendingByAddress.set(remote, n);
    else pendingByAddress.delete(remote);
  };

  app.get(
    path,
    upgradeWebSocket((c) => {
      const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } }).incoming;
      const remote = normalizeIp(incoming?.socket?.remoteAddress);
      let session: LinkSession | undefined;
      let timer: NodeJS.Timeout | undefined;
      let helloTimer: NodeJS.Timeout | undefined;
      return {
        onOpen(_event, ws) {
          const raw = ws.raw as WebSocket;
          const code =
            pending.size >= limits.maxPending
              ? 'too_many_unauthenticated'
              : (pendingByAddress.get(remote) ?? 0) >= limits.maxPendingPerAddress
                ? 'too_many_unauthenticated_per_address'
                : undefined;
          if (code) {
            deps.metrics.errors.inc({ component: 'link', stage: 'receiving', code });
            raw.close(1013, 'try again later');
            // A refused peer that never answers the close would hold its socket for ws's 30 s
            // close timeout, outside every count: cut it off after a short grace instead.
            setTimeout(() => raw.terminate(), REFUSED_GRACE_MS).unref();
            return;
          }
          const s = new LinkSession(
            {
              ...deps,
              onAuthenticated: (authed) => {
                unpend(authed, remote);
                clearTimeout(helloTimer);
                // SPEC §3: full-size frames only from a gateway that has proved its key.
                if (!raiseMaxPayload(raw, LINK_MAX_MESSAGE_BYTES)) {
                  deps.metrics.errors.inc({ component: 'link', stage: 'receiving', code: 'frame_limit' });
                  deps.logger.error('cannot raise the frame limit of a link socket (ws internals changed?)');
                  raw.close(1011, 'internal');
                  return;
                }
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
          // ws closes on a protocol error (1009 for a frame over the limit) but reads, and drops,
          // whatever the peer still sends until the close handshake ends; a peer that has not
          // authenticated is cut off at once instead. (Hono's onError cannot fire on Node 20,
          // which has no global ErrorEvent, so this listens on the ws socket itself.)
          raw.on('error', () => {
            if (s.authenticated) return;
            deps.metrics.errors.inc({ component: 'link', stage: 'receiving', code: 'unauthenticated_frame' });
            raw.terminate();
          });
          session = s;
          pending.add(s);
          pendingByAddress.set(remote, (pendingByAddress.get(remote) ?? 0) + 1);
          helloTimer = setTimeout(() => {
            if (s.authenticated) return;
            deps.metrics.errors.inc({ component: 'link', stage: 'receiving', code: 'hello_timeout' });
            raw.terminate();
          }, limits.helloTimeoutMs);
          helloTimer.unref();
          timer = setInterval(() => {
            if (s.authenticated && Date.now() - s.lastSeen > 3 * deps.heartbeatIntervalMs) {
              deps.logger.warn(
                { gateway: s.gateway },
                'gateway silent for three heartbeat intervals; closing',
              );
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
          clearTimeout(helloTimer);
          if (!session) return;
          session.closed();
          unpend(session, remote);
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
    /** Sends a playbook set or a command to a connected v3 gateway (link SPEC §9); false otherwise. */
    sendPlaybooks(gateway: string, message: PlaybooksMessage | CommandMessage): boolean {
      return live.get(gateway)?.session.sendPlaybooks(message) ?? false;
    },
    /** Closes the live connection of a revoked gateway. */
    disconnect(gateway: string): void {
      live.get(gateway)?.session.revoke();
    },
    closeAll(): void {
      for (const { ws } of live.values()) ws.close(1001, 'central stopping');
    },
    /**
     * At central's stop: closes every connection and stores the refusals (failed logins and
     * enrollments) counted in the current interval while the database is still open.
     */
    async stop(): Promise<void> {
      this.closeAll();
      await deps.refusals.stop();
    },
  };
}
