/**
 * Issue 15 item 4: a peer that has not proved its key must cost central little memory. Central
 * runs as a child process (`siem-central run`, PGlite in memory) so that its own RSS can be read
 * from /proc/<pid>/status; 200 raw TCP peers each open the link WebSocket and start one large
 * frame (a header announcing 16 MiB, then 1 MiB of it) without ever saying hello. Central's RSS
 * must grow by less than 50 MB while they are connected, and be back near where it started once
 * they are gone. Before the fix central buffered each frame up to 16 MiB (here 1 MiB each:
 * about 200 MB more), because the WebSocket layer accepted full-size frames from anyone.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LINK_MAX_MESSAGE_BYTES } from '../../protocols/link/codec.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';
import { rawClient } from '../support/link-client.ts';

const PEERS = 200;
const SENT_BYTES = 1024 * 1024;
const MB = 1024 * 1024;

/** Central's resident set size in bytes (VmRSS of /proc/<pid>/status). */
function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m);
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) * 1024;
}

/**
 * One hostile peer: upgrades to WebSocket, then sends a masked text frame header announcing
 * LINK_MAX_MESSAGE_BYTES (the most the link allows) and `payload` of it. Resolves once the bytes
 * are written (or central has cut it off); `closed` resolves when central closes the socket.
 */
async function hostilePeer(port: number, linkPath: string, payload: Buffer) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.resume();
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed before the upgrade')));
    socket.write(
      `GET ${linkPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  // RFC 6455 §5.2: FIN + text opcode, MASK bit + 64-bit length, masking key, then payload.
  const header = Buffer.alloc(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(LINK_MAX_MESSAGE_BYTES), 2);
  randomBytes(4).copy(header, 10);
  await new Promise<void>((resolve) => {
    socket.write(header);
    socket.write(payload, () => resolve());
    socket.once('close', () => resolve());
  });
  return { closed, destroy: () => socket.destroy() };
}

describe('link memory before authentication (issue 15 item 4)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-preauth-'));
  let child: ChildProcess;
  let port = 0;
  const linkPath = '/link';

  before(async () => {
    const config = path.join(dir, 'central.yaml');
    // The pending-connection caps are raised so that all 200 peers get in: this measures the
    // frame cap, not the connection cap (which would turn most of them away at once).
    writeFileSync(
      config,
      [
        'http: { listen: "127.0.0.1:0" }',
        'storage: { type: pglite }',
        'link: { hello_timeout_secs: 3, max_pending_connections: 256, max_pending_connections_per_address: 256 }',
        'log: { level: info }',
      ].join('\n'),
    );
    child = spawn(process.execPath, ['bin/siem-central.js', 'run', '--config', config], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const url = await waitFor(() => out.match(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/)?.[1], {
      what: 'central to start',
      timeoutMs: 60_000,
    });
    port = Number(url);
  });
  after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${PEERS} unauthenticated peers each sending a large frame cost less than 50 MB, given back after`, async (t) => {
    const pid = child.pid!;
    // Warm up the paths the attack takes (HTTP upgrade, a link session, its close).
    const warm = await rawClient(`ws://127.0.0.1:${port}${linkPath}`);
    await warm.next('challenge');
    warm.close();
    await warm.closed;
    const baseline = rss(pid);

    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
    const payload = randomBytes(SENT_BYTES);
    let peers: Awaited<ReturnType<typeof hostilePeer>>[] = [];
    try {
      peers = await Promise.all(Array.from({ length: PEERS }, () => hostilePeer(port, linkPath, payload)));
      // Central closes each of them (at once with the fix; at the hello timeout without it).
      await Promise.all(peers.map((p) => p.closed));
      peak = Math.max(peak, rss(pid));
    } finally {
      clearInterval(sampler);
      for (const p of peers) p.destroy();
    }
    const grew = peak - baseline;
    // After: central's RSS settles back within 50 MB of where it started.
    const settled = await waitFor(
      () => {
        const now = rss(pid);
        return now - baseline < 50 * MB ? now : undefined;
      },
      { what: "central's RSS to come back", timeoutMs: 20_000 },
    ).catch(() => rss(pid));
    t.diagnostic(
      `central RSS: before ${(baseline / MB).toFixed(1)} MB, peak during +${(grew / MB).toFixed(1)} MB, ` +
        `after ${((settled - baseline) / MB).toFixed(1)} MB over the start`,
    );
    assert.ok(
      grew < 50 * MB,
      `central grew by ${(grew / MB).toFixed(1)} MB for ${PEERS} unauthenticated peers`,
    );
    assert.ok(
      settled - baseline < 50 * MB,
      `central kept ${((settled - baseline) / MB).toFixed(1)} MB after`,
    );
  });
});
