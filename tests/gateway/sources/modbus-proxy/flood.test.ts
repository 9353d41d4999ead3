/**
 * Issue 15 item 6, end to end: the real `siem-gateway run` process with a Modbus proxy source in
 * front of a PLC, and one raw socket pumping 4 MiB of pipelined FC 3 requests (349,525 of them).
 * Before flow control the proxy read everything at once and held ~350,000 events in the heap
 * (+260 MiB). Now the gateway's resident memory, sampled from /proc while the flood runs, must stay
 * within 50 MB of what it was before, every request must be forwarded and answered, and the
 * gateway's own counters must show one event per request and per response (a drop would be
 * counted in siem_gateway_events_dropped_total). Central is down: the events stay in the queue.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS } from '../../../../firmware-shims/build/runtime.ts';
import { generateGatewayKeys } from '../../../../protocols/link/auth.ts';
import { freePort, REPO_ROOT, waitFor } from '../../../support/env.ts';
import { floodRequests, type RecordingPlc, startRecordingPlc } from './plc.ts';

const MIB = 4;
const REQUESTS = Math.floor((MIB * 1024 * 1024) / 12);
const WARMUP = 2000;
const MAX_GROWTH_BYTES = 50 * 1024 * 1024;

let child: ChildProcess | undefined;
let plc: RecordingPlc | undefined;
let dir: string | undefined;
after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  await plc?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Anonymous resident memory (heap, malloc): LevelDB's mapped files are page cache, not ours. */
const anonRss = (pid: number) => {
  try {
    const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) * 1024;
  } catch {
    return 0; // the process is gone: pump() reports how it died
  }
};

/** Floods `count` requests on a new connection and waits for every answer (or the gateway's death). */
async function pump(port: number, count: number, died: Promise<never>): Promise<void> {
  const flood = await floodRequests(port, count);
  const answered = waitFor(() => (flood.answers() === count ? true : undefined), {
    what: `${count} answers`,
    timeoutMs: 540_000,
    intervalMs: 200,
  });
  await Promise.race([answered, died]);
  flood.socket.destroy();
}

/** Sum of one metric's samples whose labels contain `labels` (Prometheus text format). */
async function metric(httpUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm')))
    if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}

test(
  `${MIB} MiB of FC 3 requests on one connection: gateway memory stays bounded, every request counted`,
  { timeout: 600_000 },
  async () => {
    plc = await startRecordingPlc({ record: false });
    dir = mkdtempSync(path.join(tmpdir(), 'siem-modbus-flood-'));
    const keys = generateGatewayKeys();
    writeFileSync(
      path.join(dir, 'credentials.json'),
      JSON.stringify({
        gateway_id: 'gw-flood',
        private_key: keys.privateKey,
        public_key: keys.publicKey,
        central: 'http://127.0.0.1:9',
        enrolled_at: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gateway: { id: gw-flood, data_dir: ${dir} }`,
        'sources:',
        `  plc_proxy: { type: modbus_proxy, listen: "127.0.0.1:0", endpoint: "127.0.0.1:${plc.port}" }`,
        `central: { endpoint: "ws://127.0.0.1:${await freePort()}/link", max_backoff_secs: 5 }`,
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );
    // Run as the installed wrapper runs it (64 MB old generation, small semi-spaces, two malloc
    // arenas): what is measured is what ships.
    const proc = spawn(
      process.execPath,
      [...GATEWAY_NODE_FLAGS, path.join(REPO_ROOT, 'bin', 'siem-gateway.js'), 'run', '--config', config],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...GATEWAY_ENV } },
    );
    child = proc;
    const died = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) =>
        reject(new Error(`the gateway died (exit ${code}, signal ${signal})`)),
      ),
    );
    died.catch(() => {}); // observed through pump()
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    const httpUrl = await waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}: ${out}`);
        return /http: (http:\/\/\S+)\/healthz/.exec(out)?.[1];
      },
      { timeoutMs: 60_000, what: 'the gateway to start' },
    );
    const port = Number(/source plc_proxy: modbus_proxy tcp on [\d.]+:(\d+)/.exec(out)![1]);

    // Warm up (JIT, first LevelDB writes), then take the baseline.
    await pump(port, WARMUP, died);
    const baseline = anonRss(proc.pid!);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, anonRss(proc.pid!))), 100);
    // Phase 1: 1 MiB. Phase 2: 4 MiB more. Bounded means the second, four times larger, costs
    // (almost) nothing beyond the first: the proxy holds one socket read, a few hundred events
    // and max_outstanding_requests requests whatever the master sends.
    const small = Math.floor((1024 * 1024) / 12);
    await pump(port, small, died);
    const afterSmall = peak;
    const started = Date.now();
    await pump(port, REQUESTS, died);
    const seconds = (Date.now() - started) / 1000;
    const total = 2 * (WARMUP + small + REQUESTS);
    const received = await waitFor(
      async () => {
        const n = await metric(httpUrl, 'siem_gateway_events_received_total', 'source="plc_proxy"');
        return n >= total ? n : undefined;
      },
      { what: 'the gateway to count every event', timeoutMs: 60_000, intervalMs: 200 },
    );
    clearInterval(sampler);
    peak = Math.max(peak, anonRss(proc.pid!));
    const dropped = await metric(httpUrl, 'siem_gateway_events_dropped_total', 'source="plc_proxy"');
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log(
      `# ${REQUESTS} requests in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)}/s); anonymous RSS ${mb(baseline)} MB, peak ${mb(afterSmall)} MB after 1 MiB (+${mb(afterSmall - baseline)}), ${mb(peak)} MB after ${MIB} MiB more (+${mb(peak - afterSmall)}); events received ${received}, dropped ${dropped}`,
    );
    assert.equal(plc.requests, WARMUP + small + REQUESTS, 'every request reached the PLC');
    assert.equal(received, total, 'one event per request and per response, counted by the gateway');
    assert.ok(peak - baseline < MAX_GROWTH_BYTES, `anonymous RSS grew by ${mb(peak - baseline)} MB`);
  },
);
