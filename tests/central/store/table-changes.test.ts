/**
 * The stores' change notices (central/store/table-changes.ts). On PostgreSQL, a connection that
 * LISTENs on the one channel hears the name of each table written — a rule enabled or disabled,
 * a rule uploaded, a playbook created, replaced or deleted, a new release's shipped rule — once
 * the write committed, and nothing for a write that changed nothing or rolled back. On both
 * stores, the node's own caches follow its writes at once: central's detection runs a central
 * rule uploaded or disabled through the API, and the playbook list shows a playbook created
 * after it was cached.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { type BuiltCentral, buildCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPlaybookStore } from '../../../central/playbooks/store.ts';
import { createRulesStore } from '../../../central/rules/store.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { createTableChanges, TABLE_CHANGES_CHANNEL } from '../../../central/store/table-changes.ts';
import { IN_CI, waitFor } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';

const RULE = (id: string, action: string) => `title: Change notice probe ${id}
id: ${id}
status: test
logsource:
  product: syslog
detection:
  selection:
    action: ${action}
  condition: selection
level: high
`;
const PROBE = '5b0c6a1e-2f4d-4e8a-9c3b-7d1e0f2a3b01';
const SHIPPED = '5b0c6a1e-2f4d-4e8a-9c3b-7d1e0f2a3b02';

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`the node's caches follow its own writes (${name})`, () => {
    let store: EventStore | undefined;
    let central: BuiltCentral;
    const token = newToken();
    const call = (method: string, p: string, body?: string, type = 'application/json') =>
      Promise.resolve(
        central.app.request(p, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': type },
          ...(body !== undefined && { body }),
        }),
      );
    before(async () => {
      store = await open();
      if (!store) return;
      await store.init(new Date());
      central = await buildCentral(centralConfigSchema.parse({ storage: { type: 'pglite' } }), store, {
        metrics: createCentralMetrics({ processMetrics: false }),
        logger: createLogger('silent'),
        apiTokens: [{ name: 't', token_sha256: sha256Hex(token) }],
      });
    });
    after(async () => {
      await central?.stop();
      await store?.close();
    });

    it('runs a central rule uploaded, and stops one disabled, through the API', async (t) => {
      if (!store) return t.skip('no PostgreSQL');
      await central.detection.reloadFrom(central.rules);
      const before = central.detection.rules;
      const up = await call(
        'POST',
        '/api/rules?target=central',
        RULE(PROBE, 'syslog.probe.one'),
        'text/yaml',
      );
      assert.equal(up.status, 201, await up.text());
      await waitFor(() => (central.detection.rules === before + 1 ? true : undefined), {
        what: 'the uploaded rule running',
      });
      const off = await call('PATCH', `/api/rules/${PROBE}`, JSON.stringify({ enabled: false }));
      assert.equal(off.status, 200, await off.text());
      await waitFor(() => (central.detection.rules === before ? true : undefined), {
        what: 'the disabled rule stopped',
      });
    });

    it('lists a playbook created after the list was cached', async (t) => {
      if (!store) return t.skip('no PostgreSQL');
      assert.deepEqual(await central.playbooks!.list(), []);
      const created = await call(
        'POST',
        '/api/playbooks',
        JSON.stringify({
          id: 'probe',
          name: 'Probe',
          match: { rule_ids: ['x'] },
          actions: [{ type: 'open_incident' }],
        }),
      );
      assert.equal(created.status, 201, await created.text());
      assert.deepEqual(
        (await central.playbooks!.list()).map((p) => p.id),
        ['probe'],
      );
      assert.equal((await call('DELETE', '/api/playbooks/probe')).status, 204);
      assert.deepEqual(await central.playbooks!.list(), []);
    });
  });
}

suite('PGlite', () => createPgliteStore());
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('PostgreSQL', async () =>
  'error' in db ? undefined : createPostgresStore({ connectionString: db.url, poolMax: 4 }),
);

describe('the change notice on PostgreSQL', { skip: 'error' in db && db.error }, () => {
  let store: EventStore;
  let listener: pg.Client;
  const heard: string[] = [];
  /** Every notice heard from now until `fn` resolved and a marker sent after it arrived. */
  async function noticesOf(fn: () => Promise<unknown>): Promise<string[]> {
    const from = heard.length;
    await fn();
    // Notices arrive in commit order: once the marker is heard, every earlier one has been.
    const marker = `marker-${from}`;
    await store.sql.query('SELECT pg_notify($1, $2)', [TABLE_CHANGES_CHANNEL, marker]);
    await waitFor(() => (heard.includes(marker) ? true : undefined), { what: marker });
    return heard.slice(from).filter((n) => !n.startsWith('marker-'));
  }
  before(async () => {
    if ('error' in db) return;
    store = await createPostgresStore({ connectionString: db.url, poolMax: 4 });
    await store.init(new Date());
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    // The payload is `<table>:<writer>` (a marker has no writer).
    listener.on('notification', (n) => n.payload && heard.push(n.payload.split(':')[0]!));
    await listener.query(`LISTEN ${TABLE_CHANGES_CHANNEL}`);
  });
  after(async () => {
    await listener?.end();
    await store?.close();
    if (!('error' in db)) await db.drop();
  });

  it('names the table of each write that changed rows, once committed; nothing otherwise', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-table-changes-'));
    writeFileSync(path.join(dir, 'shipped.yml'), RULE(SHIPPED, 'syslog.probe.shipped'));
    const changes = createTableChanges();
    const local: string[] = [];
    changes.on('rules', () => local.push('rules'));
    changes.on('playbooks', () => local.push('playbooks'));
    const openRules = () =>
      createRulesStore({ sql: store.sql, builtin: [{ dir, target: 'central' }], changes });
    // A shipped rule new to the database is announced; the same release started again is not.
    assert.deepEqual(await noticesOf(() => openRules().ready), ['rules']);
    const rules = openRules();
    assert.deepEqual(await noticesOf(() => rules.ready), []);
    assert.deepEqual(await noticesOf(() => rules.setEnabled(SHIPPED, false, 'ana')), ['rules']);
    assert.deepEqual(
      await noticesOf(() => rules.upload(RULE(PROBE, 'syslog.probe.two'), 'central', 'ana')),
      ['rules'],
      'one notice for the upload',
    );
    // Refused (the rule does not load): nothing written, nothing announced.
    assert.deepEqual(await noticesOf(() => rules.upload('title: x', 'central', 'ana')), []);

    const playbooks = createPlaybookStore(store.sql, changes);
    const probe = { id: 'p1', name: 'P', description: '', enabled: true, approval: false } as const;
    const playbook = { ...probe, match: { rule_ids: ['x'] }, actions: [{ type: 'open_incident' as const }] };
    assert.deepEqual(await noticesOf(() => playbooks.put(playbook as never, 'ana', true)), ['playbooks']);
    // Exists already: nothing written.
    assert.deepEqual(await noticesOf(() => playbooks.put(playbook as never, 'ana', true)), []);
    assert.deepEqual(await noticesOf(() => playbooks.remove('p1')), ['playbooks']);
    assert.deepEqual(await noticesOf(() => playbooks.remove('p1')), []);
    assert.deepEqual(local, ['rules', 'rules', 'rules', 'playbooks', 'playbooks']);

    // A write that rolls back announces nothing, here or to the listener.
    const failed = changes.write(store.sql, 'rules', async (tx) => {
      await tx.query('UPDATE rules SET enabled = true WHERE id = $1', [SHIPPED]);
      throw new Error('rolled back');
    });
    assert.deepEqual(await noticesOf(() => assert.rejects(failed, /rolled back/)), []);
    assert.equal(local.length, 5);
  });
});
