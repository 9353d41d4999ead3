/**
 * The one pipeline contract (STYLE.md): a source starts, stops and emits batches of events; a
 * transform is a pure `(event) => event | null`; the queue is the sink that makes events durable.
 * Adding a protocol means adding a source, not touching the pipeline.
 */
import type { Logger } from 'pino';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { ResponseView } from '../playbooks/controls.ts';

/**
 * Events a source decoding a burst (one socket read holds hundreds) emits per call. Decoded all at
 * once, the first events outlive two scavenges of V8's 2 MB young generation and are copied to
 * old space, whose collections were most of the gateway's CPU per event (issue 18); a batch this
 * size goes through the pipeline into the queue's record and dies young.
 */
export const EMIT_BATCH_EVENTS = 32;

export interface SourceContext {
  /**
   * Hands events to the pipeline. Resolves once they are durable on disk: only then may a source
   * acknowledge them to the device (MQTT PUBACK, CoAP ACK). Rejects when the queue cannot write.
   */
  emit(events: PendingEvent[], options?: EmitOptions): Promise<void>;
  /**
   * The source state it stored with earlier emits (`EmitOptions.state`) whose key starts with
   * `prefix`: what a file source had read when the gateway stopped or was killed.
   */
  readState?(prefix: string): Promise<Map<string, string>>;
  metrics: GatewayMetrics;
  logger: Logger;
  now(): Date;
  /** The response controls playbooks set (blocked MQTT clients, denied Modbus masters), if any. */
  response?: ResponseView;
}

export interface EmitOptions {
  /**
   * The source's own state (a file's read offset), written in the same atomic batch as these
   * events (gateway/queue/SPEC.md §10); null deletes a key. Sent even when every event is dropped.
   */
  state?: Record<string, string | null>;
  /**
   * The source acknowledges these events to a device once they are durable (MQTT PUBACK): they
   * are written at once instead of after the queue's group-commit window (`queue.flush_interval_ms`).
   */
  ack?: boolean;
}

export interface SourceAddress {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

export interface Source {
  readonly name: string;
  readonly type: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Where the source listens, once started (the real port when the config said 0). */
  addresses(): SourceAddress[];
  /** Short notes for /api/status and the dashboard (e.g. clients refused for their protocol version). */
  notes?(): string[];
}

/** A pure, stateless transform; returning null drops the event (and the pipeline counts it). */
export type Transform = {
  name: string;
  apply: (event: PendingEvent) => PendingEvent | null;
};
