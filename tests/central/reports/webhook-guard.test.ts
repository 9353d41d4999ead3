/**
 * The address guard of report webhooks (the guarded POST shared with the alert sink and playbook
 * webhooks, central/sinks/webhook.ts), against server-side request forgery: a report aimed at
 * 127.0.0.1 or a name resolving to it is refused, without a request reaching the receiver,
 * unless the destination's `allow_addresses` lists it; the cloud metadata address and link-local
 * ones are refused whatever is listed. The older `allow_private_addresses: true` is still read, as
 * every loopback and private range listed. A real HTTP receiver on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deliverReport, type ReportFiles, reportAllowList } from '../../../central/reports/deliver.ts';
import { reportsConfigSchema, type ReportDestination } from '../../../central/reports/config.ts';
import { addressCheck } from '../../../central/sinks/address-guard.ts';

const env = { REPORT_HOOK_KEY: 'report-guard-hmac-key-0123456789' };

const files: ReportFiles = {
  id: 7,
  title: 'Daily report — Fleet — 2026-03-01',
  basename: 'report-fleet-daily-2026-03-01',
  formats: ['csv'],
  html: '<p>report</p>',
  csv: '"totals","alerts","value","5"\n',
  pdf: null,
  pdfError: null,
  meta: {},
};

/** A webhook destination as the config loader makes it (defaults filled in). */
function destination(url: string, extra: Record<string, unknown> = {}): ReportDestination {
  const parsed = reportsConfigSchema.parse({
    destinations: {
      soar: {
        type: 'webhook',
        url,
        allow_http: true,
        secret_env: 'REPORT_HOOK_KEY',
        timeout_secs: 5,
        ...extra,
      },
    },
  });
  return parsed.destinations.soar!;
}

describe('report webhook address guard', () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses 127.0.0.1, by address or by name, unless allow_addresses lists it', async () => {
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', 'localhost']) {
      const outcome = await deliverReport('soar', destination(`http://${host}:${port}/r`), files, env);
      assert.equal(outcome.ok, false, host);
      assert.match(
        !outcome.ok ? outcome.error : '',
        /loopback or private address .*reports\.destinations\.soar\.allow_addresses/,
        host,
      );
      // A range that does not cover it allows nothing.
      const other = destination(`http://${host}:${port}/r`, { allow_addresses: ['10.0.0.0/8'] });
      assert.equal((await deliverReport('soar', other, files, env)).ok, false, host);
    }
    assert.equal(requests, 0, 'no request reached the receiver');
    const listed = destination(`http://127.0.0.1:${port}/r`, { allow_addresses: ['127.0.0.1'] });
    assert.deepEqual(await deliverReport('soar', listed, files, env), { ok: true });
    const byName = destination(`http://localhost:${port}/r`, { allow_addresses: ['127.0.0.0/8', '::1'] });
    assert.deepEqual(await deliverReport('soar', byName, files, env), { ok: true });
    assert.equal(requests, 2);
  });

  it('still reads allow_private_addresses: true as every loopback and private range listed', async () => {
    const before = requests;
    const legacy = destination(`http://127.0.0.1:${port}/r`, { allow_private_addresses: true });
    assert.deepEqual(await deliverReport('soar', legacy, files, env), { ok: true });
    assert.equal(requests, before + 1);
  });

  it('refuses the metadata address and link-local ones whatever is listed', async () => {
    const before = requests;
    for (const extra of [
      {},
      { allow_addresses: ['169.254.0.0/16', '0.0.0.0/0', 'fe80::/10'] },
      { allow_private_addresses: true },
    ]) {
      for (const url of [
        'http://169.254.169.254/latest/meta-data/',
        'http://[::ffff:169.254.169.254]/',
        'http://[fe80::1]/',
        'http://[fd00:ec2::254]/',
      ]) {
        const outcome = await deliverReport('soar', destination(url, extra), files, env);
        assert.equal(outcome.ok, false, `${url} ${JSON.stringify(extra)}`);
        assert.match(!outcome.ok ? outcome.error : '', /link-local, multicast or metadata/, url);
      }
    }
    assert.equal(requests, before);
  });

  it('fails config validation on an allow_addresses entry that is no address or range, naming it', () => {
    for (const bad of ['intranet.local', '10.0.0.0/33', '']) {
      const parsed = reportsConfigSchema.safeParse({
        destinations: { soar: { type: 'webhook', url: 'https://x/', allow_addresses: [bad] } },
      });
      assert.equal(parsed.success, false, bad);
      assert.deepEqual(parsed.error!.issues[0]!.path, ['destinations', 'soar', 'allow_addresses', 0], bad);
    }
  });

  it('judges addresses by the allow-list the destination makes', () => {
    const check = (extra: Record<string, unknown>) => {
      const d = destination('https://soar.example/', extra);
      return addressCheck({ allow: d.type === 'webhook' ? reportAllowList(d) : [] });
    };
    const none = check({});
    const legacy = check({ allow_private_addresses: true });
    const listed = check({ allow_addresses: ['10.1.0.0/16', 'fd12::1'] });
    for (const a of ['169.254.169.254', 'fe80::1', '::ffff:169.254.169.254', '0.0.0.0', 'fd00:ec2::254'])
      assert.ok(legacy(a) && listed(a), a);
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '100.64.0.1', '::1', 'fd12::1']) {
      assert.ok(none(a), a);
      assert.equal(legacy(a), null, a);
    }
    assert.equal(listed('10.1.2.3'), null);
    assert.equal(listed('fd12::1'), null);
    assert.ok(listed('10.2.0.1'));
    assert.ok(listed('127.0.0.1'));
    for (const a of ['93.184.216.34', '2001:db8::1']) assert.equal(none(a), null, a);
  });
});
