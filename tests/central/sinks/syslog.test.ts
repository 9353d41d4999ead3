/**
 * The syslog/CEF sink against a real rsyslog (Debian `rsyslog`, imtcp on an ephemeral port,
 * omfile writing each message's MSG to a file), over TCP and over TLS (rsyslog's gtls driver):
 * every alert arrives once, its CEF payload byte-for-byte as formatted, with the hostile rule
 * title escaped as the CEF specification says. Alerts raised while rsyslog is not yet listening
 * are kept in the outbox and delivered once it is. Runs on PGlite.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { alertCef } from '../../../central/sinks/cef.ts';
import { createPgliteStore, type EventStore } from '../../../central/store/index.ts';
import { requireTool, waitFor } from '../../support/env.ts';
import { makeTestPki, requireRsyslogTls, type TestPki } from '../../support/tls.ts';
import { alertInput, startSinkHarness } from './harness.ts';

interface Rsyslog {
  port: number;
  lines(): string[];
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** rsyslogd with imtcp on `port` (0: an ephemeral one, read back from its port file). */
async function startRsyslog(tls?: TestPki, port = 0): Promise<Rsyslog> {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-rsyslog-'));
  const out = path.join(dir, 'out.log');
  const portFile = path.join(dir, 'port');
  const conf = [
    `global(workDirectory="${dir}"${
      tls
        ? ` defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${tls.caFile}"` +
          ` defaultNetstreamDriverCertFile="${tls.serverCert}" defaultNetstreamDriverKeyFile="${tls.serverKey}"`
        : ''
    })`,
    `module(load="imtcp"${tls ? ' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"' : ''})`,
    'template(name="msgonly" type="string" string="%msg%\\n")',
    `ruleset(name="in") { action(type="omfile" file="${out}" template="msgonly") }`,
    `input(type="imtcp" address="127.0.0.1" port="${port}"${port === 0 ? ` listenPortFileName="${portFile}"` : ''} ruleset="in")`,
  ].join('\n');
  writeFileSync(path.join(dir, 'rsyslog.conf'), conf);
  const child: ChildProcess = spawn(
    'rsyslogd',
    ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslog.pid')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const listening = await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${stderr}`);
      if (port !== 0) return (await canConnect(port)) ? port : undefined;
      const text = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      return /^\d+$/.test(text) ? Number(text) : undefined;
    },
    { what: 'rsyslogd listening' },
  );
  return {
    port: listening,
    lines: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('syslog CEF sink → real rsyslog', () => {
  let store: EventStore;
  before(async () => {
    store = await createPgliteStore();
    await store.init(new Date());
  });
  after(() => store?.close());

  for (const mode of ['tcp', 'tls'] as const) {
    it(`delivers each alert once over ${mode.toUpperCase()}, CEF escaped per the spec`, async (t: TestContext) => {
      if (!requireTool(t, 'rsyslogd', 'rsyslog')) return;
      if (mode === 'tls' && !requireRsyslogTls(t)) return;
      const pki = mode === 'tls' ? makeTestPki() : undefined;
      const rsyslog = await startRsyslog(pki);
      const sinkName = `soc-${mode}`;
      const harness = startSinkHarness(store, {
        [sinkName]: {
          type: 'syslog',
          endpoint: `127.0.0.1:${rsyslog.port}`,
          mode,
          hostname: 'central-1',
          ...(pki && { tls: { ca_file: pki.caFile } }),
          retry: { initial_backoff_secs: 0.05, max_backoff_secs: 0.2, poll_interval_secs: 0.2 },
        },
      });
      try {
        const raised = [];
        for (let i = 0; i < 5; i++) {
          const r = await harness.alerts.raise(alertInput(`rule-${mode}`, `plc=${i}\\|x`));
          raised.push(r.alert!);
        }
        await waitFor(() => (rsyslog.lines().length >= 5 ? true : undefined), { what: '5 lines in rsyslog' });
        // The receiver may log a line before the sink has recorded its delivery: wait for both.
        const outbox = await waitFor(
          async () => {
            const rows = await harness.outbox(sinkName);
            return rows.every((o) => o.status !== 'pending') ? rows : undefined;
          },
          { what: 'every outbox row settled' },
        );
        assert.deepEqual(
          outbox.map((o) => [o.alert_id, o.status]),
          raised.map((a) => [a.id, 'delivered']),
        );
        const expected = raised.map((a, i) => alertCef(a, outbox[i]!.idempotency_key));
        assert.deepEqual(rsyslog.lines(), expected);
        const first = rsyslog.lines()[0]!;
        // Header: pipe and backslash escaped, CR LF folded to a space (CEF header is one line).
        assert.ok(
          first.startsWith(
            `CEF:0|edge-siem|central|0.1|rule-${mode}|Write \\| to PLC \\\\ "x" a=b second line|8|`,
          ),
        );
        // Extension: '=' and '\' escaped, pipes left as they are.
        assert.ok(first.includes(' shost=plc\\=0\\\\|x '), first);
        assert.ok(first.includes(' cs1=T0836,T0855 '), first);
        assert.equal(await harness.count('sinkSent', sinkName), 5);
      } finally {
        await harness.stop();
        await rsyslog.stop();
      }
    });
  }

  it('keeps alerts raised while the receiver is down and delivers them when it is up', async (t) => {
    if (!requireTool(t, 'rsyslogd', 'rsyslog')) return;
    // A port nobody listens on yet: take one from rsyslog, stop it, start it again later on it.
    const probe = await startRsyslog();
    const port = probe.port;
    await probe.stop();
    const harness = startSinkHarness(store, {
      later: {
        type: 'syslog',
        endpoint: `127.0.0.1:${port}`,
        retry: { initial_backoff_secs: 0.05, max_backoff_secs: 0.3, poll_interval_secs: 0.2 },
      },
    });
    let rsyslog: Rsyslog | undefined;
    try {
      for (let i = 0; i < 3; i++) await harness.alerts.raise(alertInput('rule-later', `h${i}`));
      await waitFor(async () => ((await harness.count('sinkFailures', 'later')) >= 2 ? true : undefined), {
        what: 'failed attempts counted',
      });
      assert.ok((await harness.outbox('later')).every((o) => o.status === 'pending'));
      rsyslog = await startRsyslog(undefined, port);
      await waitFor(() => (rsyslog!.lines().length >= 3 ? true : undefined), {
        what: 'delivery after recovery',
      });
      assert.equal(rsyslog.lines().length, 3);
      assert.ok((await harness.outbox('later')).every((o) => o.status === 'delivered'));
    } finally {
      await harness.stop();
      await rsyslog?.stop();
    }
  });
});
