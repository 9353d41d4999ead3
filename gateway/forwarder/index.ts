/**
 * The forwarder: the client side of the gateway↔central link (protocols/link/SPEC.md). It answers
 * central's challenge with a signature by the gateway's enrolled key, reads queued records in
 * lane priority order, sends them as batches bounded by events and bytes over one WebSocket,
 * deletes a record only when central has acked its batch, obeys central's flow control, and
 * reconnects with exponential backoff and full jitter. Unacked batches stay in the queue and
 * are sent again on the next connection. On a v2 link it reports the rule set it runs and hands
 * the sets central pushes to detection, answering each with its outcome (SPEC §8).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { signLinkProof } from '../../protocols/link/auth.ts';
import {
  decodeLinkMessage,
  encodeLinkMessage,
  estimateClockOffset,
  LINK_MAX_MESSAGE_BYTES,
  LINK_PROTOCOL_VERSION,
  type LinkMessage,
  type RulesMessage,
  type RulesStatusMessage,
} from '../../protocols/link/codec.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { batchFrame } from './batch-frame.ts';
import { LANES, type Lane, type LevelQueue, type QueueRecord } from '../queue/leveldb-queue.ts';

export interface ForwarderOptions {
  endpoint: string;
  /** The gateway's enrolled Ed25519 private key (PKCS#8 PEM). */
  privateKey: string;
  gateway: string;
  batchMaxEvents: number;
  batchMaxBytes: number;
  maxInFlight: number;
  heartbeatIntervalMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  queue: LevelQueue;
  metrics: GatewayMetrics;
  logger: Logger;
  software: string;
  /** Rule sets (SPEC §8): the version running, and applying a pushed set. */
  rules?: {
    version(): string | undefined;
    apply(message: RulesMessage): RulesStatusMessage;
  };
}

type InFlight = { records: QueueRecord[]; events: number };

/** Records read from one lane at a time while filling a batch. */
const READ_CHUNK_RECORDS = 16;

export class Forwarder extends EventEmitter<{ connected: []; disconnected: []; acked: [number] }> {
  readonly #o: ForwarderOptions;
  #ws: WebSocket | undefined;
  #ready = false;
  #stopped = true;
  #failures = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** The link version central's welcome settled on (SPEC §7). */
  #linkVersion = 1;
  #lastHeard = 0;
  #batchMax: number;
  /**
   * Slow start after a link that dropped batches in flight: half the batch size and a window of
   * one, growing back with each ack. On a WAN that keeps cutting long transfers, smaller batches
   * still get through instead of being resent whole forever.
   */
  #scale = 1;
  #slowWindow = Number.POSITIVE_INFINITY;
  #nextBatchId = 1;
  #inFlight = new Map<number, InFlight>();
  #cursors: Record<Lane, string | null> = { alert: null, security: null, telemetry: null };
  /** Bumped on every disconnect, so reads begun on an old connection cannot move the cursors. */
  #generation = 0;
  #pumping = false;
  #pumpAgain = false;
  #clockOffsetMs: number | undefined;
  /** Window set by central's flow control (SPEC §4.9); the effective window is the smaller one. */
  #centralWindow = Number.POSITIVE_INFINITY;
  /** Central asked for a pause (ack.delay_ms) until this time. */
  #pausedUntil = 0;
  #pauseTimer: NodeJS.Timeout | undefined;
  #connectedSince: Date | undefined;
  #lastError: string | undefined;
  /** Acked event counts per second over the last minute, for the drain-time estimate. */
  #ackHistory: Array<{ at: number; events: number }> = [];
  readonly #onAppend = () => void this.#pump();

  constructor(options: ForwarderOptions) {
    super();
    this.#o = options;
    this.#batchMax = options.batchMaxEvents;
  }

  get connected(): boolean {
    return this.#ready;
  }

