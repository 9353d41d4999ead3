/**
 * A scheduled report delivered for real, on PGlite seeded with a known day: an SMTP server in the
 * test (the npm `smtp-server`, STARTTLS with a certificate of the test CA, AUTH) receives one
 * message with the HTML, the Chromium-printed PDF and the CSV attached, over TLS; an HTTPS webhook
 * receiver receives the report signed like the webhook sink (HMAC over "<timestamp>.<body>") with
 * its CSV and PDF. The address guard refuses a loopback receiver unless allowed, and link-local
 * (cloud metadata) addresses always; the refusal is kept with the report.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createLogger } from '../../../central/log.ts';
import { createReports } from '../../../central/reports/index.ts';
import { webhookSignature } from '../../../central/sinks/webhook.ts';
import { createPgliteStore, type EventStore } from '../../../central/store/index.ts';
import { CHROMIUM_PATH } from '../../support/browser.ts';
import { IN_CI, missingPackage, requireTool, skipMissing, skipUnmet } from '../../support/env.ts';
import { makeTestPki, type TestPki } from '../../support/tls.ts';
import { DAY, EXPECTED, SITES, seedReportDay, T0 } from './seed.ts';

interface Mail {
  secure: boolean;
  user: string | undefined;
  to: string[];
  data: string;
}

/** The attachments of a MIME message: filename → decoded bytes (base64 or quoted-printable). */
function attachments(data: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const boundaries = [...data.matchAll(/boundary="?([^";\r\n]+)"?/g)].map((m) => m[1]!);
  for (const boundary of boundaries) {
    for (const part of data.split(`--${boundary}`)) {
      const split = part.indexOf('\r\n\r\n');
      if (split < 0) continue;
      const head = part.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
      const name = /filename="?([^";\r\n]+)"?/i.exec(head)?.[1];
      if (!name || !/content-disposition:\s*attachment/i.test(head)) continue;
      const body = part.slice(split + 4);
      const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
      out.set(
        name,
        encoding === 'base64'
          ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
          : encoding === 'quoted-printable'
            ? Buffer.from(
                body
                  .replace(/=\r\n/g, '')
                  .replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
                'latin1',
              )
            : Buffer.from(body, 'utf8'),
      );
    }
  }
  return out;
}

