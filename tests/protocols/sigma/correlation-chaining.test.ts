/**
 * Sigma correlations beyond the single examples: conditions with an upper bound (decided when the
 * window ends), correlations chained on correlations, field aliases, `generate`, and the refusals
 * (unknown references, cycles, thresholds beyond the bound).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Event } from '../../../protocols/event/schema.ts';
import { loadSigma } from '../../../protocols/sigma/index.ts';
import { T0, S, MIN, base, engineFor, ev, run, corr } from './correlation-fixtures.ts';
import { makeEvent } from './helpers.ts';

describe('conditions with an upper bound, chaining, aliases, generate', () => {
  test('event_count lt 3: fewer than three in the window, decided at its end', () => {
    const c = `title: quiet\nid: quiet\ncorrelation:\n    type: event_count\n    rules: [hb]\n    group-by: [dev]\n    timespan: 10m\n    condition: {lt: 3}\n`;
    const e = engineFor([base('hb'), c]);
    run(e, [
      [T0, ev('hb', { dev: 'a' })],
      [T0, ev('hb', { dev: 'b' })],
      [T0 + MIN, ev('hb', { dev: 'b' })],
      [T0 + 2 * MIN, ev('hb', { dev: 'b' })],
    ]);
    const out = corr(e.advance(T0 + 11 * MIN));
    assert.deepEqual(
      out.map((a) => a.entity.group),
      [{ dev: 'a' }],
    );
    const range = c.replace('{lt: 3}', '{gt: 1, lte: 2}');
    const r = engineFor([base('hb'), range]);
    run(r, [
      [T0, ev('hb', { dev: 'a' })],
      [T0 + S, ev('hb', { dev: 'a' })],
      [T0, ev('hb', { dev: 'b' })],
    ]);
    assert.deepEqual(
      corr(r.flush()).map((a) => a.entity.group),
      [{ dev: 'a' }],
    );
  });

  test('the specification example "Multiple Failed Logins Followed by Successful Login" (chained)', () => {
    const text = `title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
correlation:
    type: temporal_ordered
    rules: [multiple_failed_login, successful_login]
    group-by: [User]
    timespan: 10m
level: high
tags: [attack.credential-access, attack.t1110]
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 10m
    condition: {gte: 10}
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource: {product: windows, service: security}
detection:
    selection: {EventID: [529, 4625]}
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource: {product: windows, service: security}
detection:
    selection: {EventID: [528, 4624]}
    condition: selection
`;
    const e = engineFor([text], { logsources: { 'product:windows': ['syslog'] } });
    const login = (id: number, user: string) => makeEvent({ fields: { EventID: id, User: user } });
    const stream: Array<[number, Event]> = [];
    for (let i = 0; i < 10; i++) stream.push([T0 + i * S, login(4625, 'admin')]);
    stream.push([T0 + 20 * S, login(4624, 'bob')]);
    const quiet = run(e, stream);
    assert.deepEqual(quiet, [], 'the parts raise nothing on their own');
    const out = run(e, [[T0 + 30 * S, login(4624, 'admin')]]);
    assert.equal(out.length, 1);
    const a = out[0]!;
    assert.equal(a.rule.id, 'b180ead8-d58f-40b2-ae54-c8940995b9b6');
    assert.equal(a.rule.type, 'temporal_ordered');
    assert.equal(a.level, 'high');
    assert.equal(a.severity, 3);
    assert.deepEqual(a.techniques, ['T1110']);
    assert.deepEqual(a.entity.group, { User: 'admin' });
    assert.equal(a.event_ids.length, 2, 'the event that completed the count and the success');
  });

  test('aliases: the same address as destination in one rule and source in the other', () => {
    const text = `name: internal_error
title: internal error
logsource: {product: syslog}
detection:
    selection: {http.response.status_code: 500}
    condition: selection
---
name: new_network_connection
title: new connection
logsource: {product: syslog}
detection:
    selection: {event.outcome: success}
    condition: selection
---
title: error then connection back
id: alias-corr
correlation:
    type: temporal
    rules: [internal_error, new_network_connection]
    group-by: [internal_ip, remote_ip]
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: dst.ip
            new_network_connection: src.ip
        remote_ip:
            internal_error: src.ip
            new_network_connection: dst.ip
`;
    const e = engineFor([text]);
    const err = (src: string, dst: string) =>
      makeEvent({ src: { ip: src }, dst: { ip: dst }, fields: { 'http.response.status_code': 500 } });
    const conn = (src: string, dst: string) =>
      makeEvent({ src: { ip: src }, dst: { ip: dst }, fields: { 'event.outcome': 'success' } });
    assert.deepEqual(
      corr(
        run(e, [
          [T0, err('1.1.1.1', '10.0.0.5')],
          [T0 + S, conn('1.1.1.1', '10.0.0.5')],
        ]),
      ),
      [],
    );
    const out = corr(run(e, [[T0 + 2 * S, conn('10.0.0.5', '1.1.1.1')]]));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.entity.group, { internal_ip: '10.0.0.5', remote_ip: '1.1.1.1' });
  });

  test('generate: true keeps the referenced rules alerting on their own', () => {
    const c = (gen: boolean) =>
      `title: c\nid: c\ngenerate: ${gen}\ncorrelation:\n    type: event_count\n    rules: [x]\n    group-by: [h]\n    timespan: 1m\n    condition: {gte: 2}\n`;
    assert.equal(run(engineFor([base('x'), c(false)]), [[T0, ev('x', { h: 1 })]]).length, 0);
    const out = run(engineFor([base('x'), c(true)]), [[T0, ev('x', { h: 1 })]]);
    assert.deepEqual(
      out.map((a) => a.rule.id),
      ['x'],
    );
  });

  test('refusals: unknown references, cycles, thresholds beyond the bound', () => {
    const cyc = `title: p\nid: p\ncorrelation: {type: event_count, rules: [q], group-by: [h], timespan: 1m, condition: {gte: 2}}\n---\ntitle: q\nid: q\ncorrelation: {type: event_count, rules: [p], group-by: [h], timespan: 1m, condition: {gte: 2}}\n`;
    const e = engineFor([cyc]);
    assert.deepEqual(
      e.errors.map((x) => x.code),
      ['unknown_rule_reference', 'unknown_rule_reference'],
    );
    const unknown = engineFor([
      `title: u\nid: u\ncorrelation: {type: temporal, rules: [nope, nada], group-by: [h], timespan: 1m}\n`,
    ]);
    assert.match(unknown.errors[0]!.message, /nope, nada/);
    const big = engineFor([
      base('x'),
      `title: b\nid: b\ncorrelation: {type: event_count, rules: [x], group-by: [h], timespan: 1m, condition: {gte: 1000000}}\n`,
    ]);
    assert.equal(big.errors[0]!.code, 'unsupported');
    assert.match(big.errors[0]!.message, /maxEventsPerGroup/);
    assert.equal(
      loadSigma(
        `title: t\ncorrelation: {type: event_count, rules: [x], group-by: [h], timespan: 1 hour, condition: {gte: 1}}`,
      ).errors[0]!.code,
      'invalid_correlation',
    );
    assert.equal(
      loadSigma(
        `title: t\ncorrelation: {type: value_count, rules: [x], group-by: [h], timespan: 1h, condition: {gte: 1}}`,
      ).errors[0]!.code,
      'invalid_correlation',
    );
    assert.equal(
      loadSigma(`title: t\ncorrelation: {type: event_count, rules: [x], timespan: 1h}`).errors[0]!.code,
      'invalid_correlation',
    );
  });
});
