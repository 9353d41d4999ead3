/**
 * The contract every forwarding sink implements (STYLE.md "One pipeline contract"): send one
 * queued alert and answer ok, retry (a transient failure: the receiver is down, busy, timed
 * out) or reject (the receiver refused this alert for good); report its health; close.
 * `reason` is a short bounded code for metrics, `detail` the human-readable error.
 */
import type { OutboxItem } from './outbox.ts';

export type SinkResult = { outcome: 'ok' } | { outcome: 'retry' | 'reject'; reason: string; detail: string };

export interface Sink {
  readonly name: string;
  readonly type: 'syslog' | 'webhook' | 'email';
  send(item: OutboxItem): Promise<SinkResult>;
  close(): Promise<void>;
}

export const retry = (reason: string, detail: string): SinkResult => ({ outcome: 'retry', reason, detail });
export const reject = (reason: string, detail: string): SinkResult => ({ outcome: 'reject', reason, detail });
export const OK: SinkResult = { outcome: 'ok' };
