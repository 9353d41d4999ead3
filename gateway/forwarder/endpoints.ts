/**
 * Which central node the link uses (`central.endpoints`, most preferred first): the ring the
 * forwarder walks on link loss or a failed handshake, the backoff that grows only once every
 * endpoint has failed in turn, and the failback check that moves the link back to the first
 * endpoint after it answered `/healthz` healthy several times in a row (one failure starts the
 * count again, so a node that comes and goes does not pull the link back and forth).
 *
 * Exactly-once holds across a switch because nothing here is per node: central dedups stored
 * events by (gateway, seq, ts) in PostgreSQL, which every node shares, and the gateway deletes a
 * record only on an ack; a batch in flight to a node that died is simply sent again to the next.
 */
import http from 'node:http';
import https from 'node:https';
import type { LinkTlsFiles } from './connection.ts';
import { readFileSync } from 'node:fs';

export class EndpointRing {
  readonly urls: readonly string[];
  #index = 0;
  /** Failed attempts since the link was last up. */
  #failures = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new Error('no central endpoint');
    this.urls = urls;
  }

  get current(): string {
    return this.urls[this.#index]!;
  }

  get index(): number {
    return this.#index;
  }

  /** On a fallback node: the failback check runs. */
  get onFallback(): boolean {
    return this.#index !== 0;
  }

  /**
   * The link to the current endpoint failed (lost, refused, or the handshake did not finish):
   * moves to the next endpoint and returns the backoff exponent, the number of whole rounds over
   * the endpoints that have failed (with one endpoint: every failure, as before endpoints).
   */
  failed(): number {
    const rounds = Math.floor(this.#failures / this.urls.length);
    this.#failures += 1;
    this.#index = (this.#index + 1) % this.urls.length;
    return rounds;
  }

  /** The handshake finished (central's welcome): the backoff starts again from the beginning. */
  connected(): void {
    this.#failures = 0;
  }

  /** Failback: the next connection goes to the preferred endpoint. */
  toPreferred(): void {
    this.#index = 0;
    this.#failures = 0;
  }
}

/** Central's `/healthz` for a link URL: wss://host:port/link → https://host:port/healthz. */
export function healthUrlOf(linkUrl: string): URL {
  const url = new URL(linkUrl);
  return new URL('/healthz', `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`);
}

/**
 * True when the node answers `/healthz` with 200 within `timeoutMs` (central answers 503 when its
 * PostgreSQL is unreachable: such a node is not worth returning to). TLS as the link's: the same
 * CA pinning and client certificate.
 */
export function probeHealth(
  linkUrl: string,
  tls: LinkTlsFiles | undefined,
  timeoutMs = 5000,
): Promise<boolean> {
  const url = healthUrlOf(linkUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    let req: http.ClientRequest;
    try {
      const options = {
        method: 'GET',
        timeout: timeoutMs,
        ca: tls?.caFile ? readFileSync(tls.caFile) : undefined,
        cert: tls?.certFile ? readFileSync(tls.certFile) : undefined,
        key: tls?.keyFile ? readFileSync(tls.keyFile) : undefined,
      };
      req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
        res.resume();
        done(res.statusCode === 200);
      });
    } catch {
      done(false);
      return;
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done(false));
    req.end();
  });
}

export interface FailbackOptions {
  intervalMs: number;
  healthyChecks: number;
  /** Asks the preferred endpoint whether it is healthy. */
  probe(): Promise<boolean>;
  /** Called once when the preferred endpoint passed `healthyChecks` checks in a row. */
  ready(): void;
}

/** Checks the preferred endpoint every interval; stop() with the returned function. */
export function startFailbackCheck(o: FailbackOptions): () => void {
  let healthy = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    const ok = await o.probe();
    if (stopped) return;
    healthy = ok ? healthy + 1 : 0;
    if (healthy >= o.healthyChecks) {
      stopped = true;
      o.ready();
      return;
    }
    timer = setTimeout(() => void check(), o.intervalMs);
  };
  timer = setTimeout(() => void check(), o.intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
