/**
 * One link connection on central (protocols/link/SPEC.md): sends the challenge, authenticates
 * the gateway's hello against the registry (Ed25519 proof, not revoked), answers heartbeats,
 * stores each batch and acks it only after commit, and slows the gateway down (flow control)
 * rather than dropping when it sends faster than allowed. Batches of one connection are
 * processed in order. On a v2 connection it sends the gateway the rule set assigned to it and
 * records the version the gateway reports running (SPEC §8); on v3 its playbooks (SPEC §9).
 * It is transport-agnostic: the WebSocket glue in server.ts feeds it frames and gives it a
 * `send` and a `close`. Beside it: session-deps.ts (what it is given), batch-events.ts (the
 * per-event checks, including what only central may say, SPEC §4.4) and rate-booking.ts (the
 * per-gateway ingest limit, SPEC §4.9).
 */
import { newLinkNonce, verifyLinkProof } from '../../protocols/link/auth.ts';
import {
  type BatchMessage,
  type CommandMessage,
  decodeLinkMessage,
  encodeLinkMessage,
  type ErrorMessage,
  LINK_MIN_PROTOCOL_VERSION,
  LINK_PROTOCOL_VERSION,
  type LinkMessage,
  type PlaybooksMessage,
  type RulesMessage,
} from '../../protocols/link/codec.ts';
import type { GatewayRecord } from '../gateways/registry.ts';
import { RowsHeldError } from '../store/errors.ts';
import { checkBatchEvents } from './batch-events.ts';
import { RateBooking } from './rate-booking.ts';
import type { GatewayQueueReport, RulesReport, SessionDeps, SessionIo } from './session-deps.ts';

export type {
  GatewayQueueReport,
  LinkPlaybooks,
  LinkRules,
  RulesReport,
  SessionDeps,
  SessionIo,
} from './session-deps.ts';

/** How long a batch whose rows another transaction held waits before it is stored again. */
export const HELD_BATCH_RETRY_MS = 1000;

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
  /** Batches waiting to be tried again because another transaction held their rows, as checked. */
  readonly #held = new WeakMap<BatchMessage, ReturnType<typeof checkBatchEvents>>();
  /** Held batches the gateway was told of (SPEC §4.8, v4): once each. */
  readonly #heldSent = new WeakSet<BatchMessage>();
  readonly #rate: RateBooking;
  readonly openedAt = Date.now();
  lastSeen = Date.now();

  constructor(deps: SessionDeps, io: SessionIo) {
    this.#deps = deps;
    this.#io = io;
    this.#rate = new RateBooking(deps.maxEventsPerSecond);
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
      void this.#store(message).then((held) => {
        this.#active -= 1;
        // Not acked yet if held: its slot goes to the batches behind it meanwhile, and it does not
        // count as storage falling behind (a window of one would leave the gateway nothing to send).
        this.#queued -= 1;
        this.#flow();
        if (held)
          setTimeout(() => {
            if (this.#closed) return;
            this.#queued += 1;
            this.#flow();
            this.#waiting.push(message);
            this.#drainWaiting();
          }, HELD_BATCH_RETRY_MS).unref();
        this.#drainWaiting();
      });
    }
  }

  /** Stores and acks one batch; true when another transaction held its rows (try again later). */
  async #store(message: BatchMessage): Promise<boolean> {
    const gateway = this.gateway;
    if (this.#closed || !gateway) return false;
    const { metrics, store, logger } = this.#deps;
    if (message.events.length > this.#deps.maxBatchEvents) {
      this.#fail(
        'too_large',
        `batch of ${message.events.length} events exceeds ${this.#deps.maxBatchEvents}`,
      );
      return false;
    }
    // SPEC §4.4, §4.6: the per-event checks (batch-events.ts); a refused event is counted, not stored.
    // A batch tried again was checked and its refusals counted the first time.
    const checked = this.#held.get(message) ?? checkBatchEvents(message.events, gateway);
    const { valid, rejected: reasons, offset } = checked;
    const rejected = reasons.length;
    if (!this.#held.delete(message)) {
      for (const reason of reasons) metrics.rejected.inc({ gateway, reason });
      if (rejected > 0) logger.warn({ gateway, rejected }, 'rejected invalid events');
    }
    const room = this.#deps.room?.();
    if (room) {
      metrics.throttled.inc();
      await room;
      if (this.#closed) return false;
    }
    const end = metrics.insertSeconds.startTimer();
    let result: { inserted: number; duplicates: number };
    try {
      result = valid.length > 0 ? await store.insertEvents(valid) : { inserted: 0, duplicates: 0 };
    } catch (error) {
      if (error instanceof RowsHeldError) {
        // SPEC §4.8: a node hung mid-write holds these rows; the link's other batches go on.
        metrics.errors.inc({ component: 'link', stage: 'processing', code: 'rows_held' });
        logger.warn({ err: error.message, gateway, batch: message.batch_id }, 'batch waits for held rows');
        this.#held.set(message, checked);
        // From v4 the gateway hears of it, so that the batch does not fill its window: after a
        // cut link its window is one batch, which may be this one (SPEC §4.8).
        if (this.#version >= 4 && !this.#heldSent.has(message)) {
          this.#heldSent.add(message);
          this.#send({ type: 'held', batch_id: message.batch_id });
        }
        return true;
      }
      metrics.errors.inc({ component: 'link', stage: 'processing', code: 'store' });
      logger.error({ err: (error as Error).message, gateway }, 'could not store a batch');
      // SPEC §4.8: never ack what is not committed; the gateway resends after reconnecting.
      this.#fail('internal', 'storage unavailable');
      return false;
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
    return false;
  }

  /** SPEC §4.9: with a rate limit, each batch books time; the gateway waits until it has passed. */
  #rateDelay(events: number): { delay_ms?: number } {
    const delay = this.#rate.book(events, Date.now());
    if (delay === 0) return {};
    this.#deps.metrics.throttled.inc();
    return { delay_ms: delay };
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
