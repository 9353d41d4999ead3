/**
 * The gateway as it ships (the bundle, `siem-gateway run`, durable queue with fsync, the default
 * pipeline) with no central to talk to, for the benchmarks of its inputs: the queue keeps every
 * event, so what an input made durable can be counted on `/metrics` while it runs and read back
 * event by event from the queue once the gateway has stopped (`queuedEvents`). Also logs in as
 * the first admin the gateway printed, to create API tokens (`createToken`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Event } from '../../../protocols/event/schema.ts';
import { waitFor } from '../../support/env.ts';
import { readStoppedQueue, writeOfflineCredentials } from '../../support/offline-gateway.ts';
import { buildGatewayBundle, gatewayCommand, gatewayEnv } from './gateway-process.ts';
import { stopChild, track, trackDir } from './procs.ts';

export interface StandaloneGateway {
  child: ChildProcess;
  pid: number;
  httpUrl: string;
  /** Bound port per source name and transport, e.g. ports.tcp.tcp. */
  ports: Record<string, Record<string, number>>;
  /** A bearer token of the local API with these scopes, made by the first admin. */
  createToken(scopes: string[]): Promise<string>;
  /** Stops the gateway (SIGTERM) and reads back every event its queue holds, in `seq` order. */
  stopAndRead(): Promise<Event[]>;
  /** Stops the gateway and removes its data. */
  close(): Promise<void>;
}

/** Starts the bundled gateway `id` with `config` (YAML lines: sources, pipeline...) and no central. */
export async function startStandaloneGateway(id: string, config: string[]): Promise<StandaloneGateway> {
  buildGatewayBundle();
  const { dir, cleanup } = trackDir(mkdtempSync(path.join(tmpdir(), 'bench-gw-solo-')));
  // Nothing listens there: the forwarder backs off and the queue keeps everything.
  const deadLink = await writeOfflineCredentials(dir, id);
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    [
      `gateway: { id: ${id}, data_dir: ${dir} }`,
      `central: { endpoint: "${deadLink}", initial_backoff_secs: 5, max_backoff_secs: 30 }`,
      'http: { listen: "127.0.0.1:0" }',
      'log: { level: error }',
      ...config,
    ].join('\n'),
  );
  const [command, ...args] = gatewayCommand(file);
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: gatewayEnv() }));
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  const stop = () => stopChild(child, 30_000);
  let httpUrl: string;
  try {
    httpUrl = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${out}`);
        return /http: (http:\/\/\S+)\/healthz/.exec(out)?.[1];
      },
      { timeoutMs: 60_000, what: 'the gateway to start' },
    );
  } catch (error) {
    await stop();
    cleanup();
    throw error;
  }
  const ports: Record<string, Record<string, number>> = {};
  for (const m of out.matchAll(/source (\S+): \S+ (\w+) on [\d.]+:(\d+)/g))
    (ports[m[1]!] ??= {})[m[2]!] = Number(m[3]);

  let session: Promise<{ cookie: string; csrf: string }> | undefined;
  const login = async () => {
    // The first admin's password is printed once, at the first start (web-auth SPEC).
    const m = /username "([^"]+)", password (\S+)/.exec(out);
    if (!m) throw new Error('the gateway printed no first admin');
    const res = await fetch(`${httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: m[1], password: m[2] }),
    });
    if (res.status !== 200) throw new Error(`gateway login: ${res.status} ${await res.text()}`);
    const { csrf_token } = (await res.json()) as { csrf_token: string };
    return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: csrf_token };
  };

  return {
    child,
    pid: child.pid!,
    httpUrl,
    ports,
    async createToken(scopes) {
      session ??= login();
      const { cookie, csrf } = await session;
      const res = await fetch(`${httpUrl}/api/auth/tokens`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bench-${scopes.join('-')}-${Date.now()}`, scopes }),
      });
      if (res.status !== 201) throw new Error(`token: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async stopAndRead() {
      await stop();
      return readStoppedQueue(dir, id);
    },
    async close() {
      await stop();
      cleanup();
    },
  };
}
