/**
 * What the two latency benchmarks (latency.bench.ts: to central and its stream; dashboard.bench.ts:
 * to the row on the SOC page) share: the bundled gateway in its own process with the shipped rules
 * plus one probe rule (a successful SSH login on a host named `<prefix>N`, so each probe raises a
 * new alert), 1,000 events/s of realistic background syslog over one TCP connection, and a second
 * connection the probes are sent on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../support/env.ts';
import type { TestCentral } from '../../support/stack.ts';
import { startGatewayProcess } from './gateway-process.ts';
import { trackDir } from './procs.ts';
import { syslogLines } from './syslog-lines.ts';

/** The p-th percentile of ascending values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** RFC 3164 line as sshd logs a successful login, from probe host `host`. */
export function probeLine(host: string, i: number): string {
  const d = new Date();
  const month = d.toUTCString().slice(8, 11);
  return `<86>${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${host} sshd[4242]: Accepted password for ops from 10.30.${i % 250}.9 port 50022 ssh2\n`;
}

function probeRule(prefix: string, id: string): string {
  return `title: Bench probe login (${prefix})
id: ${id}
status: test
description: A successful SSH login on a probe host (a latency benchmark's marker).
logsource: { product: syslog }
detection:
  selection: { action: syslog.sshd.auth_success, host|startswith: ${prefix} }
  condition: selection
level: high
tags: [attack.t0859]
`;
}

export interface ProbeGateway {
  /** The connection probes are written to. */
  device: net.Socket;
  stop(): Promise<void>;
}

export async function startProbeGateway(
  c: TestCentral,
  gatewayId: string,
  { prefix, ruleId }: { prefix: string; ruleId: string },
): Promise<ProbeGateway> {
  const rules = trackDir(mkdtempSync(path.join(tmpdir(), 'bench-probe-rules-')));
  writeFileSync(path.join(rules.dir, 'probe.yml'), probeRule(prefix, ruleId));
  const sockets: net.Socket[] = [];
  let background: NodeJS.Timeout | undefined;
  let gw: Awaited<ReturnType<typeof startGatewayProcess>> | undefined;
  const stop = async () => {
    if (background) clearInterval(background);
    for (const s of sockets) s.destroy();
    await gw?.stop();
    rules.cleanup();
  };
  try {
    gw = await startGatewayProcess(c, gatewayId, {
      config: [
        'sources: { tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:0" } }',
        `detection: { rules_dirs: ["${path.join(REPO_ROOT, 'rules', 'ics')}", "${rules.dir}"] }`,
      ],
    });
    const port = gw.ports.tcp!.tcp!;
    const connect = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.setNoDelay(true);
        s.once('error', reject);
        sockets.push(s);
      });
    const load = await connect();
    const device = await connect();
    // 1,000 events/s of background: the benchmarks' realistic syslog mix, 10 lines every 10 ms.
    const lines = syslogLines(1000);
    let n = 0;
    background = setInterval(() => {
      let chunk = '';
      for (let i = 0; i < 10; i += 1) chunk += lines[n++ % lines.length];
      load.write(chunk);
    }, 10);
    return { device, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
