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
 * opens a fresh connection so the check runs every time.
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

/** Reads the status of one POST; rejects with the socket's error (a refusal carries its code). */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: { lookup: ReturnType<typeof guardedLookup>; timeoutMs: number },
): Promise<number> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, fail) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        lookup: options.lookup,
        // A fresh socket per attempt: a pooled keep-alive socket would skip the lookup, and with
        // it the address guard.
        agent: false,
        timeout: options.timeoutMs,
        ...(url.protocol === 'https:' && { minVersion: 'TLSv1.2' as const, rejectUnauthorized: true }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', fail);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * A POST to a webhook sink's URL through the sink's address guard and TLS settings, for other
 * senders than the sink itself (a playbook's webhook action): the HTTP status, or why not.
 */
export function webhookPoster(
  name: string,
  config: WebhookSinkConfig,
): (headers: Record<string, string>, body: string) => Promise<{ status: number } | { error: string }> {
  const url = new URL(config.url);
  const check = addressCheck({
    allow: config.allow_addresses,
    allowHint: `list it in sinks.${name}.allow_addresses to allow it`,
  });
  const lookup = guardedLookup(check);
  return async (headers, body) => {
    const literal = refusedLiteral(url, check);
    if (literal) return { error: `refused: ${literal}` };
    try {
      return { status: await post(url, headers, body, { lookup, timeoutMs: config.timeout_secs * 1000 }) };
    } catch (error) {
      const err = error as Error;
      return { error: err.name === 'TimeoutError' ? 'timed out' : err.message };
    }
  };
}

export function createWebhookSink(
  name: string,
  config: WebhookSinkConfig,
  env: NodeJS.ProcessEnv = process.env,
): Sink {
  const secret = readSecret(name, config, env);
  if (!secret) throw new Error(`sinks.${name}: secret_env or secret_file is required (HMAC key)`);
  const url = new URL(config.url);
  const check = addressCheck({
    allow: config.allow_addresses,
    allowHint: `list it in sinks.${name}.allow_addresses to allow it`,
  });
  const lookup = guardedLookup(check);
  return {
    name,
    type: 'webhook',
    async send(item): Promise<SinkResult> {
      const literal = refusedLiteral(url, check);
      if (literal) return reject('refused_address', `refused: ${literal}`);
      const body = JSON.stringify({ idempotency_key: item.idempotencyKey, sink: name, alert: item.alert });
      const timestamp = String(Math.floor(Date.now() / 1000));
      let status: number;
      try {
        status = await post(
          url,
          {
            'idempotency-key': item.idempotencyKey,
            'x-siem-timestamp': timestamp,
            'x-siem-signature': webhookSignature(secret, timestamp, body),
          },
          body,
          { lookup, timeoutMs: config.timeout_secs * 1000 },
        );
      } catch (error) {
        const err = error as Error;
        if (isRefusedAddress(err)) return reject('refused_address', err.message);
        return retry(err.name === 'TimeoutError' ? 'timeout' : 'connection', err.message);
      }
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
