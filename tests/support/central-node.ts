/**
 * A central node as a real process (`siem-central run`) on a port fixed by the test, so that a
 * node killed with SIGKILL comes back where the gateways look for it: the config file (HTTPS and
 * wss:// with the test PKI, PostgreSQL from a connection string, one API token) is written once
 * and every `start()` runs it again. For the issue 22 fault tests; `twoCentralNodes` is their
 * whole set-up: two nodes on one database and a gateway with both in `central.endpoints`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import { type Gateway, startGateway } from '../../gateway/index.ts';
import { createLogger } from '../../gateway/log.ts';
import { stopChild, track } from '../bench/support/procs.ts';
import { freePort, REPO_ROOT, requireTool, waitFor } from './env.ts';
import { pending } from './link-client.ts';
import { requirePostgres, type TempDatabase } from './postgres.ts';
import { makeTestPki, type TestPki } from './tls.ts';

export interface CentralNode {
  name: string;
  /** https://127.0.0.1:port */
  url: string;
  /** wss://127.0.0.1:port/link */
  linkUrl: string;
  /** Starts the process (again) and resolves once it printed its addresses. */
  start(): Promise<void>;
  /** SIGKILL: no drain, no goodbye; resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: frozen, the node keeps its sockets open and answers nothing (a hung host). */
  freeze(): void;
  thaw(): void;
  /** GET over https with the test CA (fetch has no per-request CA): status and body. */
  get(pathAndQuery: string): Promise<{ status: number; body: string }>;
  running(): boolean;
  output(): string;
}

export async function centralNode(o: {
  name: string;
  dir: string;
  databaseUrl: string;
  pki: TestPki;
  apiToken: string;
  extra?: Record<string, unknown>;
}): Promise<CentralNode> {
  const port = await freePort();
  const config = path.join(o.dir, `${o.name}.yaml`);
  writeFileSync(
    config,
    JSON.stringify({
      http: {
        listen: `127.0.0.1:${port}`,
        tls: { cert_file: o.pki.serverCert, key_file: o.pki.serverKey },
      },
      storage: { type: 'postgres', url: o.databaseUrl, pool_max: 4 },
      link: { heartbeat_interval_secs: 1 },
      api: { tokens: [{ name: 'test', token_sha256: sha256Hex(o.apiToken) }] },
      log: { level: process.env.SIEM_TEST_LOG || 'warn' },
      ...o.extra,
    }),
  );
  let child: ChildProcess | undefined;
  let out = '';
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    name: o.name,
    url: `https://127.0.0.1:${port}`,
    linkUrl: `wss://127.0.0.1:${port}/link`,
    running: alive,
    output: () => out,
    async start() {
      out = '';
      const proc = track(
        spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'siem-central.js'), 'run', '--config', config], {
          cwd: REPO_ROOT,
          env: process.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      child = proc;
      const add = (d: Buffer) => {
        out = (out + d.toString()).slice(-64 * 1024);
      };
      proc.stdout!.on('data', add);
      proc.stderr!.on('data', add);
      // (waitFor retries a probe that throws: a process that died ends the wait by a value instead.)
      const started = await waitFor(
        () => (!alive() ? 'exited' : /central: https:\/\/\S+\s+link: wss:/.test(out) ? 'up' : undefined),
        { timeoutMs: 120_000, intervalMs: 50, what: `${o.name} to start` },
      );
      if (started === 'exited') throw new Error(`${o.name} exited: ${out.slice(-2000)}`);
    },
    async kill() {
      if (!child || !alive()) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child && alive()) child.kill('SIGCONT');
      if (child) await stopChild(child, 10_000);
    },
    freeze() {
      if (child && alive()) child.kill('SIGSTOP');
    },
    thaw() {
      if (child && alive()) child.kill('SIGCONT');
    },
    get: (pathAndQuery) =>
      httpsRequest(`https://127.0.0.1:${port}${pathAndQuery}`, {
        method: 'GET',
        ca: o.pki.read(o.pki.caFile),
      }),
  };
}

