/**
 * A real rsyslog (Debian rsyslog + rsyslog-gnutls) forwarding to the gateway's syslog TLS
 * listener (RFC 5425): rsyslogd runs in the foreground with its own config, pid file and work
 * directory in a temp dir, takes messages on an imudp port and forwards them with omfwd over the
 * gtls stream driver, octet-counted, in RFC 5424 (RSYSLOG_SyslogProtocol23Format), checking the
 * gateway's certificate name against the test CA and presenting its own client certificate,
 * which the gateway requires (mutual TLS). Proves the TLS handshake both ways with a third-party
 * TLS stack (GnuTLS), the framing, and that forwarded sshd and CEF lines get their specific
 * actions on arrival. A second rsyslog whose client certificate comes from another CA is refused.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { syslogSourceSchema } from '../../gateway/sources/syslog/config.ts';
import { createSyslogSource } from '../../gateway/sources/syslog/index.ts';
import { waitFor, whichTool } from '../support/env.ts';
import { makeTestPki, requireRsyslogTls, type TestPki } from '../support/tls.ts';
import { collectingContext, freePort } from './support/modbus.ts';

// Debian's, or the copy unpacked beside syslog-ng (tests/setup/install-peers.sh), run through PATH.
const RSYSLOGD = whichTool('rsyslogd') ?? '/usr/sbin/rsyslogd';

/** rsyslogd and its GnuTLS stream driver (a module file, not a command). */
const requirePeers = (t: TestContext) => requireRsyslogTls(t, RSYSLOGD);

interface Rsyslog {
  udpPort: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** rsyslogd -n -f CONF -i PIDFILE, forwarding what arrives on its UDP port to the gateway over TLS. */
async function startRsyslog(
  pki: TestPki,
  name: string,
  gatewayPort: number,
  cert: { file: string; key: string },
) {
  const dir = path.join(pki.dir, name);
  mkdirSync(path.join(dir, 'work'), { recursive: true });
  const udpPort = await freePort();
  const conf = path.join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(
  workDirectory="${dir}/work"
  defaultNetstreamDriverCAFile="${pki.caFile}"
  defaultNetstreamDriverCertFile="${cert.file}"
  defaultNetstreamDriverKeyFile="${cert.key}"
)
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
action(type="omfwd" target="127.0.0.1" port="${gatewayPort}" protocol="tcp"
  streamDriver="gtls" streamDriverMode="1" streamDriverAuthMode="x509/name"
  streamDriverPermittedPeers="localhost"
  tcp_framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
  action.resumeRetryCount="-1" action.resumeInterval="1")
`,
  );
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (err += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return {
    udpPort,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  } satisfies Rsyslog;
}

function sendUdp(port: number, line: string): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.send(line, port, '127.0.0.1', () => (s.close(), resolve())));
}

test('rsyslog forwards over mutual TLS (gtls) to the gateway; sshd and CEF lines are parsed', async (t) => {
  if (!requirePeers(t)) return;
  const pki = makeTestPki();
  const ctx = collectingContext();
  const source = createSyslogSource(
    'syslog_tls',
    syslogSourceSchema.parse({
      type: 'syslog',
      mode: 'tls',
      listen: '127.0.0.1:0',
      tls: { cert_file: pki.serverCert, key_file: pki.serverKey, ca_file: pki.caFile },
    }),
    ctx,
  );
  await source.start();
  t.after(() => source.stop());
  const port = source.addresses()[0]!.port;
  const rsyslog = await startRsyslog(pki, 'good', port, { file: pki.clientCert, key: pki.clientKey });
  t.after(() => rsyslog.stop());

  // rsyslog starts asynchronously and connects on the first message: probe until one arrives.
  let n = 0;
  await waitFor(
    async () => {
      await sendUdp(rsyslog.udpPort, `<14>Mar  1 11:59:58 probe-host probe: probe ${++n}`);
      return ctx.events.some((e) => e.message.includes('probe ')) ? true : undefined;
    },
    { what: 'a probe through rsyslog', timeoutMs: 20_000, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; rsyslogd said: ${rsyslog.stderr()}`);
  });
  await sendUdp(
    rsyslog.udpPort,
    '<38>Mar  1 11:59:58 hmi-2 sshd[1204]: Failed password for invalid user admin from 203.0.113.9 port 50122 ssh2',
  );
  await sendUdp(
    rsyslog.udpPort,
    '<132>Mar  1 11:59:59 ids-1 CEF:0|Vendor|OT-IDS|2.0|m:7|Modbus write to PLC|High|src=10.20.0.66 dst=10.20.0.5 dpt=502',
  );
  const ssh = await waitFor(() => ctx.events.find((e) => e.action === 'syslog.sshd.auth_failure'), {
    what: 'the sshd line',
  });
  assert.deepEqual(
    [ssh.host, ssh.fields.transport, ssh.fields.format, ssh.fields['user.name'], ssh.src?.ip, ssh.severity],
    ['hmi-2', 'tls', 'rfc5424', 'admin', '203.0.113.9', 4],
  );
  assert.equal(ssh.fields['log.source.ip'], '127.0.0.1', 'the sender (rsyslog) is kept as log.source');
  const cef = await waitFor(() => ctx.events.find((e) => e.action === 'syslog.cef'), {
    what: 'the CEF line',
  });
  assert.deepEqual(
    [cef.host, cef.fields['cef.name'], cef.severity, cef.src?.ip, cef.dst],
    ['ids-1', 'Modbus write to PLC', 3, '10.20.0.66', { ip: '10.20.0.5', port: 502 }],
  );
});

test('rsyslog with a client certificate from another CA is refused by the gateway', async (t) => {
  if (!requirePeers(t)) return;
  const pki = makeTestPki();
  const ctx = collectingContext();
  const source = createSyslogSource(
    'syslog_tls',
    syslogSourceSchema.parse({
      type: 'syslog',
      mode: 'tls',
      listen: '127.0.0.1:0',
      tls: { cert_file: pki.serverCert, key_file: pki.serverKey, ca_file: pki.caFile },
    }),
    ctx,
  );
  await source.start();
  t.after(() => source.stop());
  // other-ca.key signs nothing the gateway trusts: use it (self-signed CA cert) as the client cert.
  const rogue = await startRsyslog(pki, 'rogue', source.addresses()[0]!.port, {
    file: pki.otherCaFile,
    key: pki.otherCaFile.replace(/\.pem$/, '.key'),
  });
  t.after(() => rogue.stop());
  // The gateway counts the refused handshake; rsyslog keeps retrying, nothing gets through.
  let n = 0;
  await waitFor(
    async () => {
      await sendUdp(rogue.udpPort, `<14>Mar  1 11:59:58 rogue app: attempt ${++n}`);
      const refused = (await ctx.metrics.errors.get()).values.find((v) => v.labels.code === 'tls_handshake');
      return refused && refused.value > 0 ? true : undefined;
    },
    { what: 'a refused TLS handshake', timeoutMs: 20_000, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; rsyslogd said: ${rogue.stderr()}`);
  });
  assert.equal(ctx.events.length, 0, 'nothing from the rogue sender became an event');
});
