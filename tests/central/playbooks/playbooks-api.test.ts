/**
 * Response playbooks through central's API, in process on PGlite and PostgreSQL (issue 21 ask 4;
 * set-up in harness.ts): a playbook on a rule calls a real HTTP receiver through a configured
 * webhook sink (signed with its HMAC key), disables a user (their sessions end) and opens an
 * incident, each action with its outcome and audited; undo re-enables the user and closes the
 * incident, a webhook cannot be undone, and a webhook to the metadata address is refused.
 * Refusals: anonymous 401, a viewer or an analyst cannot create playbooks, a viewer cannot approve
 * or undo, an unknown webhook sink is a 400. Approval and gateway actions: playbooks-approval.test.ts.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { it } from 'node:test';
import { waitFor } from '../../support/env.ts';
import { KEY, playbooksApiSuite } from './harness.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
playbooksApiSuite('response playbooks API', (h) => {
  const { admin, call, ready, raise, runFor, received, analystToken, viewerToken } = h;

  it('refuses anonymous and under-privileged changes, and bad playbooks', async (t) => {
    if (!ready(t)) return;
    const playbook = { id: 'p-x', name: 'x', actions: [{ type: 'open_incident' }] };
    assert.equal((await call(null, 'GET', '/api/playbooks')).status, 401);
    assert.equal((await call(null, 'POST', '/api/playbooks', playbook)).status, 401);
    assert.equal((await call(viewerToken, 'POST', '/api/playbooks', playbook)).status, 403);
    assert.equal((await call(analystToken, 'POST', '/api/playbooks', playbook)).status, 403);
    assert.equal((await call(analystToken, 'DELETE', '/api/playbooks/p-x')).status, 403);
    assert.equal((await call(viewerToken, 'POST', '/api/playbook-runs/1/approve')).status, 403);
    assert.equal((await call(viewerToken, 'POST', '/api/playbook-actions/1/undo')).status, 403);
    assert.equal((await call(viewerToken, 'GET', '/api/playbooks')).status, 200);
    const unknownSink = await admin('POST', '/api/playbooks', {
      ...playbook,
      actions: [{ type: 'webhook', sink: 'nowhere' }],
    });
    assert.equal(unknownSink.status, 400);
    assert.match(unknownSink.body.error, /no webhook sink nowhere/);
    const badType = await admin('POST', '/api/playbooks', { ...playbook, actions: [{ type: 'rm -rf' }] });
    assert.equal(badType.status, 400);
    const noActions = await admin('POST', '/api/playbooks', { ...playbook, actions: [] });
    assert.equal(noActions.status, 400);
    assert.equal((await admin('GET', '/api/playbooks')).body.playbooks.length, 0);
  });

  it('runs webhook, disable user and open incident at once, audited, and undoes them', async (t) => {
    if (!ready(t)) return;
    const created = await admin('POST', '/api/playbooks', {
      id: 'contain-brute',
      name: 'Contain a brute force',
      match: { rule_ids: ['brute'], min_severity: 3, techniques: ['T0812'] },
      actions: [
        { type: 'webhook', sink: 'soar' },
        { type: 'disable_user', username: 'mallory' },
        { type: 'open_incident' },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.created_by, 'soc-admin');
    // Another rule, or a milder one, does not match.
    await raise('other-rule');

    const alertId = await raise('brute');
    const run = await runFor('contain-brute', 'done');
    assert.equal(run.alert_id, alertId);
    assert.deepEqual(
      run.actions.map((a: any) => [a.type, a.status]),
      [
        ['webhook', 'succeeded'],
        ['disable_user', 'succeeded'],
        ['open_incident', 'succeeded'],
      ],
    );
    assert.equal((await admin('GET', '/api/playbook-runs')).body.runs.length, 1, 'other-rule ran nothing');

    // The SOAR got the alert, signed with the sink's key.
    assert.equal(received.length, 1);
    const hook = received[0]!;
    const expected = `sha256=${createHmac('sha256', KEY).update(`${hook.timestamp}.${hook.body}`).digest('hex')}`;
    assert.equal(hook.signature, expected);
    const payload = JSON.parse(hook.body);
    assert.equal(payload.playbook.id, 'contain-brute');
    assert.equal(payload.alert.id, alertId);

    assert.equal((await h.built.authStore.getUser('mallory'))!.disabled, true);
    const incident = run.actions[2].undo.incident as number;
    const inc = await admin('GET', `/api/incidents/${incident}`);
    assert.equal(inc.status, 200);

    // Undo: the user is enabled again, the incident closed; a webhook cannot be taken back.
    // Giving an account its access back is an admin's call: the analyst is refused.
    const refused = await call(analystToken, 'POST', `/api/playbook-actions/${run.actions[1].id}/undo`);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await h.built.authStore.getUser('mallory'))!.disabled, true);
    const undoUser = await admin('POST', `/api/playbook-actions/${run.actions[1].id}/undo`);
    assert.equal(undoUser.status, 200, JSON.stringify(undoUser.body));
    assert.equal(undoUser.body.status, 'undone');
    assert.equal(undoUser.body.undone_by, 'soc-admin');
    assert.equal((await h.built.authStore.getUser('mallory'))!.disabled, false);
    const again = await admin('POST', `/api/playbook-actions/${run.actions[1].id}/undo`);
    assert.equal(again.status, 409);
    const undoHook = await admin('POST', `/api/playbook-actions/${run.actions[0].id}/undo`);
    assert.equal(undoHook.status, 409);
    assert.match(undoHook.body.error, /cannot be taken back/);
    assert.equal((await admin('POST', `/api/playbook-actions/${run.actions[2].id}/undo`)).status, 200);
    assert.equal((await admin('GET', `/api/incidents/${incident}`)).body.status, 'false_positive');

    const detail = await admin('GET', `/api/playbook-runs/${run.id}`);
    const trail = detail.body.audit.map((e: any) => `${e.actor} ${e.what} ${e.outcome}`).reverse();
    assert.match(trail[0], /triggered running$/);
    assert.equal(trail.filter((t: string) => t === 'central executed ok').length, 3, trail.join('\n'));
    assert.ok(
      trail.includes('soc-admin undo_requested ok') && trail.includes('soc-admin undone ok'),
      trail.join('\n'),
    );
    assert.ok(trail.includes('soc-admin undone failed'), trail.join('\n'));
    // The same alert seen again does not run the playbook twice (one run per alert).
    assert.equal((await admin('GET', '/api/playbook-runs?playbook=contain-brute')).body.runs.length, 1);
  });

  it('a webhook action goes through the sink address guard: the metadata address is refused', async (t) => {
    if (!ready(t)) return;
    const created = await admin('POST', '/api/playbooks', {
      id: 'to-metadata',
      name: 'Post to the metadata service',
      match: { rule_ids: ['metadata-probe'] },
      actions: [{ type: 'webhook', sink: 'metadata' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await raise('metadata-probe');
    const run = await waitFor(
      async () => {
        const r = (await admin('GET', '/api/playbook-runs?playbook=to-metadata')).body.runs[0];
        // Until it settles: pending and running come first.
        return ['failed', 'succeeded'].includes(r?.actions[0]?.status) ? r : undefined;
      },
      { timeoutMs: 60_000, what: 'the metadata run' },
    );
    assert.equal(run.actions[0].status, 'failed', JSON.stringify(run.actions[0]));
    assert.match(run.actions[0].error, /refused/);
  });
});