  /** Link state for /api/status. */
  status() {
    const now = Date.now();
    this.#ackHistory = this.#ackHistory.filter((a) => now - a.at < 60_000);
    const acked = this.#ackHistory.reduce((sum, a) => sum + a.events, 0);
    const span = this.#ackHistory.length > 0 ? Math.max(1, (now - this.#ackHistory[0]!.at) / 1000) : 0;
    return {
      connected: this.#ready,
      connected_since: this.#connectedSince?.toISOString() ?? null,
      last_error: this.#lastError ?? null,
      in_flight_batches: this.#inFlight.size,
      window: this.#window(),
      paused_until: this.#pausedUntil > now ? new Date(this.#pausedUntil).toISOString() : null,
      clock_offset_ms: this.#clockOffsetMs ?? null,
      /** Events acked per second over the last minute (0 when nothing was acked). */
      ack_rate_per_sec: span > 0 ? Math.round(acked / span) : 0,
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
    const done = () => this.#inFlight.size === 0 && this.#o.queue.depth.events === 0;
    while (!done() && this.#ready && Date.now() < until) {
      void this.#pump();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return done();
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#o.queue.on('append', this.#onAppend);
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.queue.off('append', this.#onAppend);
    clearTimeout(this.#reconnectTimer);
    const ws = this.#ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close(1001, 'gateway stopping');
      const timeout = setTimeout(() => ws.terminate(), 2000);
      await closed;
      clearTimeout(timeout);
    }
    this.#teardown();
  }

  #connect(): void {
    const { tls } = this.#o;
    const ws = new WebSocket(this.#o.endpoint, {
      headers: { 'x-siem-gateway': this.#o.gateway },
      handshakeTimeout: 10_000,
      maxPayload: LINK_MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      // Client frames keep ws's random masking key (RFC 6455 §5.3 MUST): batches carry bytes that
      // devices chose, which is exactly what masking keeps away from intermediaries (§10.3).
      ca: tls?.caFile ? readFileSync(tls.caFile) : undefined,
      cert: tls?.certFile ? readFileSync(tls.certFile) : undefined,
      key: tls?.keyFile ? readFileSync(tls.keyFile) : undefined,
    });
    this.#ws = ws;
    ws.on('open', () => {
      this.#lastHeard = Date.now();
      // Central speaks first (a challenge); no hello, and no secret, until then (SPEC §2).
    });
    ws.on('message', (data, isBinary) => {
      this.#lastHeard = Date.now();
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const decoded = decodeLinkMessage(isBinary ? bytes : bytes.toString('utf8'));
      if (!decoded.ok) {
        this.#o.metrics.errors.inc({ component: 'forwarder', stage: 'receiving', code: decoded.error.code });
        this.#o.logger.warn(
          { code: decoded.error.code },
          'bad message from central: %s',
          decoded.error.message,
        );
        ws.close(1002, 'bad message');
        return;
      }
      void this.#onMessage(decoded.message);
    });
    ws.on('unexpected-response', (_req, res) => {
      this.#o.metrics.errors.inc({
        component: 'forwarder',
        stage: 'sending',
        code: `http_${res.statusCode}`,
      });
      this.#lastError = `central refused the WebSocket: HTTP ${res.statusCode}`;
      this.#o.logger.warn({ status: res.statusCode }, 'central refused the link');
      ws.terminate();
    });
    ws.on('error', (error) => {
      this.#o.metrics.errors.inc({ component: 'forwarder', stage: 'sending', code: 'socket' });
      this.#lastError = error.message;
      this.#o.logger.debug({ err: error.message }, 'link error');
    });
    ws.on('close', () => {
      const wasReady = this.#ready;
      this.#teardown();
      if (wasReady) this.emit('disconnected');
      if (!this.#stopped) this.#scheduleReconnect();
    });
  }

  #teardown(): void {
    if (this.#inFlight.size > 0) {
      this.#scale = Math.max(1 / 64, this.#scale / 2);
      this.#slowWindow = 1;
    }
    this.#generation += 1;
    this.#ready = false;
    this.#o.metrics.linkConnected.set(0);
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#inFlight.clear();
    this.#cursors = { alert: null, security: null, telemetry: null };
    this.#o.metrics.inFlightBatches.set(0);
    this.#centralWindow = Number.POSITIVE_INFINITY;
    this.#pausedUntil = 0;
    clearTimeout(this.#pauseTimer);
    this.#connectedSince = undefined;
  }

