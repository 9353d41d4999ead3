/**
 * Rules managed on central and pushed to gateways (issue 6, link SPEC §8), end to end on real
 * servers: the rules API lists the shipped ICS rules, refuses bad Sigma with the rule, field and
 * reason, enables and disables; a push reaches a connected gateway at once and an offline one when
 * it reconnects, and `GET /api/gateways` shows the version each runs. Central rebuilds correlation
 * windows from stored events after a restart: a brute force at 3 of 5 failures, restart, 2 more →
 * alert.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { ruleSetVersion } from '../../protocols/link/codec.ts';
import { waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral } from '../support/stack.ts';

async function call(c: TestCentral, method: string, url: string, body?: unknown, type = 'application/json') {
  const res = await fetch(`${c.central.url()}${url}`, {
    method,
    headers: { authorization: `Bearer ${c.apiToken}`, ...(body !== undefined && { 'content-type': type }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type GatewayRow = { id: string; connected: boolean; rules: Record<string, string | null> | null };
const gatewayRow = async (c: TestCentral, id: string) =>
  ((await c.api('/api/gateways')).body as { gateways: GatewayRow[] }).gateways.find((g) => g.id === id);

const SSH_FAILURE_ID = '2f3c1a70-0d0b-4c77-9a0e-6b1f6c8e1a09';
const EXTRA = `title: Modbus write to a safety register
id: test-safety-write
logsource: {product: modbus}
detection:
  sel: {action: modbus.write_single_register, fields.address: 4000}
  condition: sel
level: high
tags: [attack.t0836]
`;

function sshFailure(at: number, ip = '198.51.100.23'): PendingEvent {
  const ts = new Date(at).toISOString();
  return {
    ts,
    received: ts,
    source: 'syslog',
    kind: 'security',
    action: 'syslog.sshd.auth_failure',
    severity: 5,
    message: `Failed password for root from ${ip}`,
    host: 'hmi-4',
    src: { ip },
    fields: {},
    tags: [],
  };
}

describe('rules on central, pushed to gateways', () => {
  it('lists, validates, toggles and pushes rules; offline gateways get the set on reconnect', async () => {
    const c = await startTestCentral({ type: 'pglite' });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-gw-rules-'));
    const link = { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey };
    let gw = await startTestGateway(link, { syslog: false, dataDir, keepData: true });
    try {
      const listed = await call(c, 'GET', '/api/rules');
      assert.equal(listed.status, 200);
      const rules = listed.body.rules as Array<Record<string, unknown>>;
      const failure = rules.find((r) => r.id === SSH_FAILURE_ID);
      assert.equal(failure?.target, 'edge');
      assert.equal(failure?.enabled, true);
      assert.equal(failure?.source, 'builtin:rules/ics/ssh-brute-force.yml');
      const brute = rules.find((r) => r.title === 'SSH brute force against a plant host');
      assert.deepEqual(brute?.techniques, ['T0812']);
      assert.equal(brute?.kind, 'correlation');
      assert.equal(brute?.level, 'high');
      assert.ok(rules.filter((r) => r.target === 'edge').length >= 25);

      const bad = await call(c, 'POST', '/api/rules', {
        yaml: EXTRA.replace('fields.address: 4000', "'message|re': '(unclosed'"),
      });
      assert.equal(bad.status, 400);
      const problem = (bad.body.problems as Array<Record<string, string>>)[0]!;
      assert.equal(problem.rule, 'test-safety-write');
      assert.match(problem.field!, /message\|re/);
      assert.match(problem.why!, /regex|regular expression/i);
      const notSigma = await call(c, 'POST', '/api/rules?target=edge', 'title: [', 'application/yaml');
      assert.equal(notSigma.status, 400);

      const added = await call(c, 'POST', '/api/rules?target=edge', EXTRA, 'application/yaml');
      assert.equal(added.status, 201);
      assert.equal((added.body.rules as Array<Record<string, unknown>>)[0]!.source, 'upload');
      // A rule a correlation builds on cannot be switched off alone.
      const needed = await call(c, 'PATCH', `/api/rules/${SSH_FAILURE_ID}`, { enabled: false });
      assert.equal(needed.status, 409);
      assert.match(String(needed.body.error), /ssh_auth_failure|unknown/i);
      const off = await call(c, 'PATCH', '/api/rules/test-safety-write', { enabled: false });
      assert.equal(off.status, 200);
      assert.equal(off.body.enabled, false);

      await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined));
      const local = await waitFor(async () => (await gatewayRow(c, c.gatewayId))?.rules?.running_version);
      assert.equal(local, ruleSetVersion([]), 'a gateway without rules reports the empty set');

      const pushed = await call(c, 'POST', '/api/rules/push', {});
      assert.equal(pushed.status, 202);
      assert.deepEqual(pushed.body.gateways, [{ id: c.gatewayId, sent: true }]);
      const version = pushed.body.version as string;
      const row = await waitFor(
        async () => {
          const r = await gatewayRow(c, c.gatewayId);
          return r?.rules?.running_version === version ? r : undefined;
        },
        { what: 'the gateway running the pushed set' },
      );
      assert.equal(row.rules!.running_set_id, 'central-edge');
      assert.equal(row.rules!.assigned_version, version);
      assert.equal(row.rules!.last_error, null);
      const metrics = await (await fetch(`${gw.gateway.httpUrl()}/metrics`)).text();
      assert.match(metrics, /siem_gateway_rules_loaded\{state="loaded",gateway="gw-test"\} [1-9]\d/);

      // Offline: the next set waits for the gateway; the old one keeps running from its disk.
      await gw.stop();
      assert.equal((await call(c, 'PATCH', '/api/rules/test-safety-write', { enabled: true })).status, 200);
      const second = await call(c, 'POST', '/api/rules/push', { gateways: [c.gatewayId] });
      assert.deepEqual(second.body.gateways, [{ id: c.gatewayId, sent: false }]);
      assert.notEqual(second.body.version, version);
      gw = await startTestGateway(link, { syslog: false, dataDir, keepData: true });
      await waitFor(
        async () =>
          (await gatewayRow(c, c.gatewayId))?.rules?.running_version === second.body.version
            ? true
            : undefined,
        { what: 'the offline gateway catching up on reconnect' },
      );
      const unknown = await call(c, 'POST', '/api/rules/push', { gateways: ['no-such-gw'] });
      assert.equal(unknown.status, 404);
    } finally {
      await gw.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await c.central.stop();
    }
  });

  it('central rebuilds open correlation windows from stored events after a restart', async () => {
    const rulesDir = mkdtempSync(path.join(tmpdir(), 'siem-central-rules-'));
    const pgDir = mkdtempSync(path.join(tmpdir(), 'siem-central-pg-'));
    writeFileSync(
      path.join(rulesDir, 'brute.yml'),
      `title: failure
id: t-fail
name: t_fail
logsource: {product: syslog}
detection: {sel: {action: syslog.sshd.auth_failure}, condition: sel}
level: informational
---
title: Central brute force test
id: t-brute
correlation: {type: event_count, rules: [t_fail], group-by: [src.ip], timespan: 10m, condition: {gte: 5}}
level: high
`,
    );
    const detection = { rules_dirs: [rulesDir] };
    let c = await startTestCentral({ type: 'pglite', data_dir: pgDir }, { detection });
    const port = new URL(c.central.url()).port;
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { syslog: false },
    );
    const alerted = async () =>
      JSON.stringify((await c.api('/api/alerts')).body).includes('Central brute force test');
    try {
      const t0 = Date.now();
      await gw.emit([0, 1, 2].map((i) => sshFailure(t0 + i)));
      await waitFor(async () => ((await c.events('q=Failed%20password')).length === 3 ? true : undefined));
      await c.central.stop();
      c = await startTestCentral(
        { type: 'pglite', data_dir: pgDir },
        { detection, listen: `127.0.0.1:${port}`, privateKey: c.privateKey },
      );
      await gw.emit([3, 4].map((i) => sshFailure(t0 + 1000 + i)));
      await waitFor(async () => ((await c.events('q=Failed%20password')).length === 5 ? true : undefined));
      await waitFor(async () => ((await alerted()) ? true : undefined), {
        what: 'the brute-force alert after the restart',
      });
    } finally {
      await gw.stop();
      await c.central.stop();
      rmSync(rulesDir, { recursive: true, force: true });
      rmSync(pgDir, { recursive: true, force: true });
    }
  });
});
