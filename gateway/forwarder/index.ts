/**
 * The forwarder: the client side of the gateway↔central link (protocols/link/SPEC.md). It answers
 * central's challenge with a signature by the gateway's enrolled key, reads queued records in
 * lane priority order, sends them as batches bounded by events and bytes over one WebSocket,
 * deletes a record only when central has acked its batch, obeys central's flow control, and
 * reconnects with exponential backoff and full jitter. With several central endpoints it fails over
 * to the next one and returns to the first when that is healthy again (endpoints.ts). Unacked
 * batches stay in the queue and are sent again on the next connection, to whichever node. On a v2 link it reports the rule set it runs and hands
 * the sets central pushes to detection, answering each with its outcome (SPEC §8).
 *
 * This file is the state machine and the send loop; the socket is connection.ts, the window of
 * batches in flight send-window.ts, what goes in a batch batch-reader.ts and batch-frame.ts, and
 * the hello, rule-set reply and heartbeat control.ts.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { encodeLinkMessage, estimateClockOffset, type LinkMessage } from '../../protocols/link/codec.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { type LevelQueue, recordRef } from '../queue/leveldb-queue.ts';
import { FramePool } from './batch-frame.ts';
import { BatchReader } from './batch-reader.ts';
import {
  closeLinkSocket,
  type LinkTlsFiles,
  openLinkSocket,
  sendText,
  sendTextBuffer,
} from './connection.ts';
import {
  type ForwarderPlaybooks,
  type ForwarderRules,
  helloFor,
  playbooksReply,
  rulesStatusFor,
  startHeartbeat,
} from './control.ts';
import { LinkFailover } from './failover.ts';
import { SendWindow } from './send-window.ts';

export interface ForwarderOptions {
  /** Central's link URLs, most preferred first (one for a single node). */
  endpoints: readonly string[];
  /** Back to the first endpoint after it answered /healthz healthy `healthyChecks` times in a row. */
  failback: { intervalMs: number; healthyChecks: number };
  /** The gateway's enrolled Ed25519 private key (PKCS#8 PEM). */
  privateKey: string;
  gateway: string;
  batchMaxEvents: number;
  batchMaxBytes: number;
  maxInFlight: number;
  heartbeatIntervalMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  tls?: LinkTlsFiles;
  queue: LevelQueue;
  metrics: GatewayMetrics;
  logger: Logger;
  software: string;
  /** Rule sets (SPEC §8): the version running, and applying a pushed set. */
  rules?: ForwarderRules;
  /** Playbooks (SPEC §9): the set running, a pushed set, central's commands. */
  playbooks?: ForwarderPlaybooks;
}

export class Forwarder extends EventEmitter<{ connected: []; disconnected: []; acked: [number] }> {
  readonly #o: ForwarderOptions;
  readonly #frames: FramePool;
  readonly #window: SendWindow;
  readonly #reader: BatchReader;
  #ws: WebSocket | undefined;
  #ready = false;
  #stopped = true;
  /** Which central node (failover.ts). */
  readonly #nodes: LinkFailover;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** The link version central's welcome settled on (SPEC §7). */
  #linkVersion = 1;
  #lastHeard = 0;
  #batchMax: number;
  #nextBatchId = 1;
  #pumping = false;
  #pumpAgain = false;
  #clockOffsetMs: number | undefined;
  #connectedSince: Date | undefined;
  #lastError: string | undefined;
  readonly #onAppend = () => void this.#pump();

  constructor(options: ForwarderOptions) {
    super();
    this.#o = options;
    this.#batchMax = options.batchMaxEvents;
    this.#window = new SendWindow(options.maxInFlight, options.metrics);
    this.#reader = new BatchReader(options.queue);
    // A frame's bytes are in use from framing until the socket has written them: one buffer per
    // batch in flight and one being framed; a batch may pass its byte bound by one record.
    this.#frames = new FramePool(options.maxInFlight + 1, options.batchMaxBytes + 1024 * 1024);
    this.#nodes = new LinkFailover(options);
  }

  get connected(): boolean {
    return this.#ready;
  }

