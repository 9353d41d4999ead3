/**
 * Sigma correlations (correlation rules specification) on synthetic event streams with the time
 * passed in: every valid example of the sigma-specification repository loads and behaves as its
 * title says; window edges, group-by, ordering, chaining, aliases, `generate`; alert shape and
 * grouping; and bounded state.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Event } from '../../../protocols/event/schema.ts';
import {
  createSigmaEngine,
  loadSigma,
  type SigmaAlert,
  type SigmaEngineOptions,
  type SigmaLoadResult,
} from '../../../protocols/sigma/index.ts';
import { sharedData } from '../../support/env.ts';
import { makeEvent } from './helpers.ts';

const T0 = Date.parse('2024-06-01T00:00:00Z');
const S = 1000;
const MIN = 60 * S;

/** A base rule named `name` (also its id) matching events whose fields.kind is `name`. */
const base = (name: string, extra = '') => `title: ${name}
id: ${name}
name: ${name}
logsource: {product: syslog}
detection:
    sel: {kind_of: ${name}}
    condition: sel
level: low
${extra}`;

function engineFor(texts: string[], options: SigmaEngineOptions = {}) {
  const all: SigmaLoadResult = { rules: [], correlations: [], filters: [], errors: [] };
  for (const t of texts) {
    const r = loadSigma(t);
    all.rules.push(...r.rules);
    all.correlations.push(...r.correlations);
    all.errors.push(...r.errors);
  }
  assert.deepEqual(all.errors, []);
  return createSigmaEngine(all, options);
}

const ev = (kindOf: string, fields: Record<string, unknown> = {}, over: Partial<Event> = {}) =>
  makeEvent({ fields: { kind_of: kindOf, ...fields }, ...over });

/** Feeds [time, event] pairs; returns the alerts, `new` and `update` alike. */
function run(
  engine: ReturnType<typeof createSigmaEngine>,
  stream: Array<[number, Event]>,
  flush = false,
): SigmaAlert[] {
  const out: SigmaAlert[] = [];
  for (const [t, e] of stream) out.push(...engine.process(e, t));
  if (flush) out.push(...engine.flush());
  return out;
}
const corr = (alerts: SigmaAlert[]) => alerts.filter((a) => a.rule.type !== 'detection' && a.kind === 'new');

function specExample(t: Parameters<typeof sharedData>[0], name: string): string | undefined {
  const file = sharedData(t, 'sigma-spec', 'tests', 'schema', 'correlation', name);
  return file && readFileSync(file, 'utf8');
}

