/**
 * What a link session (session.ts) is given and what it reports: its dependencies (store,
 * registry, limits, hooks), the rule-set and playbook sides it talks to (SPEC §8, §9), the
 * gateway's queue report from its heartbeat (SPEC §5.5) and the socket glue server.ts supplies.
 * Types only, so server.ts and central/playbooks can name them without the session's code.
 */
import type { Logger } from 'pino';
import type { Event } from '../../protocols/event/schema.ts';
import type {
  CommandResultMessage,
  PlaybooksMessage,
  PlaybooksStatusMessage,
  RulesMessage,
} from '../../protocols/link/codec.ts';
import type { CentralEvents } from '../events.ts';
import type { Refusals } from '../gateways/refusals.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { EventStore } from '../store/types.ts';
import type { LinkSession } from './session.ts';

export interface SessionDeps {
  store: EventStore;
  metrics: CentralMetrics;
  logger: Logger;
  registry: GatewayRegistry;
  centralEvents: CentralEvents;
  /** Failed logins go through it (bounded rows per address and interval). */
  refusals: Refusals;
  /** Central's own id (`central.id`): no gateway may log in under it. */
  centralId: string;
  maxBatchEvents: number;
  heartbeatIntervalMs: number;
  /** Per-gateway ingest limit in events/s (0 = none), enforced by delaying the gateway (SPEC §4.9). */
  maxEventsPerSecond: number;
  /** Batches of one connection stored at the same time (1 keeps acks in order). */
  maxConcurrentBatches: number;
  /** Batches waiting for storage on one connection above which the gateway's window shrinks to 1. */
  maxQueuedBatches: number;
  /** Called once the gateway is authenticated; the server uses it to replace an older connection. */
  onAuthenticated?: (session: LinkSession) => void;
  /** Called when a gateway has authenticated (status views, benchmarks). */
  onGatewayConnected?: (gateway: string) => void;
  /** Called with the events of each committed batch (correlation and live views hook in here). */
  onStored?: (events: Event[]) => void;
  /**
   * Undefined when what runs after a commit can take more; else a promise of when it can. A batch
   * is stored (and so acked) only then: the gateway's window fills and it waits, its disk queue
   * holding the rest (central/ingest.ts).
   */
  room?: () => Promise<void> | undefined;
  /** Called with each measured clock offset (central skew monitoring). */
  onClockOffset?: (gateway: string, offsetMs: number) => void;
  /** Rule sets (SPEC §8): the set assigned to a gateway, and what the gateway reports running. */
  rules?: LinkRules;
  /** Playbooks (SPEC §9): the set for a gateway, its answers, and the commands waiting for it. */
  playbooks?: LinkPlaybooks;
}

/** SPEC §9 on central (central/playbooks): what a v3 connection offers and hears. */
export interface LinkPlaybooks {
  /** The set a gateway should run, when it differs from `running` (sent after welcome). */
  offer(gateway: string, running: string | undefined): Promise<PlaybooksMessage | undefined>;
  status(gateway: string, message: PlaybooksStatusMessage): void;
  commandResult(gateway: string, message: CommandResultMessage): void;
  /** The gateway is connected on v3: commands that waited for it may go now. */
  ready(gateway: string): void;
}

/** A gateway's queue depth by lane from its heartbeat (SPEC §5.5), and when central heard it. */
export interface GatewayQueueReport {
  events: number;
  bytes: number;
  by_lane: { alert: number; security: number; telemetry: number };
  reportedAt: Date;
}

export interface RulesReport {
  /** The set the gateway runs (absent: none). */
  id?: string;
  version?: string;
  ok: boolean;
  /** The version central sent, when this answers a `rules` message. */
  requested?: string;
  error?: string;
}

export interface LinkRules {
  assigned(gateway: string): Promise<RulesMessage | undefined>;
  reported(gateway: string, report: RulesReport): Promise<void>;
}

export interface SessionIo {
  send(text: string): void;
  close(code: number, reason: string): void;
  remoteIp: string;
}
