/**
 * Alerts through the API, in process, on both stores: raising with Sigma level → severity,
 * grouping of repeats within the window (also under 20 concurrent hits), closed alerts never
 * reopened, the status/assignee/comment lifecycle with a history of who and when, suppression
 * windows, related events and alerts on the same device, bounded event ids, and 400s naming the
 * bad field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mergeEventIds } from '../../../central/alerts/raise.ts';
import type { Alert } from '../../../central/alerts/types.ts';
import { buildCentral } from '../../../central/index.ts';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import { createPgliteStore, createPostgresStore, type EventStore } from '../../../central/store/index.ts';
import { IN_CI, skipUnmet } from '../../support/env.ts';
import { createTempDatabase } from '../../support/postgres.ts';
import { iso, makeEvent } from '../store/fixtures.ts';

const T = Date.parse('2026-03-01T10:00:00.000Z');
let rules = 0;

interface HistoryEntry {
  at: string;
  actor: string;
  change: string;
  from: string | null;
  to: string | null;
}
/** The JSON bodies of the routes under test, loosely: each test reads the fields its route returns. */
interface Body extends Partial<Alert> {
  outcome: string;
  alert: Alert;
  alerts: Alert[];
  next_before_id: number | null;
  history: HistoryEntry[];
  comments: Array<{ author: string; body: string }>;
  events: Array<{ id: string }>;
  created_by: string;
  error: string;
}

function hit(
  rule: string,
  entity: Record<string, string>,
  atMs: number,
  extra: Record<string, unknown> = {},
) {
  return {
    rule: { id: rule, title: `Rule ${rule}`, level: 'high', techniques: ['T0836'], tags: ['attack.ics'] },
    entity,
    event_ids: [`gw:${atMs}`],
    at: iso(atMs),
    ...extra,
  };
}