describe('the sigma-specification examples', () => {
  test('event_count.yml: "Many failed logins", gte 100 in 1h per ComputerName', (t) => {
    const text = specExample(t, 'event_count.yml');
    if (!text) return;
    const e = engineFor([base('5638f7c0-ac70-491d-8465-2a65075e0d86'), text]);
    const failed = (host: string) => ev('5638f7c0-ac70-491d-8465-2a65075e0d86', { ComputerName: host });
    // 99 in the hour: nothing; the 100th: one alert; the base rule itself is silent (generate: false)
    const first = run(
      e,
      Array.from({ length: 99 }, (_, i) => [T0 + i * 30 * S, failed('pc1')] as [number, Event]),
    );
    assert.deepEqual(first, []);
    const hit = run(e, [[T0 + 3000 * S, failed('pc1')]]);
    assert.equal(hit.length, 1);
    assert.equal(hit[0]!.rule.title, 'Many failed logins');
    assert.equal(hit[0]!.correlation!.value, 100);
    assert.deepEqual(hit[0]!.entity.group, { ComputerName: 'pc1' });
    // another host's events never add to pc1's count
    assert.deepEqual(
      corr(
        run(
          e,
          Array.from({ length: 99 }, () => [T0 + 3100 * S, failed('pc2')] as [number, Event]),
        ),
      ),
      [],
    );
  });

  test('event_count: window edges are inclusive, and older events slide out', (t) => {
    const text = specExample(t, 'event_count.yml');
    if (!text) return;
    const rule = text.replace('gte: 100', 'gte: 3');
    const id = '5638f7c0-ac70-491d-8465-2a65075e0d86';
    const e1 = engineFor([base(id), rule]);
    // exactly one hour from first to last: inside
    assert.equal(
      corr(
        run(e1, [
          [T0, ev(id, { ComputerName: 'a' })],
          [T0 + 30 * MIN, ev(id, { ComputerName: 'a' })],
          [T0 + 60 * MIN, ev(id, { ComputerName: 'a' })],
        ]),
      ).length,
      1,
    );
    const e2 = engineFor([base(id), rule]);
    // one millisecond more: the first has slid out; a fourth within the hour of the second fires
    const out = run(e2, [
      [T0, ev(id, { ComputerName: 'a' })],
      [T0 + 30 * MIN, ev(id, { ComputerName: 'a' })],
      [T0 + 60 * MIN + 1, ev(id, { ComputerName: 'a' })],
    ]);
    assert.equal(corr(out).length, 0);
    assert.equal(corr(run(e2, [[T0 + 61 * MIN, ev(id, { ComputerName: 'a' })]])).length, 1);
  });

  test('event_count_ecs.yml: dotted ECS group-by fields', (t) => {
    const text = specExample(t, 'event_count_ecs.yml');
    if (!text) return;
    const id = '5638f7c0-ac70-491d-8465-2a65075e0d86';
    const e = engineFor([base(id), text.replace('gte: 100', 'gte: 2')]);
    const out = run(e, [
      [T0, ev(id, { 'dns.question.name': 'x.org' })],
      [T0 + S, ev(id, { dns: { question: { name: 'x.org' } } })],
    ]);
    assert.equal(corr(out).length, 1);
    assert.deepEqual(corr(out)[0]!.entity.group, { 'dns.question.name': 'x.org' });
  });

  test('value_count.yml: 100 distinct Users per ComputerName and WorkstationName in a day', (t) => {
    const text = specExample(t, 'value_count.yml');
    if (!text) return;
    const id = '5638f7c0-ac70-491d-8465-2a65075e0d86';
    const e = engineFor([base(id), text]);
    const f = (user: string) => ev(id, { ComputerName: 'dc', WorkstationName: 'ws', User: user });
    // the same user a thousand times is one value
    assert.deepEqual(
      corr(
        run(
          e,
          Array.from({ length: 1000 }, (_, i) => [T0 + i * S, f('bob')] as [number, Event]),
        ),
      ),
      [],
    );
    const out = run(
      e,
      Array.from({ length: 99 }, (_, i) => [T0 + 2000 * S + i * S, f(`u${i}`)] as [number, Event]),
    );
    assert.equal(corr(out).length, 1, 'bob + 99 others = 100 distinct');
    assert.equal(corr(out)[0]!.correlation!.value, 100);
  });

  test('temporal.yml: recon_cmd_a, b and c in any order within 5m, same ComputerName and User', (t) => {
    const text = specExample(t, 'temporal.yml');
    if (!text) return;
    const rules = ['recon_cmd_a', 'recon_cmd_b', 'recon_cmd_c'].map((n) => base(n));
    const who = { ComputerName: 'pc', User: 'eve' };
    const e = engineFor([...rules, text]);
    assert.equal(
      corr(
        run(e, [
          [T0, ev('recon_cmd_c', who)],
          [T0 + MIN, ev('recon_cmd_a', who)],
          [T0 + 2 * MIN, ev('recon_cmd_b', who)],
        ]),
      ).length,
      1,
    );
    const e2 = engineFor([...rules, text]);
    // c too late, then b by another user: nothing
    const out = run(e2, [
      [T0, ev('recon_cmd_a', who)],
      [T0 + MIN, ev('recon_cmd_b', who)],
      [T0 + 7 * MIN, ev('recon_cmd_c', who)],
      [T0 + 8 * MIN, ev('recon_cmd_a', { ...who, User: 'bob' })],
    ]);
    assert.deepEqual(corr(out), []);
    // ...but b and a again within 5 minutes of that c: fires
    assert.equal(
      corr(
        run(e2, [
          [T0 + 9 * MIN, ev('recon_cmd_b', who)],
          [T0 + 10 * MIN, ev('recon_cmd_a', who)],
        ]),
      ).length,
      1,
    );
  });

  test('temporal_ordered.yml: a then b then c within 5m', (t) => {
    const text = specExample(t, 'temporal_ordered.yml');
    if (!text) return;
    const rules = ['recon_cmd_a', 'recon_cmd_b', 'recon_cmd_c'].map((n) => base(n));
    const who = { ComputerName: 'pc', User: 'eve' };
    const seq = (names: string[], start = T0) =>
      names.map((n, i) => [start + i * MIN, ev(n, who)] as [number, Event]);
    assert.equal(
      corr(run(engineFor([...rules, text]), seq(['recon_cmd_a', 'recon_cmd_b', 'recon_cmd_c']))).length,
      1,
    );
    assert.equal(
      corr(run(engineFor([...rules, text]), seq(['recon_cmd_c', 'recon_cmd_b', 'recon_cmd_a']))).length,
      0,
    );
    assert.equal(
      corr(run(engineFor([...rules, text]), seq(['recon_cmd_a', 'recon_cmd_c', 'recon_cmd_b']))).length,
      0,
    );
    assert.equal(
      corr(
        run(
          engineFor([...rules, text]),
          seq(['recon_cmd_b', 'recon_cmd_a', 'recon_cmd_c', 'recon_cmd_b', 'recon_cmd_c']),
        ),
      ).length,
      1,
    );
    // in order but spread over 6 minutes: too slow
    const slow = [
      [T0, ev('recon_cmd_a', who)],
      [T0 + 3 * MIN, ev('recon_cmd_b', who)],
      [T0 + 6 * MIN, ev('recon_cmd_c', who)],
    ] as Array<[number, Event]>;
    assert.equal(corr(run(engineFor([...rules, text]), slow)).length, 0);
    // one event matching a and b at once does not complete both steps
    const both = engineFor([
      base('recon_cmd_a'),
      base('recon_cmd_b').replace('kind_of: recon_cmd_b', 'both: yes'),
      base('recon_cmd_c'),
      text,
    ]);
    const out = run(both, [
      [T0, ev('recon_cmd_a', { ...who, both: 'yes' })],
      [T0 + MIN, ev('recon_cmd_c', who)],
    ]);
    assert.equal(corr(out).length, 0);
  });

  test('value_sum.yml and value_avg.yml: decided when the window closes', (t) => {
    const sum = specExample(t, 'value_sum.yml');
    const avg = specExample(t, 'value_avg.yml');
    if (!sum || !avg) return;
    const es = engineFor([base('website_access'), sum]);
    const w = (bytes: number, ip = '10.0.0.1') =>
      ev('website_access', { SourceIP: ip, User: 'u', bytes_sent: bytes });
    const early = run(es, [
      [T0, w(600_000)],
      [T0 + MIN, w(500_000)],
      [T0 + 2 * MIN, w(900_000, '10.0.0.2')],
    ]);
    assert.deepEqual(corr(early), [], 'nothing before the hour is over');
    const late = es.advance(T0 + 61 * MIN);
    assert.equal(corr(late).length, 1);
    assert.equal(corr(late)[0]!.correlation!.value, 1_100_000);
    assert.deepEqual(corr(late)[0]!.entity.group, { SourceIP: '10.0.0.1', User: 'u' });
    const ea = engineFor([base('rule_a_id'), avg]);
    const a = (bytes: number) => ev('rule_a_id', { SourceIP: 'x', User: 'u', BytesOut: bytes });
    run(ea, [
      [T0, a(400)],
      [T0 + S, a(700)],
    ]);
    assert.equal(corr(ea.flush()).length, 1, 'average 550 > 500');
    const eb = engineFor([base('rule_a_id'), avg]);
    run(eb, [
      [T0, a(400)],
      [T0 + S, a(500)],
    ]);
    assert.equal(corr(eb.flush()).length, 0, 'average 450');
  });

  test('value_percentile.yml: a value under 1% of the window fires, named, when the window closes', (t) => {
    const text = specExample(t, 'value_percentile.yml');
    if (!text) return;
    const e = engineFor([base('process_creation'), text]);
    assert.deepEqual(e.errors, []);
    const p = (image: string, host = 'pc1') => ev('process_creation', { ComputerName: host, Image: image });
    const stream: Array<[number, Event]> = [];
    for (let i = 0; i < 150; i++) stream.push([T0 + i * S, p('svchost.exe')]);
    for (let i = 0; i < 49; i++) stream.push([T0 + 200 * S + i * S, p('explorer.exe')]);
    stream.push([T0 + 300 * S, p('mimikatz.exe')]); // 1 of 200 events: 0.5%
    for (let i = 0; i < 60; i++) stream.push([T0 + i * S, p(i % 2 ? 'a.exe' : 'b.exe', 'pc2')]);
    assert.deepEqual(corr(run(e, stream)), [], 'decided only when the 24 h window is over');
    const out = corr(e.advance(T0 + 25 * 3600 * S));
    assert.equal(out.length, 1, 'pc2 has no rare value (50% each)');
    assert.equal(out[0]!.correlation!.value, 0.5);
    assert.deepEqual(out[0]!.entity.group, { ComputerName: 'pc1', Image: 'mimikatz.exe' });
  });

  test('value_percentile refuses a bound outside 0..100', () => {
    const c = `title: c\nid: c\ncorrelation: {type: value_percentile, rules: [x], group-by: [h], timespan: 1h, condition: {field: f, lte: 150}}\n`;
    const r = loadSigma(c);
    const e = createSigmaEngine({ rules: loadSigma(base('x')).rules, correlations: r.correlations });
    assert.equal(e.errors.length, 1);
    assert.match(e.errors[0]!.message, /percent/);
  });
});

