/**
 * A real rsyslog relay speaking RELP (Debian rsyslog + rsyslog-relp): rsyslogd in the foreground
 * with its own config, pid file and work directory in a temp dir, taking lines on an imtcp port
 * (LF-framed) and forwarding them with omrelp to a target, retrying for ever with an in-memory
 * action queue large enough for the test. Optionally over TLS (omrelp tls="on"), or with imrelp
 * listening instead (the benchmark's peer: omrelp → imrelp → a file).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { missingPackage, skipMissing } from '../../support/env.ts';
import { findRsyslog, rsyslogArgs, type RsyslogInstall } from '../../support/rsyslog.ts';
import { freePort } from './modbus.ts';

/** rsyslogd with omrelp, imrelp and the gtls driver (rsyslog, rsyslog-relp, rsyslog-gnutls), or a skip. */
export function requireRsyslogRelp(t: TestContext): boolean {
  if (findRsyslog(['omrelp.so', 'imrelp.so'])) return true;
  skipMissing(
    t,
    missingPackage(
      'rsyslogd with omrelp.so (rsyslog RELP)',
      'rsyslog-relp (with rsyslog; npm run test:setup unpacks them when syslog-ng is installed)',
    ),
  );
  return false;
}

export interface RelpTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The name the gateway's certificate must carry. */
  permittedPeer: string;
}

export interface RsyslogRelay {
  /** The imtcp port taking LF-framed lines. */
  tcpPort: number;
  dir: string;
  stderr(): string;
  stop(): Promise<void>;
}

export interface RelayOptions {
  target: { host: string; port: number };
  windowSize?: number;
  tls?: RelpTls;
  /** Extra rsyslog config (e.g. an imrelp input for the benchmark). */
  extra?: string;
  /** Instead of omrelp: a plain rsyslog with only `extra`. */
  noForward?: boolean;
}

function spawnRsyslog(dir: string, conf: string) {
  const install: RsyslogInstall | undefined = findRsyslog(['omrelp.so', 'imrelp.so']);
  if (!install) throw new Error('rsyslogd with omrelp not found (requireRsyslogRelp first)');
  const child: ChildProcess = spawn(
    install.rsyslogd,
    rsyslogArgs(install, conf, path.join(dir, 'rsyslogd.pid')),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  return { child, stderr: () => err };
}

export async function startRsyslogRelay(options: RelayOptions): Promise<RsyslogRelay & { pid: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-relp-'));
  mkdirSync(path.join(dir, 'work'), { recursive: true });
  const tcpPort = await freePort();
  const t = options.tls;
  const tlsParams = t
    ? `tls="on" tls.caCert="${t.caFile}" tls.myCert="${t.certFile}" tls.myPrivKey="${t.keyFile}" tls.authMode="name" tls.permittedPeer=["${t.permittedPeer}"]`
    : '';
  const forward = options.noForward
    ? ''
    : `action(type="omrelp" target="${options.target.host}" port="${options.target.port}"
  windowSize="${options.windowSize ?? 128}" timeout="30" conn.timeout="5" ${tlsParams}
  template="RSYSLOG_ForwardFormat"
  action.resumeRetryCount="-1" action.resumeInterval="1"
  queue.type="LinkedList" queue.size="500000" queue.dequeueBatchSize="512")
`;
  const conf = path.join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${dir}/work" maxMessageSize="64k")
module(load="imtcp")
module(load="omrelp")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="fwd")
ruleset(name="fwd" queue.type="LinkedList" queue.size="500000") {
${forward}}
${options.extra ?? ''}
`,
  );
  const { child, stderr } = spawnRsyslog(dir, conf);
  await waitListening(tcpPort, stderr);
  return {
    tcpPort,
    dir,
    pid: child.pid ?? 0,
    stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Waits until something accepts connections on `port` (rsyslogd starts asynchronously). */
export async function waitListening(port: number, stderr: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port}; rsyslogd said: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Writes `lines` (LF-framed) to rsyslog's imtcp port, resolving once written and closed. */
export function sendLines(port: number, lines: Iterable<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', async () => {
      let buf: string[] = [];
      for (const line of lines) {
        buf.push(line);
        if (buf.length >= 1000) {
          if (!s.write(`${buf.join('\n')}\n`)) await new Promise((r) => s.once('drain', r));
          buf = [];
        }
      }
      if (buf.length > 0) s.write(`${buf.join('\n')}\n`);
      s.end(() => resolve());
    });
    s.on('error', reject);
  });
}

export { freePort };