  /** Link state for /api/status. */
  status() {
    const now = Date.now();
    const ackRate = this.#window.ackRatePerSec(now);
    return {
      connected: this.#ready,
      connected_since: this.#connectedSince?.toISOString() ?? null,
      last_error: this.#lastError ?? null,
      in_flight_batches: this.#window.size,
      window: this.#window.window(),
      paused_until: this.#window.pausedUntil > now ? new Date(this.#window.pausedUntil).toISOString() : null,
      clock_offset_ms: this.#clockOffsetMs ?? null,
      /** Events acked per second over the last minute (0 when nothing was acked). */
      ack_rate_per_sec: ackRate,
      ...this.#nodes.status(),
    };
  }

  /** Gateway clock minus central clock, from the last heartbeat; undefined before the first. */
  get clockOffsetMs(): number | undefined {
    return this.#clockOffsetMs;
  }

  /**
   * Graceful stop (inputs already closed): keeps forwarding until nothing is queued or in flight,
   * the link is down, or `ms` have passed. True when everything was acked; what is not stays
   * queued on disk and is sent after the next start.
   */
  async drain(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    const done = () => this.#window.size === 0 && this.#o.queue.depth.events === 0;
    while (!done() && this.#ready && Date.now() < until) {
      void this.#pump();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return done();
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#nodes.reset();
    this.#o.queue.on('append', this.#onAppend);
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.queue.off('append', this.#onAppend);
    clearTimeout(this.#reconnectTimer);
    this.#nodes.stopCheck();
    if (this.#ws) await closeLinkSocket(this.#ws, 'gateway stopping');
    this.#teardown();
  }

  #connect(): void {
    this.#ws = openLinkSocket(
      { ...this.#o, endpoint: this.#nodes.current },
      {
        heard: () => {
          this.#lastHeard = Date.now();
        },
        message: (message) => void this.#onMessage(message),
        failed: (reason) => {
          this.#lastError = reason;
        },
        closed: () => {
          const wasReady = this.#ready;
          this.#teardown();
          if (wasReady) this.emit('disconnected');
          if (!this.#stopped) this.#scheduleReconnect();
        },
      },
    );
  }

  #teardown(): void {
    // Before the window forgets what was in flight: that is what starts a slow start.
    this.#window.reset();
    this.#reader.reset();
    this.#ready = false;
    this.#o.metrics.linkConnected.set(0);
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#connectedSince = undefined;
    this.#nodes.stopCheck();
  }

  #scheduleReconnect(): void {
    const delay = this.#nodes.next();
    this.#o.metrics.reconnects.inc();
    this.#o.logger.info('link down; connecting to %s in %d ms', this.#nodes.current, Math.round(delay));
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  /**
   * Back to the preferred node: no new batch is sent, the ones in flight get their acks (at most
   * a few seconds), then the link closes and reopens to endpoint 0. Whatever is still unacked
   * then is sent again there; central's dedup makes that harmless.
   */
  async #failBack(): Promise<void> {
    if (this.#stopped || !this.#ready) return;
    this.#nodes.beginFailback();
    const until = Date.now() + 5000;
    while (this.#window.size > 0 && this.#ready && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.#ws && !this.#stopped) await closeLinkSocket(this.#ws, 'moving to the preferred central');
  }

  async #onMessage(message: LinkMessage): Promise<void> {
    switch (message.type) {
      case 'challenge':
        this.#send(helloFor(message, this.#o));
        return;
      case 'rules':
        this.#send(rulesStatusFor(message, this.#o.rules));
        return;
      case 'playbooks':
      case 'command':
        this.#send(playbooksReply(message, this.#o.playbooks));
        return;
      case 'flow':
        this.#window.setCentralWindow(message.max_in_flight);
        await this.#pump();
        return;
      case 'welcome': {
        this.#ready = true;
        this.#linkVersion = message.v;
        this.#nodes.connected(() => void this.#failBack());
        this.#batchMax = Math.min(this.#o.batchMaxEvents, message.max_batch_events);
        this.#o.metrics.linkConnected.set(1);
        this.#connectedSince = new Date();
        this.#lastError = undefined;
        this.#startHeartbeat();
        this.#o.logger.info('link up to %s', this.#nodes.current);
        this.emit('connected');
        await this.#pump();
        return;
      }
      case 'held':
        this.#window.hold(message.batch_id);
        await this.#pump();
        return;
      case 'ack':
        if (message.delay_ms) this.#window.pause(message.delay_ms, () => void this.#pump());
        await this.#onAck(message.batch_id, message.rejected);
        return;
      case 'heartbeat':
        if (message.echo !== undefined) {
          this.#clockOffsetMs = estimateClockOffset(message.echo, message.sent_at, Date.now());
          this.#o.metrics.clockOffset.set(this.#clockOffsetMs);
        }
        return;
      case 'error':
        this.#o.metrics.errors.inc({
          component: 'forwarder',
          stage: 'sending',
          code: `central_${message.code}`,
        });
        this.#lastError = `central: ${message.code}: ${message.message}`;
        this.#o.logger.warn('central closed the link: %s (%s)', message.code, message.message);
        return;
      default:
        this.#o.logger.warn('unexpected %s message from central', message.type);
    }
  }

  async #onAck(batchId: number, rejected: number): Promise<void> {
    const batch = this.#window.get(batchId);
    if (!batch) return;
    try {
      await this.#o.queue.remove(batch.records);
    } catch (error) {
      this.#o.metrics.errors.inc({ component: 'forwarder', stage: 'processing', code: 'queue_delete' });
      this.#o.logger.error({ err: (error as Error).message }, 'could not delete acked records');
      return;
    }
    this.#window.settle(batchId, batch);
    this.#o.metrics.eventsAcked.inc(batch.events - rejected);
    if (rejected > 0)
      this.#o.metrics.dropped.inc({ source: 'forwarder', reason: 'rejected_by_central' }, rejected);
    this.emit('acked', batch.events);
    await this.#pump();
  }

