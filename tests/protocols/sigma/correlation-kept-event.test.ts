/**
 * What an open correlation group keeps of its last event (issue 18 ask 3): only the attributes its
 * alert's entity and the correlations it feeds read, not the whole event, so a matching event's
 * message and fields do not live on for the group's timespan. Chained correlations still group by
 * what they read, down the whole chain, and the alert names the same entity as before.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { base, corr, engineFor, ev, MIN, run, S, T0 } from './correlation-fixtures.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const bruteForce = `title: bf\nid: bf\nname: bf\ncorrelation:\n    type: event_count\n    rules: [fail]\n    group-by: [src.ip]\n    timespan: 1m\n    condition: {gte: 3}\nlevel: high\n`;

describe('correlation groups keep part of their last event', () => {
  test('an open group keeps neither the event nor its fields; its alert names the same entity', async () => {
    const engine = engineFor([base('fail'), bruteForce]);
    const src = { ip: '10.0.0.7', port: 40000 };
    const refs = (() => {
      const e = ev(
        'fail',
        { note: 'x'.repeat(4000) },
        { src, host: 'plc-1', device: { id: 'syslog:plc-1' } },
      );
      engine.process(e, T0);
      return { event: new WeakRef(e), fields: new WeakRef(e.fields) };
    })();
    // The matcher's per-event cache holds the last event it read: another one takes its place.
    engine.process(ev('other'), T0);
    // A WeakRef's target lives until the end of the current job: collect in the next one.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(engine.stats().correlationGroups, 1, 'the group is open');
    assert.equal(refs.event.deref(), undefined, 'the event was collected');
    assert.equal(refs.fields.deref(), undefined, 'its fields were collected');
    const alerts = corr(
      run(engine, [
        [T0 + S, ev('fail', {}, { src, host: 'plc-1', device: { id: 'syslog:plc-1' } })],
        [T0 + 2 * S, ev('fail', {}, { src, host: 'plc-1', device: { id: 'syslog:plc-1' } })],
      ]),
    );
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0]!.entity, {
      key: '["10.0.0.7"]',
      gateway: 'gw1',
      device: 'syslog:plc-1',
      host: 'plc-1',
      group: { 'src.ip': '10.0.0.7' },
    });
  });

  test('a chain keeps what every later step reads: a, then b by fields.user, then c by dst.ip', () => {
    const a = `title: a\nid: a\nname: a\ncorrelation:\n    type: event_count\n    rules: [x]\n    group-by: [host]\n    timespan: 10m\n    condition: {gte: 2}\n`;
    const b = `title: b\nid: b\nname: b\ncorrelation:\n    type: event_count\n    rules: [a]\n    group-by: [user]\n    timespan: 10m\n    condition: {gte: 1}\n`;
    const c = `title: c\nid: c\nname: c\ncorrelation:\n    type: event_count\n    rules: [b]\n    group-by: [dst.ip]\n    timespan: 10m\n    condition: {gte: 1}\nlevel: high\n`;
    const engine = engineFor([base('x'), a, b, c]);
    const over = { host: 'hmi-2', dst: { ip: '10.0.0.9', port: 502 } };
    const alerts = corr(
      run(engine, [
        [T0, ev('x', { user: 'ops' }, over)],
        [T0 + MIN, ev('x', { user: 'ops' }, over)],
      ]),
    );
    assert.deepEqual(
      alerts.map((x) => [x.rule.title, x.entity.group]),
      [['c', { 'dst.ip': '10.0.0.9' }]],
    );
  });
});