  #scheduleReconnect(): void {
    const ceiling = Math.min(this.#o.maxBackoffMs, this.#o.initialBackoffMs * 2 ** this.#failures);
    this.#failures += 1;
    const delay = Math.random() * ceiling; // full jitter, SPEC §6
    this.#o.metrics.reconnects.inc();
    this.#o.logger.info('link down; reconnecting in %d ms', Math.round(delay));
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  async #onMessage(message: LinkMessage): Promise<void> {
    switch (message.type) {
      case 'challenge': {
        // SPEC §7: the highest version both sides speak; rules_version exists from v2.
        const v = Math.min(LINK_PROTOCOL_VERSION, message.v);
        const rulesVersion = v >= 2 ? this.#o.rules?.version() : undefined;
        this.#send({
          type: 'hello',
          v,
          gateway: this.#o.gateway,
          sent_at: Date.now(),
          software: this.#o.software,
          proof: signLinkProof(this.#o.privateKey, this.#o.gateway, message.nonce),
          ...(rulesVersion !== undefined && { rules_version: rulesVersion }),
        });
        return;
      }
      case 'rules':
        this.#send(
          this.#o.rules?.apply(message) ?? {
            type: 'rules_status',
            requested: message.version,
            ok: false,
            error: 'this gateway runs no detection',
          },
        );
        return;
      case 'flow':
        this.#centralWindow = message.max_in_flight;
        await this.#pump();
        return;
      case 'welcome': {
        this.#ready = true;
        this.#linkVersion = message.v;
        this.#failures = 0;
        this.#batchMax = Math.min(this.#o.batchMaxEvents, message.max_batch_events);
        this.#o.metrics.linkConnected.set(1);
        this.#connectedSince = new Date();
        this.#lastError = undefined;
        this.#startHeartbeat();
        this.#o.logger.info('link up to %s', this.#o.endpoint);
        this.emit('connected');
        await this.#pump();
        return;
      }
      case 'ack':
        if (message.delay_ms) this.#pause(message.delay_ms);
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
    const batch = this.#inFlight.get(batchId);
    if (!batch) return;
    try {
      await this.#o.queue.remove(batch.records);
    } catch (error) {
      this.#o.metrics.errors.inc({ component: 'forwarder', stage: 'processing', code: 'queue_delete' });
      this.#o.logger.error({ err: (error as Error).message }, 'could not delete acked records');
      return;
    }
    this.#inFlight.delete(batchId);
    this.#o.metrics.inFlightBatches.set(this.#inFlight.size);
    this.#o.metrics.eventsAcked.inc(batch.events - rejected);
    this.#ackHistory.push({ at: Date.now(), events: batch.events });
    this.#scale = Math.min(1, this.#scale * 2);
    this.#slowWindow = this.#scale >= 1 ? Number.POSITIVE_INFINITY : this.#slowWindow + 1;
    if (rejected > 0)
      this.#o.metrics.dropped.inc({ source: 'forwarder', reason: 'rejected_by_central' }, rejected);
    this.emit('acked', batch.events);
    await this.#pump();
  }

  #window(): number {
    return Math.min(this.#o.maxInFlight, this.#centralWindow, this.#slowWindow);
  }

  /** SPEC §4.9: central asked us to wait before the next batch. */
  #pause(delayMs: number): void {
    this.#o.metrics.throttled.inc();
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + delayMs);
    clearTimeout(this.#pauseTimer);
    this.#pauseTimer = setTimeout(() => void this.#pump(), this.#pausedUntil - Date.now());
  }

  #startHeartbeat(): void {
    clearInterval(this.#heartbeatTimer);
    const interval = this.#o.heartbeatIntervalMs;
    const beat = () => {
      if (Date.now() - this.#lastHeard > 3 * interval) {
        this.#o.logger.warn('no word from central for %d ms; dropping the link', 3 * interval);
        this.#ws?.terminate();
        return;
      }
      // SPEC §5.5 (v2): the queue as it stands, for central's fleet view.
      const depth = this.#o.queue.depth;
      this.#send({
        type: 'heartbeat',
        sent_at: Date.now(),
        ...(this.#linkVersion >= 2 && {
          queue: { events: depth.events, bytes: depth.bytes, by_lane: { ...depth.byLane } },
        }),
      });
    };
    beat();
    this.#heartbeatTimer = setInterval(beat, interval);
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
        while (this.#ready && this.#inFlight.size < this.#window() && Date.now() >= this.#pausedUntil) {
          const records = await this.#nextBatchRecords();
          if (records.length === 0 || !this.#ready) break;
          const events = records.reduce((n, r) => n + r.count, 0);
          const batchId = this.#nextBatchId++;
          this.#inFlight.set(batchId, { records, events });
          this.#o.metrics.inFlightBatches.set(this.#inFlight.size);
          // The stored JSON goes out as it is: no parse, no re-serialisation (queue SPEC §2), and
          // no large string either: the frame is made of the records' bytes.
          this.#sendFrame(
            batchFrame(
              batchId,
              records.map((r) => r.data),
            ),
          );
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

  /**
   * The next batch: whole records of the highest-priority lane that has unsent data, up to the
   * batch size. Cursors move only if the connection is still the one the read began on.
   */
  async #nextBatchRecords(): Promise<QueueRecord[]> {
    const generation = this.#generation;
    for (const lane of LANES) {
      const out: QueueRecord[] = [];
      let events = 0;
      let bytes = 0;
      let cursor = this.#cursors[lane];
      const maxEvents = Math.max(1, Math.floor(this.#batchMax * this.#scale));
      const maxBytes = Math.max(1, Math.floor(this.#o.batchMaxBytes * this.#scale));
      read: while (events < maxEvents && bytes < maxBytes) {
        const records = await this.#o.queue.read(lane, cursor, READ_CHUNK_RECORDS);
        if (generation !== this.#generation) return [];
        if (records.length === 0) break;
        for (const record of records) {
          const tooBig = events + record.count > maxEvents || bytes + record.bytes > maxBytes;
          if (out.length > 0 && tooBig) break read;
          out.push(record);
          events += record.count;
          bytes += record.bytes;
          cursor = record.key;
        }
      }
      if (out.length > 0) {
        this.#cursors[lane] = cursor;
        return out;
      }
    }
    return [];
  }

  #send(message: LinkMessage): void {
    this.#sendRaw(encodeLinkMessage(message));
  }

  #sendRaw(text: string): void {
    const ws = this.#ws;
    if (ws?.readyState === WebSocket.OPEN) ws.send(text);
  }

  /** A text frame (the link is JSON text, SPEC §3) from bytes that are UTF-8 already. */
  #sendFrame(bytes: Buffer): void {
    const ws = this.#ws;
    if (ws?.readyState === WebSocket.OPEN) ws.send(bytes, { binary: false });
  }
}
