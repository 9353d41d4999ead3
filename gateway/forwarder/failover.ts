/**
 * The forwarder's choice of central node (issue 22 ask 1): which endpoint the next connection
 * goes to and after what wait, the failback check while on a fallback node, and how that shows in
 * /api/status and /metrics. The forwarder (index.ts) tells it when the link came up or went down;
 * the mechanics (ring, probe, check) are endpoints.ts.
 *
 * No flapping: a failback needs `healthyChecks` healthy answers in a row, and when the link to the
 * preferred node is lost again soon after a failback (within five times that check period), the
 * next failback needs twice as many, up to 16 times; a preferred link that lasts resets it.
 */
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.ts';
import { type LinkTlsFiles, reconnectDelayMs } from './connection.ts';
import { EndpointRing, probeHealth, startFailbackCheck } from './endpoints.ts';

export interface LinkFailoverOptions {
  endpoints: readonly string[];
  failback: { intervalMs: number; healthyChecks: number };
  initialBackoffMs: number;
  maxBackoffMs: number;
  tls?: LinkTlsFiles | undefined;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Asks an endpoint whether it is healthy (default: its /healthz, probeHealth). */
  probe?: (endpoint: string) => Promise<boolean>;
  now?: () => number;
}

const MAX_PENALTY = 16;

export class LinkFailover {
  readonly #o: LinkFailoverOptions;
  readonly #ring: EndpointRing;
  #switches = 0;
  /** Failback decided: no new batches; the link closes and reopens to endpoint 0. */
  #failingBack = false;
  #stopCheck: (() => void) | undefined;
  /** When the last failback happened (ms), and the multiplier of the checks the next one needs. */
  #failedBackAt = -Infinity;
  #penalty = 1;

  constructor(options: LinkFailoverOptions) {
    this.#o = options;
    this.#ring = new EndpointRing(options.endpoints);
    this.#show();
  }

  /** The endpoint to connect to now. */
  get current(): string {
    return this.#ring.current;
  }

  get failingBack(): boolean {
    return this.#failingBack;
  }

  /** Healthy answers in a row the next failback needs. */
  get healthyChecksNeeded(): number {
    return this.#o.failback.healthyChecks * this.#penalty;
  }

  status() {
    return {
      endpoint: this.#ring.current,
      endpoint_index: this.#ring.index,
      endpoints: [...this.#ring.urls],
      endpoint_switches: this.#switches,
    };
  }

  /** The link is up (central's welcome): the backoff restarts; on a fallback node, `preferredHealthy` fires once endpoint 0 passed its checks. */
  connected(preferredHealthy: () => void): void {
    this.#ring.connected();
    this.stopCheck();
    if (!this.#ring.onFallback) return;
    const probe = this.#o.probe ?? ((endpoint: string) => probeHealth(endpoint, this.#o.tls));
    this.#stopCheck = startFailbackCheck({
      intervalMs: this.#o.failback.intervalMs,
      healthyChecks: this.healthyChecksNeeded,
      probe: () => probe(this.#ring.urls[0]!),
      ready: () => {
        this.#stopCheck = undefined;
        preferredHealthy();
      },
    });
  }

  /** The forwarder starts moving back: from now on it sends no new batch. */
  beginFailback(): void {
    this.#failingBack = true;
    this.#o.logger.info('%s is healthy again; moving the link back to it', this.#ring.urls[0]);
  }

  /**
   * The link is down: moves to the next endpoint (or back to the first, after a failback) and
   * returns the wait before connecting, in ms.
   */
  next(): number {
    const from = this.#ring.index;
    const reason = this.#failingBack ? 'failback' : 'failover';
    const now = (this.#o.now ?? Date.now)();
    let delay = 0;
    if (this.#failingBack) {
      // Not a failure: the link was closed on purpose, to reopen at once to the preferred node.
      this.#failingBack = false;
      this.#failedBackAt = now;
      this.#ring.toPreferred();
    } else {
      if (from === 0 && this.#ring.urls.length > 1) {
        const flapWindow = 5 * this.#o.failback.intervalMs * this.#o.failback.healthyChecks;
        const flapped = now - this.#failedBackAt < flapWindow;
        this.#penalty = flapped ? Math.min(MAX_PENALTY, this.#penalty * 2) : 1;
        if (flapped)
          this.#o.logger.warn(
            'the preferred central failed again soon after the gateway returned to it; the next return needs %d healthy checks',
            this.healthyChecksNeeded,
          );
      }
      delay = reconnectDelayMs(this.#ring.failed(), this.#o.initialBackoffMs, this.#o.maxBackoffMs);
    }
    if (this.#ring.index !== from) {
      this.#switches += 1;
      this.#o.metrics.failovers.inc({ reason });
      this.#show();
    }
    return delay;
  }

  stopCheck(): void {
    this.#stopCheck?.();
    this.#stopCheck = undefined;
  }

  /** A fresh start (Forwarder.start after a stop). */
  reset(): void {
    this.#failingBack = false;
    this.stopCheck();
  }

  /** The endpoint gauge: 1 for the endpoint in use (or tried next), 0 for the others. */
  #show(): void {
    this.#ring.urls.forEach((endpoint, position) =>
      this.#o.metrics.linkEndpoint.set(
        { endpoint, position: String(position) },
        position === this.#ring.index ? 1 : 0,
      ),
    );
  }
}