describe('report delivery: e-mail over STARTTLS, signed HTTPS webhook (PGlite)', () => {
  let store: EventStore;
  let pki: TestPki;
  let smtp: SMTPServer;
  let smtpPort: number;
  let hook: Server;
  let hookPort: number;
  const mails: Mail[] = [];
  const posts: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  let ready = false;
  /** Replies 451 (try again later) to the next message when set. */
  let refuseNext = false;

  before(async (t) => {
    if (!requireTool(t, 'openssl', 'openssl')) return;
    pki = makeTestPki();
    smtp = new SMTPServer({
      key: pki.read(pki.serverKey),
      cert: pki.read(pki.serverCert),
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, session, callback) {
        if (!session.secure) return callback(new Error('AUTH only over TLS'));
        if (auth.username === 'central' && auth.password === 'smtp-secret')
          return callback(null, { user: 'central' });
        return callback(new Error('bad credentials'));
      },
      onData(stream, session, callback) {
        let data = '';
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => (data += d));
        stream.on('end', () => {
          if (refuseNext) {
            refuseNext = false;
            return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
          }
          mails.push({
            secure: session.secure,
            user: session.user as string | undefined,
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    hook = createServer(
      { key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) },
      (req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (body += d));
        req.on('end', () => {
          posts.push({ headers: req.headers, body });
          res.writeHead(204).end();
        });
      },
    );
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookPort = (hook.address() as AddressInfo).port;
    store = await createPgliteStore();
    await store.init(new Date(T0));
    await seedReportDay(store);
    ready = true;
  });
  after(async () => {
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    hook?.close();
    await store?.close();
  });

  it('mails the report with its three files and posts it, signed, to the webhook', async (t) => {
    if (!ready) return skipUnmet(t);
    const env = { REPORT_SMTP_PASS: 'smtp-secret', REPORT_HOOK_KEY: 'report-hook-hmac-key-0123456789' };
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      reports: {
        sites: SITES,
        chromium_path: CHROMIUM_PATH,
        destinations: {
          plant: {
            type: 'email',
            endpoint: `127.0.0.1:${smtpPort}`,
            ca_file: pki.caFile,
            user: 'central',
            secret_env: 'REPORT_SMTP_PASS',
            from: 'siem@plant.example',
            to: ['manager@plant.example', 'audit@plant.example'],
          },
          soar: {
            type: 'webhook',
            url: `https://127.0.0.1:${hookPort}/reports`,
            ca_file: pki.caFile,
            secret_env: 'REPORT_HOOK_KEY',
            allow_addresses: ['127.0.0.1'],
          },
          guarded: {
            type: 'webhook',
            url: `https://127.0.0.1:${hookPort}/reports`,
            ca_file: pki.caFile,
            secret_env: 'REPORT_HOOK_KEY',
          },
          // By name: the address guard judges what the name resolves to, as the socket connects
          // (allowed by the older all-or-nothing key, still read).
          soar_by_name: {
            type: 'webhook',
            url: `https://localhost:${hookPort}/reports`,
            ca_file: pki.caFile,
            secret_env: 'REPORT_HOOK_KEY',
            allow_private_addresses: true,
          },
          guarded_by_name: {
            type: 'webhook',
            url: `https://localhost:${hookPort}/reports`,
            ca_file: pki.caFile,
            secret_env: 'REPORT_HOOK_KEY',
          },
        },
        schedules: [
          {
            name: 'daily',
            period: 'daily',
            catch_up_periods: 0,
            deliver_to: ['plant', 'soar', 'guarded', 'soar_by_name', 'guarded_by_name'],
          },
        ],
      },
    }).reports;
    const reports = createReports({
      config,
      sql: store.sql,
      node: 'n1',
      centralId: 'central',
      logger: createLogger('silent'),
      env,
    });
    const made = await reports.tick(new Date(`2026-03-02T01:00:00.000Z`));
    assert.equal(made.length, 1);
    const row = (await reports.get(made[0]!))!;
    assert.equal(row.status, 'done', row.error ?? '');
    const pdfExpected = row.pdf_error === null;
    if (!pdfExpected && IN_CI) assert.fail(row.pdf_error ?? '');

    // E-mail: once, over TLS, authenticated, to both recipients, with the files.
    assert.deepEqual(row.delivery.plant?.ok, true, JSON.stringify(row.delivery.plant));
    assert.equal(mails.length, 1);
    const mail = mails[0]!;
    assert.equal(mail.secure, true, 'STARTTLS before the message');
    assert.equal(mail.user, 'central');
    assert.deepEqual(mail.to, ['manager@plant.example', 'audit@plant.example']);
    const subject = (/^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(mail.data)?.[1] ?? '')
      .replace(/\?=\r\n[ \t]=\?/g, '?==?')
      .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, q: string) =>
        Buffer.from(
          q
            .replace(/_/g, ' ')
            .replace(/=([0-9A-F]{2})/gi, (_h, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
      );
    assert.equal(subject, `[SIEM report] Daily report — Fleet — ${DAY}`);
    const files = attachments(mail.data);
    const base = `report-fleet-daily-${DAY}`;
    assert.ok(files.has(`${base}.html`) && files.has(`${base}.csv`), [...files.keys()].join(', '));
    assert.match(files.get(`${base}.csv`)!.toString('utf8'), /"totals","alerts","value","5"/);
    assert.match(files.get(`${base}.html`)!.toString('utf8'), /role="img"/);
    if (pdfExpected) assert.equal(files.get(`${base}.pdf`)?.subarray(0, 5).toString('latin1'), '%PDF-');

    // Webhook: signed, with the CSV and PDF, the figures in the summary.
    assert.deepEqual(row.delivery.soar?.ok, true, JSON.stringify(row.delivery.soar));
    assert.deepEqual(row.delivery.soar_by_name?.ok, true, JSON.stringify(row.delivery));
    assert.deepEqual(
      posts.map((p) => JSON.parse(p.body).destination),
      ['soar', 'soar_by_name'],
      'the guarded destinations never reached the receiver (no pooled socket skips the guard)',
    );
    const post = posts[0]!;
    const ts = String(post.headers['x-siem-timestamp']);
    assert.equal(post.headers['x-siem-signature'], webhookSignature(env.REPORT_HOOK_KEY, ts, post.body));
    assert.equal(post.headers['idempotency-key'], `report-${row.id}`);
    const payload = JSON.parse(post.body);
    assert.equal(payload.report.totals.alerts, EXPECTED.fleet.alerts);
    assert.equal(payload.report.totals.outages, EXPECTED.fleet.outages);
    assert.match(payload.csv, /"new_devices","rogue-hmi","first_seen"/);
    if (pdfExpected)
      assert.equal(Buffer.from(payload.pdf_base64, 'base64').subarray(0, 5).toString('latin1'), '%PDF-');
    else skipMissing(t, missingPackage('chromium', 'chromium'));

    // The guard: loopback refused unless listed in allow_addresses, and kept with the report.
    assert.equal(row.delivery.guarded?.ok, false);
    assert.match(row.delivery.guarded?.error ?? '', /loopback or private/);
    assert.equal(row.delivery.guarded_by_name?.ok, false);
    assert.match(row.delivery.guarded_by_name?.error ?? '', /localhost resolves to .*loopback or private/);
    await reports.stop();
  });

  it('tries a failed delivery again on a later pass, and stops once delivered', async (t) => {
    if (!ready) return skipUnmet(t);
    const env = { REPORT_SMTP_PASS: 'smtp-secret' };
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      reports: {
        sites: SITES,
        chromium_path: '/nonexistent/chromium',
        delivery_retry_secs: 60,
        destinations: {
          plant: {
            type: 'email',
            endpoint: `127.0.0.1:${smtpPort}`,
            ca_file: pki.caFile,
            user: 'central',
            secret_env: 'REPORT_SMTP_PASS',
            from: 'siem@plant.example',
            to: ['manager@plant.example'],
          },
        },
        schedules: [
          {
            name: 'weekly-retry',
            period: 'weekly',
            scope: 'north',
            catch_up_periods: 0,
            deliver_to: ['plant'],
          },
        ],
      },
    }).reports;
    const reports = createReports({
      config,
      sql: store.sql,
      node: 'n2',
      centralId: 'central',
      logger: createLogger('silent'),
      env,
    });
    const before = mails.length;
    refuseNext = true;
    const at = new Date('2026-03-02T01:00:00.000Z');
    const [id] = await reports.tick(at);
    let row = (await reports.get(id!))!;
    assert.deepEqual([row.delivery.plant?.ok, row.delivery.plant?.tries], [false, 1]);
    assert.match(row.delivery.plant?.error ?? '', /451|try again/);
    assert.equal(mails.length, before);
    // Not yet due again: nothing sent.
    assert.deepEqual(await reports.tick(at), []);
    assert.equal((await reports.get(id!))!.delivery.plant?.tries, 1);
    // Once delivery_retry_secs have passed (the lease moved back), the next pass sends it.
    await store.sql.query(`UPDATE reports SET claimed_at = now() - interval '2 minutes' WHERE id = $1`, [id]);
    await reports.tick(at);
    row = (await reports.get(id!))!;
    assert.deepEqual([row.delivery.plant?.ok, row.delivery.plant?.tries], [true, 2]);
    assert.equal(mails.length, before + 1);
    assert.match(mails[mails.length - 1]!.data, /PDF unavailable: no Chromium/);
    await store.sql.query(`UPDATE reports SET claimed_at = now() - interval '2 minutes' WHERE id = $1`, [id]);
    await reports.tick(at);
    assert.equal(mails.length, before + 1, 'a delivered report is not sent again');
    await reports.stop();
  });

  it('fails start naming the key when a destination secret is missing', () => {
    const config = centralConfigSchema.parse({
      storage: { type: 'pglite' },
      reports: {
        destinations: {
          soar: { type: 'webhook', url: 'https://soar.example/hook', secret_env: 'REPORT_HOOK_UNSET' },
        },
      },
    }).reports;
    assert.throws(
      () =>
        createReports({
          config,
          sql: store.sql,
          node: 'x',
          centralId: 'central',
          logger: createLogger('silent'),
          env: {},
        }),
      /reports\.destinations\.soar\.secret_env: environment variable REPORT_HOOK_UNSET is not set/,
    );
  });
});
