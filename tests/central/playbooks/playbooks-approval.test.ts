/**
 * Response playbooks that wait for an analyst, through central's API in process on PGlite and
 * PostgreSQL (issue 21 ask 4; set-up in harness.ts): nothing is done until an analyst approves
 * (the API token is removed, then restored by an admin's undo, and works again) or rejects it. A
 * gateway action for an offline gateway is queued with the alert's attacker address as its target.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { waitFor } from '../../support/env.ts';
import { playbooksApiSuite } from './harness.ts';

playbooksApiSuite('response playbooks API, approval', (h) => {
  const { admin, call, ready, raise, runFor, analystToken, victimToken } = h;

  it('waits for an analyst: reject does nothing, approve acts, undo restores the token', async (t) => {
    if (!ready(t)) return;
    const created = await admin('POST', '/api/playbooks', {
      id: 'cut-token',
      name: 'Cut the service token',
      approval: true,
      match: { rule_ids: ['token-abuse'] },
      actions: [{ type: 'disable_token', token_id: 't-svc' }],
    });
    assert.equal(created.status, 201);
    await raise('token-abuse', '10.9.8.70');
    const first = await runFor('cut-token', 'pending');
    assert.equal(first.actions[0].status, 'pending');
    const rejected = await call(analystToken, 'POST', `/api/playbook-runs/${first.id}/reject`, {
      reason: 'maintenance window',
    });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.status, 'rejected');
    assert.equal(rejected.body.actions[0].status, 'rejected');
    assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 200, 'the token still works');
    assert.equal((await call(analystToken, 'POST', `/api/playbook-runs/${first.id}/approve`)).status, 409);

    await raise('token-abuse', '10.9.8.71');
    const second = await waitFor(
      async () => {
        const run = (await admin('GET', '/api/playbook-runs?playbook=cut-token&status=pending')).body.runs[0];
        return run?.actions.length > 0 ? run : undefined;
      },
      { timeoutMs: 60_000, what: 'a second pending run' },
    );
    assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 200);
    const approved = await call(analystToken, 'POST', `/api/playbook-runs/${second.id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'done');
    assert.equal(approved.body.decided_by, 'ana');
    assert.equal(approved.body.actions[0].status, 'succeeded');
    assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 401, 'the token is cut');

    const byAnalyst = await call(
      analystToken,
      'POST',
      `/api/playbook-actions/${approved.body.actions[0].id}/undo`,
    );
    assert.equal(byAnalyst.status, 403, 'an analyst cannot give a token its access back');
    assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 401, 'still cut');
    const undone = await admin('POST', `/api/playbook-actions/${approved.body.actions[0].id}/undo`);
    assert.equal(undone.status, 200, JSON.stringify(undone.body));
    assert.equal((await call(victimToken, 'GET', '/api/playbooks')).status, 200, 'the token works again');
  });

  it('queues a gateway action for an offline gateway, aimed at the alert’s attacker', async (t) => {
    if (!ready(t)) return;
    assert.equal(
      (
        await admin('POST', '/api/playbooks', {
          id: 'block-approved',
          name: 'Block after approval',
          approval: true,
          match: { rule_ids: ['mqtt-brute'], gateways: ['gw-1'] },
          actions: [{ type: 'mqtt_block_address', expire_secs: 3600 }, { type: 'mqtt_block_client' }],
        })
      ).status,
      201,
    );
    // Approval-bound playbooks are never pushed: gw-1's set stays empty.
    await raise('mqtt-brute', '10.9.8.99');
    const run = await runFor('block-approved', 'pending');
    const approved = await admin('POST', `/api/playbook-runs/${run.id}/approve`);
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'running');
    const [address, client] = approved.body.actions;
    assert.equal(address.status, 'queued');
    assert.equal(address.gateway, 'gw-1');
    assert.deepEqual(address.params, { type: 'mqtt_block_address', value: '10.9.8.99', expire_secs: 3600 });
    assert.equal(client.params.type, 'mqtt_block_client');
    assert.match(client.params.value, /^rot-\d+$/);
    // Not done yet: nothing can be undone before the gateway has answered.
    assert.equal((await admin('POST', `/api/playbook-actions/${address.id}/undo`)).status, 409);
  });
});
