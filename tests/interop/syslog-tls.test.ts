/**
 * The syslog TLS listener (RFC 5425) with a real TLS client: `openssl s_client` (Debian openssl)
 * sends two octet-counted messages (RFC 5425 §4.3) over TLS to the gateway's source, using a
 * certificate made by the `openssl` command in the test. Proves the handshake, the framing over
 * TLS and that each message becomes a `syslog.message` event with transport `tls`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { syslogSourceSchema } from '../../gateway/sources/syslog/config.ts';
import { createSyslogSource } from '../../gateway/sources/syslog/index.ts';
import { requireTool, waitFor } from '../support/env.ts';
import { collectingContext } from './support/modbus.ts';

test('openssl s_client sends RFC 5425 frames over TLS to the syslog source', async (t) => {
  if (!requireTool(t, 'openssl', 'openssl')) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'syslog-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const ctx = collectingContext();
  const config = syslogSourceSchema.parse({
    type: 'syslog',
    mode: 'tls',
    listen: '127.0.0.1:0',
    tls: { cert_file: cert, key_file: key },
  });
  const source = createSyslogSource('syslog_tls', config, ctx);
  await source.start();
  t.after(() => source.stop());
  const port = source.addresses()[0]!.port;
  const messages = [
    '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - su root failed on /dev/pts/8',
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
  ];
  const payload = messages.map((m) => `${Buffer.byteLength(m)} ${m}`).join('');
  const client = spawn('openssl', ['s_client', '-quiet', '-connect', `127.0.0.1:${port}`, '-CAfile', cert], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  client.stdin.write(payload);
  const events = await waitFor(() => (ctx.events.length >= 2 ? ctx.events : undefined), {
    what: 'two TLS syslog events',
  });
  client.stdin.end();
  client.kill();
  assert.deepEqual(
    events.map((e) => [e.action, e.host, e.fields.transport, e.fields.app_name]),
    [
      ['syslog.message', 'mymachine.example.com', 'tls', 'su'],
      ['syslog.message', '192.0.2.1', 'tls', 'myproc'],
    ],
  );
  assert.equal(events[0]!.message, 'su root failed on /dev/pts/8');
});
