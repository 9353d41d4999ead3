/**
 * One gateway's link session on central (protocols/link/SPEC.md): checks the hello, answers
 * heartbeats, validates each event of a batch, stores the batch and acks it only after commit.
 * Batches of one connection are processed in order. It is transport-agnostic: the WebSocket
 * glue in server.ts feeds it frames and gives it a `send` and a `close`.
 */
import type { Logger } from 'pino';
import { type Event, parseEvent } from '../../protocols/event/schema.ts';
import {
  type BatchMessage,
  decodeLinkMessage,
  encodeLinkMessage,
  LINK_PROTOCOL_VERSION,
  type LinkMessage,
} from '../../protocols/link/codec.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { EventStore } from '../store/types.ts';

export interface SessionDeps {
  store: EventStore;
  metrics: CentralMetrics;
  logger: Logger;
  maxBatchEvents: number;
  heartbeatIntervalMs: number;
  /** Called with the events of each committed batch (correlation and live views hook in here). */
  onStored?: (events: Event[]) => void;
}

export interface SessionIo {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export class LinkSession {
  readonly gateway: string;
  readonly #deps: SessionDeps;
  readonly #io: SessionIo;
  #greeted = false;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  lastSeen = Date.now();
  clockOffsetMs: number | undefined;

  constructor(gateway: string, deps: SessionDeps, io: SessionIo) {
    this.gateway = gateway;
    this.#deps = deps;
    this.#io = io;
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
    if (!this.#greeted) {
      this.#hello(message);
      return;
    }
    if (message.type === 'heartbeat') {
      this.#send({ type: 'heartbeat', sent_at: Date.now(), echo: message.sent_at });
      return;
    }
    if (message.type === 'batch') {
      this.#chain = this.#chain.then(() => this.#batch(message));
      return;
    }
    this.#fail('bad_message', `unexpected ${message.type} message`);
  }

  closed(): void {
    this.#closed = true;
  }

  #hello(message: LinkMessage): void {
    if (message.type !== 'hello') {
      this.#fail('bad_message', 'the first message must be hello');
      return;
    }
    if (message.v !== LINK_PROTOCOL_VERSION) {
      this.#fail(
        'unsupported_version',
        `central speaks link version ${LINK_PROTOCOL_VERSION}, not ${message.v}`,
      );
      return;
    }
    if (message.gateway !== this.gateway) {
      this.#fail('unauthorized', 'the token was not issued to this gateway');
      return;
    }
    this.#greeted = true;
    this.#send({
      type: 'welcome',
      v: LINK_PROTOCOL_VERSION,
      central_time: Date.now(),
      max_batch_events: this.#deps.maxBatchEvents,
      heartbeat_interval_ms: this.#deps.heartbeatIntervalMs,
    });
  }

  async #batch(message: BatchMessage): Promise<void> {
    if (this.#closed) return;
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
    for (const raw of message.events) {
      const parsed = parseEvent(raw);
      let reason: string | undefined;
      if (!parsed.ok) reason = 'invalid';
      else if (parsed.event.gateway !== this.gateway) reason = 'wrong_gateway';
      else if (parsed.event.id !== `${parsed.event.gateway}:${parsed.event.seq}`) reason = 'bad_id';
      if (reason || !parsed.ok) {
        rejected += 1;
        metrics.rejected.inc({ gateway: this.gateway, reason: reason ?? 'invalid' });
        continue;
      }
      valid.push(parsed.event);
    }
    if (rejected > 0) logger.warn({ gateway: this.gateway, rejected }, 'rejected invalid events');
    const end = metrics.insertSeconds.startTimer();
    let result: { inserted: number; duplicates: number };
    try {
      result = valid.length > 0 ? await store.insertEvents(valid) : { inserted: 0, duplicates: 0 };
    } catch (error) {
      metrics.errors.inc({ component: 'link', stage: 'processing', code: 'store' });
      logger.error({ err: (error as Error).message, gateway: this.gateway }, 'could not store a batch');
      // SPEC §4.8: never ack what is not committed; the gateway resends after reconnecting.
      this.#fail('internal', 'storage unavailable');
      return;
    }
    end();
    metrics.batches.inc();
    metrics.inserted.inc({ gateway: this.gateway }, result.inserted);
    metrics.duplicates.inc({ gateway: this.gateway }, result.duplicates);
    this.#send({
      type: 'ack',
      batch_id: message.batch_id,
      inserted: result.inserted,
      duplicates: result.duplicates,
      rejected,
    });
    if (valid.length > 0) this.#deps.onStored?.(valid);
  }

  #send(message: LinkMessage): void {
    if (!this.#closed) this.#io.send(encodeLinkMessage(message));
  }

  #fail(
    code: 'unsupported_version' | 'unauthorized' | 'bad_message' | 'too_large' | 'internal',
    text: string,
  ) {
    this.#deps.logger.warn({ gateway: this.gateway, code }, 'closing link: %s', text);
    this.#send({ type: 'error', code, message: text });
    this.#closed = true;
    this.#io.close(code === 'internal' ? 1011 : 1008, code);
  }
}
