/**
 * A central node as a real process (`siem-central run`) on a port fixed by the test, so that a
 * node killed with SIGKILL comes back where the gateways look for it: the config file (HTTPS and
 * wss:// with the test PKI, PostgreSQL from a connection string, one API token) is written once
 * and every `start()` runs it again. For the issue 22 fault tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { sha256Hex } from '../../central/auth/tokens.ts';
import { stopChild, track } from '../bench/support/procs.ts';
import { freePort, REPO_ROOT, waitFor } from './env.ts';
import type { TestPki } from './tls.ts';

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
