/**
 * Debian's rsyslog relaying to the gateway's RELP source with omrelp (librelp): over plain TCP,
 * and over mutual TLS (omrelp tls="on", checking the gateway's certificate name against the test
 * CA and presenting its own client certificate, which the gateway requires). Every line arrives
 * once, parsed as syslog, marked as having come over RELP. An rsyslog whose client certificate
 * comes from another CA gets nothing through.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relpSourceSchema } from '../../gateway/sources/relp/config.ts';
import { createRelpSource } from '../../gateway/sources/relp/index.ts';
import { requireTool, waitFor } from '../support/env.ts';
import { makeTestPki } from '../support/tls.ts';
import { portOf, recordingContext } from '../gateway/sources/support.ts';
import { type RelpTls, requireRsyslogRelp, sendLines, startRsyslogRelay } from './support/rsyslog-relp.ts';

const N = 2000;

async function relay(tlsServer: Record<string, string> | undefined, clientTls: RelpTls | undefined) {
  const ctx = recordingContext();
  const source = createRelpSource(
    'relp_in',
    relpSourceSchema.parse({ type: 'relp', listen: '127.0.0.1:0', ...(tlsServer ? { tls: tlsServer } : {}) }),
    ctx,
  );
  await source.start();
  const rsyslog = await startRsyslogRelay({
    target: { host: '127.0.0.1', port: portOf(source, tlsServer ? 'tls' : 'tcp') },
    windowSize: 1024,
    tls: clientTls,
  });
  return { ctx, source, rsyslog };
}

const numbered = (tag: string) =>
  (function* () {
    for (let i = 0; i < N; i++) yield `<38>Dec  5 12:00:00 hmi-2 ${tag}: relp line ${i}`;
  })();

test(
  `rsyslog omrelp over TCP: ${N} lines, each once, as syslog over RELP`,
  { timeout: 90_000 },
  async (t) => {
    if (!requireRsyslogRelp(t)) return;
    const { ctx, source, rsyslog } = await relay(undefined, undefined);
    t.after(async () => {
      await rsyslog.stop();
      await source.stop();
    });
    await sendLines(rsyslog.tcpPort, numbered('plain'));
    const got = () => ctx.events.filter((e) => e.message.startsWith('relp line '));
    await waitFor(() => (got().length >= N ? true : undefined), {
      timeoutMs: 60_000,
      what: `${N} lines; rsyslog said: ${rsyslog.stderr()}`,
    });
    const seqs = new Set(got().map((e) => e.message));
    assert.equal(seqs.size, N);
    assert.equal(got().length, N);
    const e = got()[0]!;
    assert.deepEqual(
      [e.host, e.fields.program, e.fields.transport, e.src?.ip],
      ['hmi-2', 'plain', 'relp', '127.0.0.1'],
    );
  },
);

test(
  `rsyslog omrelp over mutual TLS (tls="on"): ${N} lines arrive; another CA's client gets nothing through`,
  { timeout: 120_000 },
  async (t) => {
    if (!requireRsyslogRelp(t) || !requireTool(t, 'openssl', 'openssl')) return;
    const pki = makeTestPki();
    const serverTls = { cert_file: pki.serverCert, key_file: pki.serverKey, ca_file: pki.caFile };
    const good = await relay(serverTls, {
      caFile: pki.caFile,
      certFile: pki.clientCert,
      keyFile: pki.clientKey,
      permittedPeer: 'localhost',
    });
    t.after(async () => {
      await good.rsyslog.stop();
      await good.source.stop();
    });
    await sendLines(good.rsyslog.tcpPort, numbered('tls'));
    const got = () => good.ctx.events.filter((e) => e.message.startsWith('relp line '));
    await waitFor(() => (got().length >= N ? true : undefined), {
      timeoutMs: 60_000,
      what: `${N} lines over TLS; rsyslog said: ${good.rsyslog.stderr()}`,
    });
    assert.equal(new Set(got().map((e) => e.message)).size, N);
    assert.equal(got()[0]!.fields.transport, 'relp+tls');

    const rogue = await relay(serverTls, {
      caFile: pki.caFile,
      certFile: pki.otherCaFile,
      keyFile: pki.otherCaFile.replace(/\.pem$/, '.key'),
      permittedPeer: 'localhost',
    });
    t.after(async () => {
      await rogue.rsyslog.stop();
      await rogue.source.stop();
    });
    await sendLines(rogue.rsyslog.tcpPort, ['<38>Dec  5 12:00:00 rogue x: attempt']);
    await waitFor(
      async () => {
        const v = (await rogue.ctx.metrics.errors.get()).values.find(
          (x) => x.labels.code === 'tls_handshake',
        );
        return v && v.value > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, what: `a refused handshake; rsyslog said: ${rogue.rsyslog.stderr()}` },
    );
    assert.equal(rogue.ctx.events.filter((e) => e.message.includes('attempt')).length, 0);
  },
);