function httpsRequest(
  url: string,
  options: https.RequestOptions,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, options, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A one-time enrollment token for `gatewayId`, minted through a node's API. */
export async function mintEnrollmentToken(
  node: CentralNode,
  apiToken: string,
  ca: string,
  gatewayId: string,
): Promise<string> {
  const res = await httpsRequest(
    `${node.url}/api/enrollment-tokens`,
    {
      method: 'POST',
      ca,
      headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
    },
    JSON.stringify({ gateway_id: gatewayId, ttl_secs: 600 }),
  );
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`enrollment token: HTTP ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { token: string }).token;
}

/** The sum of a Prometheus counter over its label sets, from a /metrics text. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'gm')))
    sum += Number(m[1]);
  return sum;
}

/** Two nodes on one PostgreSQL database, with what they were made from. */
export interface TwoCentralNodes {
  db: TempDatabase;
  pki: TestPki;
  dir: string;
  apiToken: string;
  a: CentralNode;
  b: CentralNode;
  /**
   * Enrolls `gatewayId` through `via` (the key is in the shared database, so either node accepts
   * it), starts that gateway in-process with `central.endpoints: [a, b]` (A preferred; short
   * backoffs, a 1 s heartbeat, batches of 200, failback after 3 healthy checks 0.5 s apart;
   * `central` adds or overrides keys) and starts streaming lines `<lines> <n>` into it. The
   * fixture's `after` hook stops the stream and the gateway.
   */
  startGateway(o: {
    gatewayId: string;
    via: CentralNode;
    lines: string;
    central?: Record<string, unknown>;
  }): Promise<StreamingGateway>;
}

/** A gateway of `TwoCentralNodes.startGateway`, fed 40 lines every 20 ms (~2,000 events/s). */
export interface StreamingGateway {
  gateway: Gateway;
  /** A client of the shared database (ended by the fixture). */
  client: pg.Client;
  link(): Promise<Awaited<ReturnType<Gateway['status']>>['link']>;
  /** A `waitFor` probe: true once the link is up on `node`. */
  on(node: CentralNode): () => Promise<true | undefined>;
  /** Lines handed to the gateway so far. */
  emitted(): number;
  /** The gateway's events stored in PostgreSQL so far. */
  stored(): Promise<number>;
  /** Waits (60 s at most) until at least `count` of the gateway's events are stored. */
  waitStored(count: number, what: string): Promise<void>;
  /** Stops the stream and waits until the queue is empty with no batch in flight. */
  drain(): Promise<void>;
}

/**
 * The failover tests' suite set-up, as `before` and `after` hooks of the calling `describe`: the
 * test PKI, a PostgreSQL database and two nodes on it (`node-a`, `node-b`), started one at a time
 * (both run the migrations under the DDL lock, but the first start is the slow one); afterwards
 * the gateway, the nodes, the database and the files go. The function returned gives the fixture,
 * or undefined when openssl or PostgreSQL is missing (the hook recorded why: call `skipUnmet`).
 */
export function twoCentralNodes(dirPrefix: string): () => TwoCentralNodes | undefined {
  let db: TempDatabase | undefined;
  let pki: TestPki | undefined;
  let dir = '';
  let a: CentralNode | undefined;
  let b: CentralNode | undefined;
  let started: { gateway: Gateway; client: pg.Client; stopStream: () => Promise<void> } | undefined;
  const apiToken = newToken();

  before(async (t) => {
    if (!requireTool(t as never, 'openssl', 'openssl')) return;
    db = await requirePostgres(t as never);
    if (!db) return;
    pki = makeTestPki();
    dir = mkdtempSync(path.join(tmpdir(), dirPrefix));
    a = await centralNode({ name: 'node-a', dir, databaseUrl: db.url, pki, apiToken });
    b = await centralNode({ name: 'node-b', dir, databaseUrl: db.url, pki, apiToken });
    await a.start();
    await b.start();
  });

  after(async () => {
    await started?.stopStream();
    await started?.client.end();
    await started?.gateway.stop();
    await a?.stop();
    await b?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  return () => {
    if (!db || !pki || !a || !b) return undefined;
    const nodes = { db, pki, dir, apiToken, a, b };
    return {
      ...nodes,
      async startGateway(o) {
        if (started) throw new Error('one gateway per suite');
        const gateway = await streamingGateway(nodes, o);
        started = gateway;
        return gateway;
      },
    };
  };
}

async function streamingGateway(
  f: Omit<TwoCentralNodes, 'startGateway'>,
  o: Parameters<TwoCentralNodes['startGateway']>[0],
): Promise<StreamingGateway & { stopStream(): Promise<void> }> {
  const ca = f.pki.read(f.pki.caFile);
  const credentials = await enrollGateway({
    central: o.via.url,
    token: await mintEnrollmentToken(o.via, f.apiToken, ca, o.gatewayId),
    gatewayId: o.gatewayId,
    credentialsFile: path.join(f.dir, 'credentials.json'),
    ca,
  });
  const logLevel = process.env.SIEM_TEST_LOG || 'silent';
  const gw = await startGateway(
    gatewayConfigSchema.parse({
      gateway: { id: o.gatewayId, data_dir: path.join(f.dir, 'gateway') },
      sources: {},
      central: {
        endpoints: [f.a.linkUrl, f.b.linkUrl],
        tls: { ca_file: f.pki.caFile },
        initial_backoff_secs: 0.2,
        max_backoff_secs: 1,
        heartbeat_interval_secs: 1,
        batch_max_events: 200,
        failback: { check_interval_secs: 0.5, healthy_checks: 3 },
        ...o.central,
      },
      http: { listen: '127.0.0.1:0' },
      log: { level: logLevel },
    }),
    {
      privateKey: credentials.private_key,
      logger: createLogger(logLevel),
      processMetrics: false,
      printSecret: () => {},
    },
  );
  let emitted = 0;
  let streaming = true;
  const stream = (async () => {
    while (streaming) {
      const batch = Array.from({ length: 40 }, (_, i) => pending(`${o.lines} ${emitted + i}`));
      await gw.ingest('test', batch);
      emitted += batch.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const stopStream = async () => {
    streaming = false;
    await stream;
  };
  const client = new pg.Client({ connectionString: f.db.url });
  await client.connect().catch(async (error: unknown) => {
    await stopStream();
    await gw.stop();
    throw error;
  });
  const link = async () => (await gw.status()).link;
  const stored = async () =>
    (
      await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE gateway = $1', [
        o.gatewayId,
      ])
    ).rows[0]!.n;
  return {
    gateway: gw,
    client,
    link,
    on: (node) => async () => {
      const l = await link();
      return l.connected && l.endpoint === node.linkUrl ? true : undefined;
    },
    emitted: () => emitted,
    stored,
    async waitStored(count, what) {
      await waitFor(async () => ((await stored()) >= count ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 100,
        what,
      });
    },
    async drain() {
      await stopStream();
      await waitFor(
        async () => {
          const s = await gw.status();
          return s.queue.events === 0 && s.link.in_flight_batches === 0 ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: 'the gateway queue to drain' },
      );
    },
    stopStream,
  };
}
