/**
 * The address guard of the alert webhook sink (central/sinks/address-guard.ts, shared with the
 * report webhooks) against server-side request forgery: a sink whose URL is, or resolves to, a
 * loopback, private, link-local or cloud metadata address (169.254.169.254) is refused without a
 * request reaching it — the alert is rejected, counted as `refused_address` and logged — unless
 * the address is in the sink's `allow_addresses` (an internal SOAR host), which never opens
 * link-local or metadata addresses. Real HTTP receivers on 127.0.0.1, a real PostgreSQL outbox,
 * and fast-check properties of the address and range parsing.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import {
  addressCheck,
  PRIVATE_RANGES,
  parseAddressRange,
  refusedAddress,
} from '../../../central/sinks/address-guard.ts';
import { sinkConfigSchema } from '../../../central/sinks/index.ts';
import type { OutboxItem } from '../../../central/sinks/outbox.ts';
import { createWebhookSink } from '../../../central/sinks/webhook.ts';
import { createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { IN_CI, waitFor } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { alertInput, startSinkHarness } from './harness.ts';

const env = { SIEM_WEBHOOK_SECRET: 'guard-test-hmac-secret' };

function receiver() {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  return {
    get requests() {
      return requests;
    },
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sink(url: string, allow?: string[]) {
  const config = sinkConfigSchema.parse({
    type: 'webhook',
    url,
    secret_env: 'SIEM_WEBHOOK_SECRET',
    timeout_secs: 5,
    ...(allow && { allow_addresses: allow }),
  });
  if (config.type !== 'webhook') throw new Error('webhook config expected');
  return createWebhookSink('soar', config, env);
}

const item = { idempotencyKey: 'k-1', alert: { id: 1 } } as unknown as OutboxItem;

describe('webhook sink address guard', () => {
  const hook = receiver();
  let port = 0;
  before(async () => {
    port = await hook.listen();
  });
  after(() => hook.close());

  it('refuses the cloud metadata address and link-local ones, even when listed', async () => {
    for (const allow of [undefined, ['169.254.0.0/16'], ['0.0.0.0/0']]) {
      for (const url of [
        'http://169.254.169.254/latest/meta-data/',
        'http://[fe80::1]/',
        'http://[fd00:ec2::254]/',
      ]) {
        const result = await sink(url, allow).send(item);
        assert.equal(result.outcome, 'reject', `${url} allow ${String(allow)}`);
        assert.equal(result.outcome === 'reject' && result.reason, 'refused_address');
      }
    }
  });

  it('refuses a loopback receiver, by address, mapped address or name, and posts nothing to it', async () => {
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', 'localhost']) {
      const result = await sink(`http://${host}:${port}/hook`).send(item);
      assert.equal(result.outcome, 'reject', host);
      if (result.outcome !== 'reject') continue;
      assert.equal(result.reason, 'refused_address', host);
      assert.match(result.detail, /loopback or private.*sinks\.soar\.allow_addresses/, host);
    }
    assert.equal(hook.requests, 0, 'no request reached the receiver');
  });

  it('posts to a loopback receiver its allow_addresses lists, by address or by name', async () => {
    const before = hook.requests;
    assert.deepEqual(await sink(`http://127.0.0.1:${port}/hook`, ['127.0.0.1']).send(item), {
      outcome: 'ok',
    });
    assert.deepEqual(await sink(`http://localhost:${port}/hook`, ['127.0.0.0/8', '::1']).send(item), {
      outcome: 'ok',
    });
    assert.equal(hook.requests, before + 2);
    // A range that does not cover the address allows nothing.
    const other = await sink(`http://127.0.0.1:${port}/hook`, ['10.0.0.0/8']).send(item);
    assert.equal(other.outcome === 'reject' && other.reason, 'refused_address');
    assert.equal(hook.requests, before + 2);
  });

  it('fails config validation on an allow-list entry that is no address or range, naming it', () => {
    for (const bad of ['intranet.local', '10.0.0.0/33', '10.0.0.0/', '::1/129', '']) {
      const parsed = sinkConfigSchema.safeParse({
        type: 'webhook',
        url: 'https://x/',
        allow_addresses: [bad],
      });
      assert.equal(parsed.success, false, bad);
      assert.deepEqual(parsed.error!.issues[0]!.path, ['allow_addresses', 0], bad);
    }
  });
});

describe('address and range parsing (properties)', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));

  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        parseAddressRange(s);
        refusedAddress(s, {});
      }),
      { numRuns: 2000 },
    );
  });

  it('parses every IPv4 and IPv6 address with every valid prefix, and no longer prefix', () => {
    fc.assert(
      fc.property(ipv4, fc.ipV6(), fc.nat(160), (v4, v6, prefix) => {
        assert.equal(parseAddressRange(`${v4}/${prefix}`) !== null, prefix <= 32);
        assert.equal(parseAddressRange(`${v6}/${prefix}`) !== null, prefix <= 128);
        assert.deepEqual(parseAddressRange(v4), { address: v4, prefix: 32, family: 'ipv4' });
      }),
    );
  });

  it('refuses every link-local address whatever is allowed; private ones only until listed', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(255), (a, b, c) => {
        const linkLocal = `169.254.${a}.${b}`;
        assert.ok(refusedAddress(linkLocal, { allow: [...PRIVATE_RANGES, '0.0.0.0/0'] }));
        assert.ok(refusedAddress(`::ffff:${linkLocal}`, { allow: PRIVATE_RANGES }));
        const internal = `10.${a}.${b}.${c}`;
        assert.ok(refusedAddress(internal, {}));
        assert.ok(refusedAddress(`::ffff:${internal}`, {}));
        assert.equal(refusedAddress(internal, { allow: ['10.0.0.0/8'] }), null);
        assert.equal(refusedAddress(internal, { allow: [internal] }), null);
        assert.ok(refusedAddress(internal, { allow: ['192.168.0.0/16'] }));
      }),
    );
  });

  it('refuses no public address', () => {
    const check = addressCheck({});
    for (const a of ['93.184.216.34', '8.8.8.8', '2001:4860:4860::8888']) assert.equal(check(a), null, a);
  });
});

const db = await createTempDatabase();

describe(
  'webhook sink address guard through the outbox (PostgreSQL)',
  { skip: 'error' in db && !IN_CI && db.error },
  () => {
    let store: EventStore;
    before(async () => {
      if ('error' in db) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
      store = await createPostgresStore({ connectionString: db.url, poolMax: 4 });
      await store.init(new Date());
    });
    after(async () => {
      await store?.close();
      if (!('error' in db)) await db.drop();
    });

    it('rejects an alert for a sink at the metadata address: counted and logged, not retried', async () => {
      const lines: Record<string, unknown>[] = [];
      const logger = pino(
        { level: 'info' },
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        }),
      );
      const harness = startSinkHarness(
        store,
        {
          metadata: {
            type: 'webhook',
            url: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
            secret_env: 'SIEM_WEBHOOK_SECRET',
            retry: { initial_backoff_secs: 0.05, poll_interval_secs: 0.1 },
          },
        },
        env,
        logger,
      );
      try {
        await harness.alerts.raise(alertInput('r-ssrf', 'h'));
        const [row] = await waitFor(async () => {
          const rows = await harness.outbox('metadata');
          return rows[0]?.status === 'rejected' ? rows : undefined;
        });
        assert.equal(row!.attempts, 1, 'not retried');
        assert.match(
          row!.last_error ?? '',
          /169\.254\.169\.254 is a link-local, multicast or metadata address/,
        );
        const failures = (await harness.metrics.sinkFailures.get()).values.filter(
          (v) => v.labels.sink === 'metadata',
        );
        assert.deepEqual(
          failures.map((v) => [v.labels.reason, v.value]),
          [['refused_address', 1]],
        );
        assert.equal(await harness.count('sinkRejected', 'metadata'), 1);
        assert.ok(
          lines.some((l) => l.sink === 'metadata' && /169\.254\.169\.254/.test(String(l.err))),
          `logged: ${JSON.stringify(lines)}`,
        );
      } finally {
        await harness.stop();
      }
    });
  },
);
