/**
 * The webhook sink: `POST` of `{ idempotency_key, sink, alert }` as JSON. Headers:
 * `Idempotency-Key` (the same on every attempt of one alert, so a receiver drops repeats),
 * `X-Siem-Timestamp` (Unix seconds of this attempt) and `X-Siem-Signature:
 * sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, so a receiver can check origin and
 * integrity and refuse old replays. 2xx is delivered; 408, 429, 5xx and network errors are
 * retried; any other status (a redirect too: none is followed) is a rejection (the receiver will
 * never take this body). The URL passes the address guard (address-guard.ts): a host resolving
 * to a loopback, private, link-local or metadata address is refused (`refused_address`, counted
 * and logged by the dispatcher) unless its address is in `allow_addresses`, and each attempt
 * opens a fresh connection so the check runs every time. That POST (`guardedPoster`) is the only
 * one central makes to an operator-configured URL: playbook webhook actions and report webhooks
 * use it too.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { addressCheck, guardedLookup, isRefusedAddress, refusedLiteral } from './address-guard.ts';
import type { SinkConfig } from './config.ts';
import { readSecret } from './secret.ts';
import { OK, reject, retry, type Sink, type SinkResult } from './types.ts';

type WebhookSinkConfig = Extract<SinkConfig, { type: 'webhook' }>;

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What one guarded POST came to: the receiver's HTTP status, or why there was none. */
export type PostOutcome =
  { status: number } | { error: string; reason: 'refused_address' | 'timeout' | 'connection' };

/** Where a guarded POST goes, and what its address guard lets it reach. */
export interface GuardedPostTarget {
  url: string;
  /** Loopback or private addresses and CIDR ranges the URL may resolve to (address-guard.ts). */
  allow: readonly string[];
  /** The config key that lists them, named in a refusal (`sinks.soar.allow_addresses`). */
  allowKey: string;
  timeoutSecs: number;
  /** CA to verify an https:// receiver with (default: the system CAs). */
  ca?: Buffer;
}

/**
 * The one JSON POST central makes to an operator-configured URL (the alert sink, a playbook's
 * webhook action, report delivery): through the address guard, on a fresh socket per POST (a
 * pooled keep-alive socket would skip the guarded lookup), TLS 1.2 or newer verified, no redirect
 * followed (a 3xx is a status like any other), bounded by the timeout. Never rejects.
 */
export function guardedPoster(
  target: GuardedPostTarget,
): (headers: Record<string, string>, body: string) => Promise<PostOutcome> {
  const url = new URL(target.url);
  const check = addressCheck({ allow: target.allow, allowHint: `list it in ${target.allowKey} to allow it` });
  const lookup = guardedLookup(check);
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const tls = secure && {
    minVersion: 'TLSv1.2' as const,
    rejectUnauthorized: true,
    ...(target.ca && { ca: target.ca }),
  };
  return (headers, body) => {
    // Node does not call `lookup` for an IP literal: judge it here.
    const literal = refusedLiteral(url, check);
    if (literal) return Promise.resolve({ error: `refused: ${literal}`, reason: 'refused_address' });
    return new Promise((resolve) => {
      const failed = (error: Error) =>
        resolve(
          isRefusedAddress(error)
            ? { error: error.message, reason: 'refused_address' }
            : error.name === 'TimeoutError'
              ? { error: 'timed out', reason: 'timeout' }
              : { error: error.message, reason: 'connection' },
        );
      const req = send(
        url,
        {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          lookup,
          agent: false,
          timeout: target.timeoutSecs * 1000,
          ...tls,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', failed);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
      req.on('error', failed);
      req.end(body);
    });
  };
}

/**
 * The guarded POST to a webhook sink's URL, under the sink's `allow_addresses` and timeout: the
 * sink's own sends and a playbook's webhook action naming the sink.
 */
export function webhookPoster(
  name: string,
  config: WebhookSinkConfig,
): (headers: Record<string, string>, body: string) => Promise<PostOutcome> {
  return guardedPoster({
    url: config.url,
    allow: config.allow_addresses,
    allowKey: `sinks.${name}.allow_addresses`,
    timeoutSecs: config.timeout_secs,
  });
}

export function createWebhookSink(
  name: string,
  config: WebhookSinkConfig,
  env: NodeJS.ProcessEnv = process.env,
): Sink {
  const secret = readSecret(name, config, env);
  if (!secret) throw new Error(`sinks.${name}: secret_env or secret_file is required (HMAC key)`);
  const post = webhookPoster(name, config);
  return {
    name,
    type: 'webhook',
    async send(item): Promise<SinkResult> {
      const body = JSON.stringify({ idempotency_key: item.idempotencyKey, sink: name, alert: item.alert });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const sent = await post(
        {
          'idempotency-key': item.idempotencyKey,
          'x-siem-timestamp': timestamp,
          'x-siem-signature': webhookSignature(secret, timestamp, body),
        },
        body,
      );
      if ('error' in sent)
        return sent.reason === 'refused_address'
          ? reject('refused_address', sent.error)
          : retry(sent.reason, sent.error);
      const { status } = sent;
      if (status >= 200 && status < 300) return OK;
      const detail = `HTTP ${status}`;
      if (status === 408 || status === 429 || status >= 500) {
        return retry(`http_${status >= 500 ? '5xx' : status}`, detail);
      }
      return reject(`http_${status}`, detail);
    },
    async close() {},
  };
}
