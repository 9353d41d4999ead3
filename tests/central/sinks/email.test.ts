/**
 * The e-mail sink against a real SMTP server in process (the npm `smtp-server` package, on
 * 127.0.0.1:0, with AUTH): each alert arrives as one message with its rule, entity and counts,
 * the idempotency key as Message-ID and header; a 451 reply is retried until it is accepted, a
 * 550 reply is a rejection. Runs on a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { IN_CI, waitFor } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { alertInput, startSinkHarness } from './harness.ts';

interface Mail {
  from: string;
  to: string[];
  data: string;
}

async function smtp(reply: () => number) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === 'central' && auth.password === 'smtp-pass')
        return callback(null, { user: 'central' });
      return callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (data += d));
      stream.on('end', () => {
        const code = reply();
        if (code !== 250) {
          const error = Object.assign(new Error(code === 451 ? 'try again later' : 'mailbox refused'), {
            responseCode: code,
          });
          return callback(error);
        }
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    mails,
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The Subject header, unfolded, its RFC 2047 Q-encoded words decoded. */
function subjectOf(data: string): string {
  const header = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(data)?.[1] ?? '';
  return header
    .replace(/\r\n[ \t]/g, ' ')
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, text: string) =>
      Buffer.from(
        text
          .replace(/_/g, ' ')
          .replace(/=([0-9A-F]{2})/gi, (_h, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        'latin1',
      ).toString('utf8'),
    );
}

const db = await createTempDatabase();

describe('e-mail sink → real SMTP server (PostgreSQL)', { skip: 'error' in db && !IN_CI && db.error }, () => {
  let store: EventStore;
  before(async () => {
    if ('error' in db) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
    store = await createPostgresStore({ connectionString: db.url, poolMax: 4 });
    await store.init(new Date());
  });
  after(async () => {
    await store?.close();
    if (!('error' in db)) await db.drop();
  });

  it('sends one message per alert; retries a 451, rejects a 550', async () => {
    const replies = [451, 250, 550];
    const server = await smtp(() => replies.shift() ?? 250);
    const harness = startSinkHarness(
      store,
      {
        mail: {
          type: 'email',
          endpoint: `127.0.0.1:${server.port}`,
          user: 'central',
          secret_env: 'SMTP_PASS',
          from: 'siem@plant.example',
          to: ['soc@plant.example', 'oncall@plant.example'],
          retry: { initial_backoff_secs: 0.05, max_backoff_secs: 0.2, poll_interval_secs: 0.1 },
        },
      },
      { SMTP_PASS: 'smtp-pass' },
    );
    try {
      const first = (await harness.alerts.raise(alertInput('r-mail', 'plc-7'))).alert!;
      await waitFor(
        async () => ((await harness.outbox('mail'))[0]?.status === 'delivered' ? true : undefined),
        {
          what: 'first alert delivered after a 451',
        },
      );
      const second = (await harness.alerts.raise(alertInput('r-mail', 'plc-8'))).alert!;
      await waitFor(
        async () => ((await harness.outbox('mail'))[1]?.status === 'rejected' ? true : undefined),
        {
          what: 'second alert rejected by a 550',
        },
      );
      const rows = await harness.outbox('mail');
      assert.deepEqual(
        rows.map((r) => [r.alert_id, r.status, r.attempts]),
        [
          [first.id, 'delivered', 2],
          [second.id, 'rejected', 1],
        ],
      );
      assert.equal(server.mails.length, 1);
      const mail = server.mails[0]!;
      assert.equal(mail.from, 'siem@plant.example');
      assert.deepEqual(mail.to, ['soc@plant.example', 'oncall@plant.example']);
      assert.match(mail.data, new RegExp(`Message-ID: <${rows[0]!.idempotency_key}@siem-central>`, 'i'));
      assert.match(mail.data, new RegExp(`X-Siem-Idempotency-Key: ${rows[0]!.idempotency_key}`));
      assert.equal(subjectOf(mail.data), '[SIEM] [error] Write | to PLC \\ "x" a=b second line on plc-7');
      assert.match(mail.data, /Host:\s+plc-7/);
      assert.match(mail.data, /ATT&CK:\s+T0836, T0855/);
      assert.equal(await harness.count('sinkFailures', 'mail'), 2);
      assert.equal(await harness.count('sinkRejected', 'mail'), 1);
    } finally {
      await harness.stop();
      await server.close();
    }
  });
});
