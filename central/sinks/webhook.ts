/**
 * The webhook sink: `POST` of `{ idempotency_key, sink, alert }` as JSON. Headers:
 * `Idempotency-Key` (the same on every attempt of one alert, so a receiver drops repeats),
 * `X-Siem-Timestamp` (Unix seconds of this attempt) and `X-Siem-Signature:
 * sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, so a receiver can check origin and
 * integrity and refuse old replays. 2xx is delivered; 408, 429, 5xx and network errors are
 * retried; any other status is a rejection (the receiver will never take this body).
 */
import { createHmac } from 'node:crypto';
import type { SinkConfig } from './config.ts';
import { readSecret } from './secret.ts';
import { OK, reject, retry, type Sink } from './types.ts';

type WebhookSinkConfig = Extract<SinkConfig, { type: 'webhook' }>;

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhookSink(
  name: string,
  config: WebhookSinkConfig,
  env: NodeJS.ProcessEnv = process.env,
): Sink {
  const secret = readSecret(name, config, env);
  if (!secret) throw new Error(`sinks.${name}: secret_env or secret_file is required (HMAC key)`);
  return {
    name,
    type: 'webhook',
    async send(item) {
      const body = JSON.stringify({ idempotency_key: item.idempotencyKey, sink: name, alert: item.alert });
      const timestamp = String(Math.floor(Date.now() / 1000));
      let response: Response;
      try {
        response = await fetch(config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': item.idempotencyKey,
            'x-siem-timestamp': timestamp,
            'x-siem-signature': webhookSignature(secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(config.timeout_secs * 1000),
          redirect: 'error',
        });
        await response.arrayBuffer().catch(() => undefined);
      } catch (error) {
        const err = error as Error;
        return retry(err.name === 'TimeoutError' ? 'timeout' : 'connection', err.message);
      }
      if (response.ok) return OK;
      const detail = `HTTP ${response.status}`;
      if (response.status === 408 || response.status === 429 || response.status >= 500) {
        return retry(`http_${response.status >= 500 ? '5xx' : response.status}`, detail);
      }
      return reject(`http_${response.status}`, detail);
    },
    async close() {},
  };
}