function suite(name: string, open: () => Promise<EventStore | undefined>) {
  describe(`alerts API (${name})`, () => {
    let store: EventStore | undefined;
    const token = newToken();
    let call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Body }>;
    const metrics = createCentralMetrics({ processMetrics: false });
    before(async () => {
      store = await open();
      if (!store) return;
      await store.init(new Date());
      const config = centralConfigSchema.parse({
        storage: { type: 'pglite' },
        alerts: { group_window_secs: 300 },
      });
      const { app } = await buildCentral(config, store, {
        metrics,
        logger: createLogger('silent'),
        apiTokens: [{ name: 'soc-alice', token_sha256: sha256Hex(token) }],
      });
      call = async (method, path, body) => {
        const res = await app.request(path, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (res.status === 204 ? null : await res.json()) as Body };
      };
    });
    after(() => store?.close());
    const rule = () => `rule-${name}-${++rules}`;

    it('raises with the severity of its Sigma level and a raised history entry', async (t) => {
      if (!store) return skipUnmet(t);
      const r = rule();
      const res = await call(
        'POST',
        '/api/alerts',
        hit(r, { device_id: 'modbus:10.0.0.5/1', gateway: 'gw-1' }, T),
      );
      assert.equal(res.status, 201);
      assert.equal(res.body.outcome, 'created');
      const a = res.body.alert as Alert;
      assert.deepEqual(
        [a.rule_id, a.severity, a.techniques, a.entity_type, a.entity, a.count, a.status, a.first_seen],
        [r, 3, ['T0836'], 'device', 'modbus:10.0.0.5/1', 1, 'new', iso(T)],
      );
      const detail = (await call('GET', `/api/alerts/${a.id}`)).body;
      assert.deepEqual(
        detail.history.map((h) => [h.actor, h.change, h.to]),
        [['soc-alice', 'raised', 'new']],
      );
    });

    it('groups repeats on the same entity within the window; other entity or later hit is a new alert', async (t) => {
      if (!store) return skipUnmet(t);
      const r = rule();
      const first = (await call('POST', '/api/alerts', hit(r, { host: 'plc-7' }, T))).body.alert as Alert;
      const again = await call('POST', '/api/alerts', hit(r, { host: 'plc-7' }, T + 60_000, { count: 4 }));
      assert.equal(again.status, 200);
      assert.equal(again.body.outcome, 'grouped');
      assert.equal(again.body.alert.id, first.id);
      assert.equal(again.body.alert.count, 5);
      assert.equal(again.body.alert.last_seen, iso(T + 60_000));
      assert.deepEqual(again.body.alert.event_ids, [`gw:${T}`, `gw:${T + 60_000}`]);
      const other = await call('POST', '/api/alerts', hit(r, { host: 'plc-8' }, T + 60_000));
      assert.equal(other.body.outcome, 'created');
      const later = await call('POST', '/api/alerts', hit(r, { host: 'plc-7' }, T + 301_000));
      assert.equal(later.body.outcome, 'created');
      assert.notEqual(later.body.alert.id, first.id);
    });

    it('twenty concurrent hits of one rule on one entity make one alert with count 20', async (t) => {
      if (!store) return skipUnmet(t);
      const r = rule();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call('POST', '/api/alerts', hit(r, { host: 'hmi-1' }, T + i))),
      );
      assert.deepEqual(
        results.map((x) => x.body.outcome).sort(),
        ['created', ...Array(19).fill('grouped')].sort(),
      );
      const list = (await call('GET', `/api/alerts?rule_id=${r}`)).body;
      assert.equal(list.alerts.length, 1);
      assert.equal(list.alerts[0]?.count, 20);
    });

    it('records every status, assignee and comment change with who and when; closed alerts stay closed', async (t) => {
      if (!store) return skipUnmet(t);
      const r = rule();
      const a = (await call('POST', '/api/alerts', hit(r, { host: 'rtu-3' }, T))).body.alert as Alert;
      const patched = await call('PATCH', `/api/alerts/${a.id}`, {
        status: 'acknowledged',
        assignee: 'alice',
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.status, 'acknowledged');
      assert.equal(patched.body.assignee, 'alice');
      await call('PATCH', `/api/alerts/${a.id}`, { status: 'acknowledged' }); // no change, no history
      const comment = await call('POST', `/api/alerts/${a.id}/comments`, {
        body: 'PLC was being flashed | =ok',
      });
      assert.equal(comment.status, 201);
      await call('PATCH', `/api/alerts/${a.id}`, { status: 'false_positive', assignee: null });
      const detail = (await call('GET', `/api/alerts/${a.id}`)).body;
      assert.deepEqual(
        detail.history.map((h) => [h.actor, h.change, h.from, h.to]),
        [
          ['soc-alice', 'raised', null, 'new'],
          ['soc-alice', 'status', 'new', 'acknowledged'],
          ['soc-alice', 'assignee', null, 'alice'],
          ['soc-alice', 'comment', null, String(comment.body.id)],
          ['soc-alice', 'status', 'acknowledged', 'false_positive'],
          ['soc-alice', 'assignee', 'alice', null],
        ],
      );
      for (const h of detail.history) assert.match(h.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.deepEqual(
        detail.comments.map((c) => [c.author, c.body]),
        [['soc-alice', 'PLC was being flashed | =ok']],
      );
      const repeat = await call('POST', '/api/alerts', hit(r, { host: 'rtu-3' }, T + 1000));
      assert.equal(repeat.body.outcome, 'created', 'a false positive is not reopened by a repeat');
      assert.equal((await call('GET', '/api/alerts/999999999')).status, 404);
      assert.equal((await call('PATCH', '/api/alerts/999999999', { status: 'resolved' })).status, 404);
    });

    it('suppresses matching hits while a suppression window is active', async (t) => {
      if (!store) return skipUnmet(t);
      const r = rule();
      const s = await call('POST', '/api/alert-suppressions', {
        rule_id: r,
        entity: 'plc-9',
        starts_at: iso(T),
        duration_secs: 600,
        reason: 'maintenance window',
      });
      assert.equal(s.status, 201);
      assert.equal(s.body.created_by, 'soc-alice');
      assert.equal(
        (await call('POST', '/api/alerts', hit(r, { host: 'plc-9' }, T + 1000))).body.outcome,
        'suppressed',
      );
      assert.equal(
        (await call('POST', '/api/alerts', hit(r, { host: 'plc-10' }, T + 1000))).body.outcome,
        'created',
      );
      assert.equal(
        (await call('POST', '/api/alerts', hit(r, { host: 'plc-9' }, T + 600_000))).body.outcome,
        'created',
      );
      assert.equal((await call('GET', `/api/alerts?rule_id=${r}&entity=plc-9`)).body.alerts.length, 1);
      assert.equal((await call('DELETE', `/api/alert-suppressions/${s.body.id}`)).status, 204);
      assert.equal((await call('DELETE', `/api/alert-suppressions/${s.body.id}`)).status, 404);
      const values = (await metrics.alerts.get()).values;
      assert.ok(values.some((v) => v.labels.outcome === 'suppressed' && v.value >= 1));
    });

    it('finds the events and other alerts of the same device around the alert', async (t) => {
      if (!store) return skipUnmet(t);
      const device = `dev-related-${name}`;
      const near = [1, 2].map((seq) =>
        makeEvent('gw-rel', seq, iso(T - seq * 60_000), { device: { id: device } }),
      );
      const far = makeEvent('gw-rel', 3, iso(T - 2 * 3_600_000), { device: { id: device } });
      const otherDevice = makeEvent('gw-rel', 4, iso(T), { device: { id: 'someone-else' } });
      await store.insertEvents([...near, far, otherDevice]);
      const a = (await call('POST', '/api/alerts', hit(rule(), { device_id: device }, T))).body
        .alert as Alert;
      const b = (await call('POST', '/api/alerts', hit(rule(), { device_id: device }, T))).body
        .alert as Alert;
      const related = (await call('GET', `/api/alerts/${a.id}/related`)).body;
      assert.deepEqual(
        related.events.map((e) => e.id),
        near.map((e) => e.id),
      );
      assert.deepEqual(
        related.alerts.map((x: Alert) => x.id),
        [b.id],
      );
    });

    it('lists with filters and keyset pages', async (t) => {
      if (!store) return skipUnmet(t);
      const r = rule();
      for (let i = 0; i < 5; i++) await call('POST', '/api/alerts', hit(r, { host: `h-${i}` }, T));
      const first = (await call('GET', `/api/alerts?rule_id=${r}&limit=3`)).body;
      assert.equal(first.alerts.length, 3);
      const second = (await call('GET', `/api/alerts?rule_id=${r}&limit=3&before_id=${first.next_before_id}`))
        .body;
      assert.equal(second.alerts.length, 2);
      assert.equal(second.next_before_id, null);
      const ids = [...first.alerts, ...second.alerts].map((a: Alert) => a.id);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => y - x),
      );
    });

    it('refuses bad input with a 400 naming the field, and requires the token', async (t) => {
      if (!store) return skipUnmet(t);
      const bad = await call('POST', '/api/alerts', {
        ...hit(rule(), { host: 'x' }, T),
        rule: { id: 'r', title: 't', level: 'high', techniques: ['DROP TABLE'] },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /rule\.techniques\.0/);
      const noEntity = await call('POST', '/api/alerts', { ...hit(rule(), {}, T) });
      assert.equal(noEntity.status, 400);
      assert.match(noEntity.body.error, /device_id or a host/);
      assert.equal((await call('PATCH', '/api/alerts/1', { status: 'closed' })).status, 400);
      assert.equal((await call('GET', '/api/alerts/abc')).status, 400);
    });
  });
}

describe('mergeEventIds', () => {
  it('keeps the first 50 and the latest 50 ids, without repeats', () => {
    const ids = Array.from({ length: 150 }, (_, i) => `g:${i}`);
    const merged = mergeEventIds(ids.slice(0, 100), [...ids.slice(90), 'g:0']);
    assert.deepEqual(merged, [...ids.slice(0, 50), ...ids.slice(100)]);
  });
});

suite('pglite', () => createPgliteStore());
const db = await createTempDatabase();
if ('error' in db && IN_CI) throw new Error(`${db.error}; CI must start PostgreSQL (.ci/run)`);
suite('postgres', async () =>
  'error' in db ? undefined : createPostgresStore({ connectionString: db.url, poolMax: 8 }),
);
after(async () => {
  if (!('error' in db)) await db.drop();
});
