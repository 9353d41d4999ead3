/**
 * One link connection on central (protocols/link/SPEC.md): sends the challenge, authenticates
 * the gateway's hello against the registry (Ed25519 proof, not revoked), answers heartbeats,
 * validates each event of a batch, stores the batch and acks it only after commit, and slows
 * the gateway down (flow control) rather than dropping when it sends faster than allowed.
 * Batches of one connection are processed in order. On a v2 connection it sends the gateway the
 * rule set assigned to it and records the version the gateway reports running (SPEC §8). It is transport-agnostic: the WebSocket
 * glue in server.ts feeds it frames and gives it a `send` and a `close`.
 * What only central may say is refused from a gateway (SPEC §4.4): the id `central.id`, events of
 * source `central` and actions in the `central.` namespace, which central's detection skips and
 * analysts read as central's own (a forged `central.gateway_revoked`).
 */
import type { Logger } from 'pino';
import type { Event } from '../../protocols/event/schema.ts';
import { newLinkNonce, verifyLinkProof } from '../../protocols/link/auth.ts';
import {
  type BatchMessage,
  type CommandMessage,
  type CommandResultMessage,
  decodeLinkMessage,
  encodeLinkMessage,
  type ErrorMessage,
  LINK_MIN_PROTOCOL_VERSION,
  LINK_PROTOCOL_VERSION,
  type LinkMessage,
  type PlaybooksMessage,
  type PlaybooksStatusMessage,
  type RulesMessage,
} from '../../protocols/link/codec.ts';
import type { CentralEvents } from '../events.ts';
import type { Refusals } from '../gateways/refusals.ts';
import type { GatewayRecord, GatewayRegistry } from '../gateways/registry.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { EventStore } from '../store/types.ts';
import { correctClock } from './clock.ts';
import { checkLinkEvent } from './event-check.ts';

/** SPEC §4.4: the action namespace of the events central raises itself (central/events.ts). */
const RESERVED_ACTION_PREFIX = 'central.';

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

export class LinkSession {
  /** The authenticated gateway, once the hello has been verified. */
  gateway: string | undefined;
  /** The queue depth by lane from the gateway's last heartbeat (SPEC §5.5), if it sent one. */
  queue: GatewayQueueReport | undefined;
  /** The software the gateway said it runs in its hello (name and version), if it did. */
  software: string | undefined;
  readonly #deps: SessionDeps;
  readonly #io: SessionIo;
  readonly #nonce = newLinkNonce();
  #state: 'challenged' | 'verifying' | 'ready' = 'challenged';
  /** The link version of this connection (SPEC §7), once the hello is accepted. */
  #version = LINK_PROTOCOL_VERSION;
  /** Batches received and not yet being stored; up to `maxConcurrentBatches` are stored at once. */
  #waiting: BatchMessage[] = [];
  #active = 0;
  #queued = 0;
  #throttled = false;
  #closed = false;
  /** When the gateway may send again without exceeding the rate limit (ms since epoch). */
  #rateFreeAt = 0;
  readonly openedAt = Date.now();
  lastSeen = Date.now();

  constructor(deps: SessionDeps, io: SessionIo) {
    this.#deps = deps;
    this.#io = io;
    // SPEC §2.1: the challenge goes first, before anything is known about the peer.
    this.#send({ type: 'challenge', v: LINK_PROTOCOL_VERSION, nonce: this.#nonce });
  }

  get authenticated(): boolean {
    return this.#state === 'ready';
  }