describe('restart recovery (snapshot and restore)', () => {
  const brute = `title: brute\nid: brute\ncorrelation: {type: event_count, rules: [fail], group-by: [peer], timespan: 1m, condition: {gte: 5}}\nlevel: high\n`;
  const f = (peer = '192.0.2.1') => ev('fail', { peer });

  test('a brute force in progress (3 of 5) survives a restart: 2 more failures alert', () => {
    const before = engineFor([base('fail'), brute]);
    assert.deepEqual(
      corr(
        run(
          before,
          [0, 1, 2].map((i) => [T0 + i * S, f()] as [number, Event]),
        ),
      ),
      [],
    );
    // What the gateway writes to disk and reads back at start.
    const saved = JSON.parse(JSON.stringify(before.snapshot()));
    const after = engineFor([base('fail'), brute]);
    assert.deepEqual(after.restore(saved), { restored: 1, skipped: 0 });
    const out = corr(
      run(
        after,
        [3, 4].map((i) => [T0 + i * S, f()] as [number, Event]),
      ),
    );
    assert.equal(out.length, 1);
    assert.equal(out[0]!.correlation!.value, 5);
    assert.equal(out[0]!.event_ids.length, 5, 'the events from before the restart are named too');
    // Without the snapshot, the same two failures are not enough.
    const fresh = engineFor([base('fail'), brute]);
    assert.deepEqual(
      corr(
        run(
          fresh,
          [3, 4].map((i) => [T0 + i * S, f()] as [number, Event]),
        ),
      ),
      [],
    );
  });

  test('window edges still hold after a restore: failures older than the timespan do not count', () => {
    const before = engineFor([base('fail'), brute]);
    run(
      before,
      [0, 1, 2].map((i) => [T0 + i * S, f()] as [number, Event]),
    );
    const after = engineFor([base('fail'), brute]);
    after.restore(JSON.parse(JSON.stringify(before.snapshot())));
    const late = corr(
      run(
        after,
        [61, 62].map((i) => [T0 + i * S, f()] as [number, Event]),
      ),
    );
    assert.deepEqual(late, []);
  });

  test('a changed correlation starts empty; damaged snapshots are skipped, never thrown', () => {
    const before = engineFor([base('fail'), brute]);
    run(before, [[T0, f()]]);
    const changed = engineFor([base('fail'), brute.replace('gte: 5', 'gte: 6')]);
    assert.deepEqual(changed.restore(before.snapshot()), { restored: 0, skipped: 1 });
    const e = engineFor([base('fail'), brute]);
    for (const junk of [null, 42, 'x', { v: 2 }, { v: 1, correlations: [null, { key: 1 }] }])
      assert.deepEqual(e.restore(junk), { restored: 0, skipped: 0 });
    const snap = before.snapshot();
    (snap.correlations[0]!.groups[0] as unknown as Record<string, unknown>).times = 'bad';
    assert.deepEqual(e.restore(snap), { restored: 0, skipped: 1 });
  });

  test('snapshots are bounded to the most recent groups per correlation', () => {
    const e = engineFor([base('fail'), brute]);
    for (let i = 0; i < 50; i++) e.process(f(`10.0.0.${i}`), T0 + i);
    const snap = e.snapshot(10);
    assert.equal(snap.correlations[0]!.groups.length, 10);
    assert.deepEqual(snap.correlations[0]!.groups[9]!.group, { peer: '10.0.0.49' });
  });
});

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
