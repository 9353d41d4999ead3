/**
 * Sigma correlation alerts and bounded state: the alert's shape (rule, severity, ATT&CK for ICS
 * techniques, entity, triggering events), repeats grouped into one alert with a count,
 * informational rules that never alert, and groups evicted least recently used or by expiry.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type SigmaAlert } from '../../../protocols/sigma/index.ts';
import { sharedData } from '../../support/env.ts';
import { T0, S, MIN, base, engineFor, ev, run, corr } from './correlation-fixtures.ts';
import { makeEvent } from './helpers.ts';

describe('alerts', () => {
  test('shape: rule, level → severity, ATT&CK (ICS) techniques, entity, triggering event', () => {
    const rule = `title: Unauthorized write
id: w1
logsource: {product: modbus}
detection:
    sel: {action: 'modbus.write_*', src.ip|cidr: '0.0.0.0/0'}
    filter: {src.ip: 10.0.0.1}
    condition: sel and not filter
level: critical
tags: [attack.impair-process-control, attack.t0855, attack.t0836]
`;
    const e = engineFor([rule]);
    const w = makeEvent({
      source: 'modbus',
      action: 'modbus.write_single_register',
      src: { ip: '10.0.0.66' },
      device: { id: 'modbus:10.0.0.5/1' },
    });
    const [a, ...rest] = e.process(w, T0);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...a!, id: undefined },
      {
        id: undefined,
        kind: 'new',
        rule: { id: 'w1', title: 'Unauthorized write', type: 'detection' },
        level: 'critical',
        severity: 2,
        techniques: ['T0855', 'T0836'],
        tactics: ['impair-process-control'],
        entity: { key: 'modbus:10.0.0.5/1', gateway: 'gw1', device: 'modbus:10.0.0.5/1' },
        event_ids: [w.id],
        count: 1,
        first_ms: T0,
        last_ms: T0,
      },
    );
    assert.deepEqual(
      e.process(
        makeEvent({ source: 'modbus', action: 'modbus.write_single_register', src: { ip: '10.0.0.1' } }),
        T0,
      ),
      [],
    );
  });

  test('grouping: repeats on the same entity within the window are one alert with a count', () => {
    const e = engineFor([base('x')], { alertWindowMs: 5 * MIN });
    const dev = (d: string) => ev('x', {}, { device: { id: d } });
    const out = run(e, [
      [T0, dev('a')],
      [T0 + MIN, dev('a')],
      [T0 + 2 * MIN, dev('b')],
      [T0 + 3 * MIN, dev('a')],
    ]);
    assert.deepEqual(
      out.map((a) => [a.kind, a.entity.key, a.count]),
      [
        ['new', 'a', 1],
        ['new', 'b', 1],
      ],
    );
    const later = e.advance(T0 + 6 * MIN);
    assert.deepEqual(
      later.map((a) => [a.kind, a.entity.key, a.count, a.id === out[0]!.id]),
      [['update', 'a', 3, true]],
    );
    assert.equal(later[0]!.event_ids.length, 3);
    // after the window, the same pair opens a new alert
    assert.deepEqual(
      run(e, [[T0 + 7 * MIN, dev('a')]]).map((a) => a.kind),
      ['new'],
    );
    assert.equal(e.stats().alertsUpdated, 1);
  });

  test('informational rules never alert (rules specification "Level")', () => {
    const e = engineFor([base('x').replace('level: low', 'level: informational')]);
    assert.deepEqual(e.process(ev('x'), T0), []);
    assert.equal(e.stats().ruleMatches, 1);
  });
});

describe('bounded state', () => {
  test('groups beyond maxGroupsPerCorrelation evict the least recently used, counted', () => {
    const c = `title: c\nid: c\ncorrelation: {type: event_count, rules: [x], group-by: [h], timespan: 1h, condition: {gte: 3}}\n`;
    const e = engineFor([base('x'), c], { maxGroupsPerCorrelation: 10, maxAlertGroups: 5 });
    for (let i = 0; i < 1000; i++) e.process(ev('x', { h: `host${i}` }), T0 + i);
    const s = e.stats();
    assert.equal(s.correlationGroups, 10);
    assert.equal(s.evictedCorrelationGroups, 990);
    // the survivors are the most recent: three more events of host999 fire
    assert.equal(
      corr(
        run(e, [
          [T0 + 2000, ev('x', { h: 'host999' })],
          [T0 + 2001, ev('x', { h: 'host999' })],
        ]),
      ).length,
      1,
    );
    // windows expire: an hour later nothing is left
    e.advance(T0 + 2 * 3600 * S);
    assert.equal(e.stats().correlationGroups, 0);
  });
  test('expired groups are dropped in time order even while the oldest group keeps being touched', () => {
    // Sliding: a group touched again moves behind the others; an expired one behind a live one
    // must still go (the cursor at the front must not keep showing the group that moved).
    const c = `title: c\nid: c\ncorrelation: {type: event_count, rules: [x], group-by: [h], timespan: 10s, condition: {gte: 3}}\n`;
    const e = engineFor([base('x'), c]);
    e.process(ev('x', { h: 'a' }), T0);
    e.process(ev('x', { h: 'b' }), T0 + 1 * S);
    e.process(ev('x', { h: 'a' }), T0 + 9 * S); // a is touched: b is now the oldest
    e.process(ev('x', { h: 'c' }), T0 + 12 * S); // b's last event is 11 s old: gone
    assert.equal(e.stats().correlationGroups, 2);
    e.process(ev('x', { h: 'c' }), T0 + 20 * S); // a's is 11 s old: gone
    assert.equal(e.stats().correlationGroups, 1);
    // Window mode (an upper bound): a window closes on time, the next one under the same key opens.
    const w = `title: w\nid: w\ncorrelation: {type: event_count, rules: [x], group-by: [h], timespan: 10s, condition: {lt: 5}}\n`;
    const ew = engineFor([base('x'), w], { alertWindowMs: 0 }); // every hit its own alert
    const closed: SigmaAlert[] = [];
    for (const [t, h] of [
      [0, 'a'],
      [1, 'b'],
      [11, 'a'], // a's first window closed at 10 s; a new one opens
      [12, 'b'], // b's closed at 11 s
      [22, 'c'], // a's second closed at 21 s
    ] as const)
      closed.push(...ew.process(ev('x', { h }), T0 + t * S));
    assert.deepEqual(
      corr(closed).map((a) => a.entity.group),
      [{ h: 'a' }, { h: 'b' }, { h: 'a' }],
    );
    assert.equal(ew.stats().correlationGroups, 2);
  });
  test('a path to the spec file resolves', (t) => {
    const dir = sharedData(t, 'sigma-spec');
    if (dir) assert.ok(path.isAbsolute(dir));
  });
});