  #startHeartbeat(): void {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = startHeartbeat({
      intervalMs: this.#o.heartbeatIntervalMs,
      linkVersion: this.#linkVersion,
      lastHeard: () => this.#lastHeard,
      depth: () => this.#o.queue.depth,
      send: (message) => this.#send(message),
      dead: () => this.#ws?.terminate(),
      logger: this.#o.logger,
    });
  }

  /** Fills the send window with batches, alerts first. Re-entrant calls coalesce into one more pass. */
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        while (this.#ready && !this.#nodes.failingBack && this.#window.open(Date.now())) {
          const records = await this.#reader.next(() => ({
            maxEvents: Math.max(1, Math.floor(this.#batchMax * this.#window.scale)),
            maxBytes: Math.max(1, Math.floor(this.#o.batchMaxBytes * this.#window.scale)),
          }));
          if (records.length === 0 || !this.#ready) {
            this.#o.queue.release(records);
            break;
          }
          const events = records.reduce((n, r) => n + r.count, 0);
          const batchId = this.#nextBatchId++;
          // Only what the ack's delete needs is kept in flight: the bytes, read back from disk when
          // the backlog is past the queue's tail, die once framed instead of aging into V8's old
          // space (and its external-memory budget) while the batch waits for its ack.
          this.#window.add(batchId, { records: records.map(recordRef), events });
          // The stored JSON goes out as it is: no parse, no re-serialisation (queue SPEC §2), and
          // no large string either: the frame is made of the records' bytes.
          const frame = this.#frames.frame(
            batchId,
            records.map((r) => r.data),
          );
          // Framed (copied): the bytes of records read from disk go back to the queue for reuse.
          this.#o.queue.release(records);
          sendTextBuffer(this.#ws, frame, () => this.#frames.release(frame));
          this.#o.metrics.eventsSent.inc(events);
        }
      } while (this.#pumpAgain && this.#ready);
    } catch (error) {
      this.#o.metrics.errors.inc({ component: 'forwarder', stage: 'processing', code: 'queue_read' });
      this.#o.logger.error({ err: (error as Error).message }, 'could not read the queue');
    } finally {
      this.#pumping = false;
    }
  }

  #send(message: LinkMessage): void {
    sendText(this.#ws, encodeLinkMessage(message));
  }
}
