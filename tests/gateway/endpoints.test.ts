/**
 * `central.endpoints` (issue 22 ask 1): the config accepts one endpoint or a list and gives the
 * rest of the gateway one shape; the ring walks the endpoints on failure with a backoff that grows
 * only per whole round; the failback check needs several healthy answers in a row; the health
 * probe reads a real /healthz (200 healthy, 503 or nothing listening unhealthy).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseYamlConfig } from '../../server-shared/config/yaml-config.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { loadGatewayConfig } from '../../gateway/config/load.ts';
import {
  EndpointRing,
  healthUrlOf,
  probeHealth,
  startFailbackCheck,
} from '../../gateway/forwarder/endpoints.ts';
import { LinkFailover } from '../../gateway/forwarder/failover.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import pino from 'pino';
import { freePort } from '../support/env.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const base = (central: string) =>
  `gateway: { id: gw-1, data_dir: /tmp/gw }\nsources: {}\ncentral: ${central}\n`;

describe('central.endpoint / central.endpoints', () => {
  it('one endpoint is a one-element list', () => {
    const r = parseYamlConfig(base('{ endpoint: "wss://a.example:8443/link" }'), gatewayConfigSchema);
    assert.ok(r.ok);
    assert.deepEqual(r.config.central.endpoints, ['wss://a.example:8443/link']);
    assert.equal(r.config.central.endpoint, 'wss://a.example:8443/link');
    assert.deepEqual(r.config.central.failback, { check_interval_secs: 10, healthy_checks: 3 });
  });

  it('a list keeps its order; endpoint is the preferred (first) one', () => {
    const r = parseYamlConfig(
      base('{ endpoints: ["wss://a:1/link", "wss://b:2/link"], failback: { healthy_checks: 5 } }'),
      gatewayConfigSchema,
    );
    assert.ok(r.ok);
    assert.deepEqual(r.config.central.endpoints, ['wss://a:1/link', 'wss://b:2/link']);
    assert.equal(r.config.central.endpoint, 'wss://a:1/link');
    assert.equal(r.config.central.failback.healthy_checks, 5);
  });

  it('refuses both, neither, an empty list, a duplicate and a non-WebSocket URL, naming the key', () => {
    const errors = (central: string) => {
      const r = parseYamlConfig(base(central), gatewayConfigSchema);
      assert.ok(!r.ok, central);
      return r.errors.join('\n');
    };
    assert.match(
      errors('{ endpoint: "wss://a:1/link", endpoints: ["wss://b:1/link"] }'),
      /central\.endpoint: give central\.endpoint or central\.endpoints/,
    );
    assert.match(errors('{ batch_max_events: 10 }'), /central\.endpoint: give/);
    assert.match(errors('{ endpoints: [] }'), /central\.endpoints/);
    assert.match(
      errors('{ endpoints: ["wss://a:1/link", "wss://a:1/link"] }'),
      /central\.endpoints: .*twice/,
    );
    assert.match(errors('{ endpoints: ["https://a:1/link"] }'), /central\.endpoints\.0/);
  });

  it('SIEM_CENTRAL_ENDPOINT replaces the file’s endpoints: one URL, or a comma-separated list', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-ep-'));
    const file = path.join(dir, 'gw.yaml');
    writeFileSync(file, base('{ endpoints: ["wss://a:1/link", "wss://b:2/link"] }'));
    const one = loadGatewayConfig(file, { SIEM_CENTRAL_ENDPOINT: 'ws://c:3/link' });
    assert.ok(one.ok);
    assert.deepEqual(one.config.central.endpoints, ['ws://c:3/link']);
    const two = loadGatewayConfig(file, { SIEM_CENTRAL_ENDPOINT: 'ws://c:3/link, ws://d:4/link' });
    assert.ok(two.ok);
    assert.deepEqual(two.config.central.endpoints, ['ws://c:3/link', 'ws://d:4/link']);
  });
});

describe('EndpointRing', () => {
  it('walks the endpoints in order and wraps; the backoff exponent counts whole failed rounds', () => {
    const ring = new EndpointRing(['a', 'b', 'c']);
    assert.equal(ring.current, 'a');
    assert.equal(ring.onFallback, false);
    const seen: Array<[string, number]> = [];
    for (let i = 0; i < 7; i += 1) {
      const rounds = ring.failed();
      seen.push([ring.current, rounds]);
    }
    assert.deepEqual(seen, [
      ['b', 0],
      ['c', 0],
      ['a', 0],
      ['b', 1],
      ['c', 1],
      ['a', 1],
      ['b', 2],
    ]);
    assert.equal(ring.onFallback, true);
    ring.connected();
    assert.equal(ring.failed(), 0, 'a link that came up starts the backoff again');
    ring.toPreferred();
    assert.equal(ring.current, 'a');
  });

  it('with one endpoint: every failure grows the backoff, as before endpoints existed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), (n) => {
        const ring = new EndpointRing(['only']);
        const exps = Array.from({ length: n }, () => ring.failed());
        return ring.current === 'only' && exps.every((e, i) => e === i);
      }),
    );
  });

  it('property: after k failures from the start, the current endpoint is k mod n and the exponent floor((k-1)/n)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 100 }), (n, k) => {
        const ring = new EndpointRing(Array.from({ length: n }, (_, i) => `e${i}`));
        let last = -1;
        for (let i = 0; i < k; i += 1) last = ring.failed();
        return ring.index === k % n && last === Math.floor((k - 1) / n);
      }),
    );
  });

  it('health URL of a link URL', () => {
    assert.equal(healthUrlOf('wss://c.example:8443/link').toString(), 'https://c.example:8443/healthz');
    assert.equal(healthUrlOf('ws://127.0.0.1:9/x/link').toString(), 'http://127.0.0.1:9/healthz');
  });
});

describe('failback check', () => {
  it('needs `healthyChecks` healthy answers in a row; one failure starts the count again', async () => {
    const answers = [true, true, false, true, false, true, true, true, true];
    let asked = 0;
    await new Promise<void>((resolve) => {
      startFailbackCheck({
        intervalMs: 1,
        healthyChecks: 3,
        probe: async () => answers[asked++] ?? true,
        ready: resolve,
      });
    });
    assert.equal(asked, 8, 'ready at the third healthy answer after the last failure');
  });

  it('stop() ends it before it is ready', async () => {
    let asked = 0;
    let ready = false;
    const stop = startFailbackCheck({
      intervalMs: 1,
      healthyChecks: 1000,
      probe: async () => {
        asked += 1;
        return true;
      },
      ready: () => {
        ready = true;
      },
    });
    while (asked < 3) await new Promise((resolve) => setTimeout(resolve, 2));
    stop();
    const at = asked;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(asked <= at + 1);
    assert.equal(ready, false);
  });

  it('probeHealth: 200 is healthy; 503 and a closed port are not', async () => {
    let code = 200;
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? code : 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      assert.equal(await probeHealth(`ws://127.0.0.1:${port}/link`, undefined), true);
      code = 503;
      assert.equal(await probeHealth(`ws://127.0.0.1:${port}/link`, undefined), false);
    } finally {
      server.close();
    }
    assert.equal(await probeHealth(`ws://127.0.0.1:${await freePort()}/link`, undefined), false);
  });
});

describe('LinkFailover', () => {
  const make = (probe: () => Promise<boolean>, now: () => number) =>
    new LinkFailover({
      endpoints: ['wss://a/link', 'wss://b/link'],
      failback: { intervalMs: 1, healthyChecks: 2 },
      initialBackoffMs: 1,
      maxBackoffMs: 1,
      metrics: createGatewayMetrics('gw-1', { processMetrics: false }),
      logger: pino({ level: 'silent' }),
      probe,
      now,
    });

  it('fails over, fails back after the healthy checks, and counts both', async () => {
    const f = make(
      async () => true,
      () => 0,
    );
    assert.equal(f.current, 'wss://a/link');
    f.next(); // link to A lost
    assert.equal(f.current, 'wss://b/link');
    await new Promise<void>((resolve) => f.connected(resolve)); // on B: A passes 2 checks
    f.beginFailback();
    assert.equal(f.failingBack, true);
    assert.equal(f.next(), 0, 'a failback reconnects at once');
    assert.equal(f.current, 'wss://a/link');
    assert.deepEqual(f.status(), {
      endpoint: 'wss://a/link',
      endpoint_index: 0,
      endpoints: ['wss://a/link', 'wss://b/link'],
      endpoint_switches: 2,
    });
  });

  it('no flapping: a preferred node lost again soon after a failback doubles the checks the next one needs, up to 16 times; a lasting link resets it', async () => {
    let clock = 0;
    const f = make(
      async () => true,
      () => clock,
    );
    const failBack = async () => {
      await new Promise<void>((resolve) => f.connected(resolve));
      f.beginFailback();
      f.next();
    };
    f.next(); // A lost: on B
    const needed: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      await failBack(); // back on A ...
      clock += 1; // ... and A fails 1 ms later (the window is 5 × 1 ms × 2 checks)
      f.next();
      needed.push(f.healthyChecksNeeded);
    }
    assert.deepEqual(needed, [4, 8, 16, 32, 32, 32]);
    await failBack();
    clock += 1000; // A lasted: the next loss is an ordinary failover
    f.next();
    assert.equal(f.healthyChecksNeeded, 2);
  });
});
