/**
 * Sigma correlations (correlation rules specification) on synthetic event streams with the time
 * passed in: every valid example of the sigma-specification repository loads and behaves as its
 * title says (event_count, value_count, temporal, temporal_ordered, value_sum/avg/percentile),
 * with the window edges and group-by they imply.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Event } from '../../../protocols/event/schema.ts';
import { createSigmaEngine, loadSigma } from '../../../protocols/sigma/index.ts';
import { T0, S, MIN, base, engineFor, ev, run, corr, specExample } from './correlation-fixtures.ts';

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