  /** Feeds one received frame. */
  receive(data: string | Uint8Array): void {
    if (this.#closed) return;
    this.lastSeen = Date.now();
    const decoded = decodeLinkMessage(data);
    if (!decoded.ok) {
      this.#deps.metrics.errors.inc({ component: 'link', stage: 'receiving', code: decoded.error.code });
      this.#fail(decoded.error.code === 'too_large' ? 'too_large' : 'bad_message', decoded.error.message);
      return;
    }
    const message = decoded.message;
    if (this.#state === 'challenged') {
      this.#state = 'verifying';
      void this.#hello(message);
      return;
    }
    if (this.#state === 'verifying') {
      this.#fail('bad_message', 'wait for welcome before sending');
      return;
    }
    if (message.type === 'heartbeat') {
      // SPEC §5.5: the gateway's queue depth, kept for the fleet view (never stored as an event).
      if (message.queue) this.queue = { ...message.queue, reportedAt: new Date() };
      this.#send({ type: 'heartbeat', sent_at: Date.now(), echo: message.sent_at });
      return;
    }
    if (message.type === 'rules_status' && this.#version >= 2) {
      const { id, version, ok, requested, error } = message;
      this.#report({ id, version, ok, requested, error });
      return;
    }
    if ((message.type === 'playbooks_status' || message.type === 'command_result') && this.#version >= 3) {
      const gateway = this.gateway!;
      if (message.type === 'playbooks_status') this.#deps.playbooks?.status(gateway, message);
      else this.#deps.playbooks?.commandResult(gateway, message);
      return;
    }
    if (message.type === 'batch') {
      this.#queued += 1;
      this.#flow();
      this.#waiting.push(message);
      this.#drainWaiting();
      return;
    }
    this.#fail('bad_message', `unexpected ${message.type} message`);
  }

  closed(): void {
    this.#closed = true;
  }

  /** SPEC §8.2: sends a rule set; false when this connection cannot take one (v1, not ready). */
  sendRules(message: RulesMessage): boolean {
    if (this.#closed || this.#state !== 'ready' || this.#version < 2) return false;
    this.#send(message);
    return true;
  }

  /** SPEC §9.2–9.3: sends a playbook set or a command; false when this connection cannot take one. */
  sendPlaybooks(message: PlaybooksMessage | CommandMessage): boolean {
    if (this.#closed || this.#state !== 'ready' || this.#version < 3) return false;
    this.#send(message);
    return true;
  }

  /** Closes the connection of a gateway that was just revoked. */
  revoke(): void {
    this.#fail('unauthorized', 'this gateway has been revoked');
  }

  async #hello(message: LinkMessage): Promise<void> {
    if (message.type !== 'hello') {
      this.#fail('bad_message', 'the first message must be hello');
      return;
    }
    // SPEC §7: any version from the oldest still spoken up to the one offered in the challenge.
    if (message.v < LINK_MIN_PROTOCOL_VERSION || message.v > LINK_PROTOCOL_VERSION) {
      this.#fail(
        'unsupported_version',
        `central speaks link versions ${LINK_MIN_PROTOCOL_VERSION} to ${LINK_PROTOCOL_VERSION}, not ${message.v}`,
      );
      return;
    }
    this.#version = message.v;
    let record: GatewayRecord | undefined;
    try {
      record = await this.#deps.registry.get(message.gateway);
    } catch (error) {
      this.#deps.logger.error({ err: (error as Error).message }, 'gateway registry unavailable');
      this.#fail('internal', 'gateway registry unavailable');
      return;
    }
    const reason =
      message.gateway === this.#deps.centralId
        ? 'reserved_id'
        : !record
          ? 'unknown_gateway'
          : record.status === 'revoked'
            ? 'revoked'
            : !verifyLinkProof(record.publicKey, message.gateway, this.#nonce, message.proof)
              ? 'bad_proof'
              : undefined;
    if (reason) {
      this.#deps.metrics.authFailures.inc({ reason });
      this.#fail(
        'unauthorized',
        reason === 'revoked' ? 'this gateway has been revoked' : 'authentication failed',
      );
      await this.#deps.refusals.refuse(this.#io.remoteIp, {
        kind: 'security',
        action: 'central.link_auth_failure',
        severity: 4,
        message: `refused a link connection claiming gateway "${message.gateway}" from ${this.#io.remoteIp}: ${reason.replaceAll('_', ' ')}`,
        fields: { claimed_gateway: message.gateway, reason },
      });
      return;
    }
    if (this.#closed) return;
    this.gateway = message.gateway;
    this.software = message.software;
    this.#state = 'ready';
    this.#deps.onAuthenticated?.(this);
    this.#send({
      type: 'welcome',
      v: this.#version,
      central_time: Date.now(),
      max_batch_events: this.#deps.maxBatchEvents,
      heartbeat_interval_ms: this.#deps.heartbeatIntervalMs,
    });
    if (this.#version >= 2) void this.#offerRules(message.gateway, message.rules_version);
    if (this.#version >= 3) void this.#offerPlaybooks(message.gateway, message.playbooks_version);
  }

  /** SPEC §9.1–9.2: sends the gateway's playbook set when it runs another, then waiting commands. */
  async #offerPlaybooks(gateway: string, running: string | undefined): Promise<void> {
    const playbooks = this.#deps.playbooks;
    if (!playbooks) return;
    try {
      const offered = await playbooks.offer(gateway, running);
      if (offered) this.sendPlaybooks(offered);
      playbooks.ready(gateway);
    } catch (error) {
      this.#deps.logger.error({ err: (error as Error).message, gateway }, 'could not read the playbook set');
    }
  }

  /** SPEC §8.1–8.2: records what the gateway runs; sends its assigned set when that differs. */
  async #offerRules(gateway: string, running: string | undefined): Promise<void> {
    const rules = this.#deps.rules;
    if (!rules) return;
    this.#report({ version: running, ok: true });
    try {
      const assigned = await rules.assigned(gateway);
      if (assigned && assigned.version !== running) this.sendRules(assigned);
    } catch (error) {
      this.#deps.logger.error({ err: (error as Error).message, gateway }, 'could not read the rule set');
    }
  }

  #report(report: RulesReport): void {
    const gateway = this.gateway;
    if (!gateway || !this.#deps.rules) return;
    this.#deps.rules
      .reported(gateway, report)
      .catch((error: Error) =>
        this.#deps.logger.error({ err: error.message, gateway }, 'could not record the rule set report'),
      );
  }

  /**
   * Stores waiting batches, several at once on PostgreSQL (SPEC §4.7 lets acks come in any order;
   * the store sorts rows so concurrent batches cannot deadlock).
   */
  #drainWaiting(): void {
    while (this.#active < this.#deps.maxConcurrentBatches && this.#waiting.length > 0) {
      const message = this.#waiting.shift()!;
      this.#active += 1;
      void this.#store(message).finally(() => {
        this.#active -= 1;
        this.#queued -= 1;
        this.#flow();
        this.#drainWaiting();
      });
    }
  }

  async #store(message: BatchMessage): Promise<void> {
    const gateway = this.gateway;
    if (this.#closed || !gateway) return;
    const { metrics, store, logger } = this.#deps;
    if (message.events.length > this.#deps.maxBatchEvents) {
      this.#fail(
        'too_large',
        `batch of ${message.events.length} events exceeds ${this.#deps.maxBatchEvents}`,
      );
      return;
    }
    const valid: Event[] = [];
    let rejected = 0;
    let offset: number | undefined;
    for (const raw of message.events) {
      // The schema's checks, on a fast path for the common valid event (event-check.ts).
      const parsed = checkLinkEvent(raw);
      let reason: string | undefined;
      if (!parsed.ok) reason = 'invalid';
      else if (parsed.event.gateway !== gateway) reason = 'wrong_gateway';
      else if (parsed.event.id !== `${parsed.event.gateway}:${parsed.event.seq}`) reason = 'bad_id';
      else if (parsed.event.source === 'central') reason = 'reserved_source';
      else if (parsed.event.action.startsWith(RESERVED_ACTION_PREFIX)) reason = 'reserved_action';
      if (reason || !parsed.ok) {
        rejected += 1;
        metrics.rejected.inc({ gateway, reason: reason ?? 'invalid' });
        continue;
      }
      offset = parsed.event.clock_offset_ms ?? offset;
      valid.push(correctClock(parsed.event));
    }
    if (rejected > 0) logger.warn({ gateway, rejected }, 'rejected invalid events');
    const end = metrics.insertSeconds.startTimer();
    let result: { inserted: number; duplicates: number };
    try {
      result = valid.length > 0 ? await store.insertEvents(valid) : { inserted: 0, duplicates: 0 };
    } catch (error) {
      metrics.errors.inc({ component: 'link', stage: 'processing', code: 'store' });
      logger.error({ err: (error as Error).message, gateway }, 'could not store a batch');
      // SPEC §4.8: never ack what is not committed; the gateway resends after reconnecting.
      this.#fail('internal', 'storage unavailable');
      return;
    }
    end();
    metrics.batches.inc();
    metrics.inserted.inc({ gateway }, result.inserted);
    metrics.duplicates.inc({ gateway }, result.duplicates);
    this.#send({
      type: 'ack',
      batch_id: message.batch_id,
      inserted: result.inserted,
      duplicates: result.duplicates,
      rejected,
      ...this.#rateDelay(message.events.length),
    });
    if (offset !== undefined) this.#deps.onClockOffset?.(gateway, offset);
    if (valid.length > 0) this.#deps.onStored?.(valid);
  }

  /** SPEC §4.9: with a rate limit, each batch books time; the gateway waits until it has passed. */
  #rateDelay(events: number): { delay_ms?: number } {
    const rate = this.#deps.maxEventsPerSecond;
    if (rate <= 0) return {};
    const now = Date.now();
    this.#rateFreeAt = Math.max(this.#rateFreeAt, now) + (events / rate) * 1000;
    const delay = Math.round(this.#rateFreeAt - now);
    if (delay <= 0) return {};
    this.#deps.metrics.throttled.inc();
    return { delay_ms: Math.min(delay, 60_000) };
  }

  /** SPEC §4.9: when storage falls behind, shrink the gateway's window to one batch; restore it after. */
  #flow(): void {
    const busy = this.#queued > this.#deps.maxQueuedBatches;
    if (busy === this.#throttled || this.#state !== 'ready') return;
    this.#throttled = busy;
    if (busy) this.#deps.metrics.throttled.inc();
    this.#send({ type: 'flow', max_in_flight: busy ? 1 : 64 });
  }

  #send(message: LinkMessage): void {
    if (!this.#closed) this.#io.send(encodeLinkMessage(message));
  }

  #fail(code: ErrorMessage['code'], text: string) {
    if (this.#closed) return;
    this.#deps.logger.warn({ gateway: this.gateway, code }, 'closing link: %s', text);
    this.#send({ type: 'error', code, message: text });
    this.#closed = true;
    this.#io.close(code === 'internal' ? 1011 : 1008, code);
  }
}
