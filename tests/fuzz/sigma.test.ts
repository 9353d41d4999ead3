/**
 * Property tests for the Sigma format: the loader on arbitrary text and on rule-shaped YAML never
 * throws and either loads or gives a typed error; the condition parser likewise; a compiled rule
 * never throws on arbitrary events; and the correlation engine's state stays within its bounds
 * however the stream looks. Seeds are random; a failure prints its seed and counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Event } from '../../protocols/event/schema.ts';
import {
  compileRuleSet,
  createSigmaEngine,
  KNOWN_MODIFIERS,
  loadSigma,
  parseCondition,
  type SigmaErrorCode,
  type SigmaRule,
} from '../../protocols/sigma/index.ts';

const CODES = new Set<SigmaErrorCode>([
  'yaml',
  'not_a_rule',
  'invalid_field',
  'invalid_detection',
  'invalid_value',
  'unknown_modifier',
  'invalid_modifier',
  'invalid_regex',
  'invalid_cidr',
  'unknown_placeholder',
  'invalid_condition',
  'unknown_identifier',
  'unsupported',
  'invalid_correlation',
  'unknown_rule_reference',
  'limit',
]);

const word = fc.constantFrom('sel', 'filter', 'a', 'b', 'sel_1', 'sel_2', '_x', 'keywords');
const condToken = fc.oneof(
  word,
  fc.constantFrom('and', 'or', 'not', '(', ')', '1 of', 'all of', 'them', 'sel*', '*', '|', '2 of'),
);
const modifier = fc.constantFrom(...KNOWN_MODIFIERS, 'bogus');
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '*',
    '?',
    '\\*',
    '\\\\',
    'a*b?c',
    '%Admins%',
    '10.0.0.0/8',
    'fe80::/10',
    '(?i)x',
    '[',
    '-s',
    '',
  ),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
);
const value = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 3 }), scalar, { maxKeys: 2 }),
);
const item = fc.tuple(
  fc.constantFrom('', 'message', 'host', 'src.ip', 'fields.x', 'x', 'id.orig_h'),
  fc.array(modifier, { maxLength: 3 }),
  value,
);
const search = fc.oneof(
  fc
    .array(item, { minLength: 0, maxLength: 3 })
    .map((items) => Object.fromEntries(items.map(([f, m, v]) => [[f, ...m].join('|'), v]))),
  fc.array(
    fc.oneof(
      scalar,
      fc
        .array(item, { maxLength: 2 })
        .map((items) => Object.fromEntries(items.map(([f, m, v]) => [[f, ...m].join('|'), v]))),
    ),
    { maxLength: 4 },
  ),
  scalar,
);
const detection = fc.tuple(
  fc.dictionary(word, search, { minKeys: 0, maxKeys: 4 }),
  fc.array(condToken, { minLength: 0, maxLength: 8 }),
);

const toRule = ([ids, cond]: [Record<string, unknown>, string[]]): SigmaRule => ({
  kind: 'rule',
  title: 'fuzz',
  id: 'fuzz',
  references: [],
  tags: [],
  falsepositives: [],
  logsource: {},
  detection: ids,
  condition: [cond.join(' ')],
  fields: [],
  related: [],
  scope: [],
});

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);
const eventArb = fc
  .record({
    message: fc.oneof(
      fc.string(),
      fc.constantFrom('no access-session port-control', 'bash -i >& /dev/tcp/1', ''),
    ),
    host: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
    src: fc.option(fc.record({ ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 8 })) }), {
      nil: undefined,
    }),
    fields: fc.dictionary(fc.constantFrom('x', 'id.orig_h', 'a', 'User', 'h'), anyValue, { maxKeys: 4 }),
  })
  .map(
    (p) =>
      ({
        v: 1,
        id: 'g:1',
        gateway: 'g',
        seq: 1,
        ts: '2024-01-01T00:00:00Z',
        received: '2024-01-01T00:00:00Z',
        source: 'syslog',
        kind: 'telemetry',
        action: 'syslog.message',
        severity: 6,
        tags: [],
        ...p,
      }) as unknown as Event,
  );

describe('sigma: never throws', () => {
  test('loadSigma on arbitrary text gives rules or typed errors', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.constantFrom(
            'title: x\nlogsource: {}\ndetection:\n  a: 1\n  condition: a',
            '---\n---\naction: global\n',
            'correlation: {type: temporal}\ntitle: 1',
          ),
        ),
        (text) => {
          const r = loadSigma(text);
          for (const e of r.errors) assert.ok(CODES.has(e.code), e.code);
        },
      ),
      { numRuns: 500 },
    );
  });
  test('rule-shaped YAML: compiles or gives a typed error', () => {
    fc.assert(
      fc.property(detection, fc.constantFrom('low', 'high', 'bogus'), ([ids, cond], level) => {
        const doc = {
          title: 'fuzz',
          id: 'f',
          level,
          logsource: { product: 'syslog' },
          detection: { ...ids, condition: cond.join(' ') },
        };
        const r = loadSigma(JSON.stringify(doc));
        for (const e of r.errors) assert.ok(CODES.has(e.code), e.code);
        const set = compileRuleSet(r.rules, { placeholders: { Admins: ['root'] } });
        for (const e of set.errors) assert.ok(CODES.has(e.code), e.code);
        assert.equal(set.rules.length + set.errors.length, r.rules.length);
      }),
      { numRuns: 500 },
    );
  });
  test('parseCondition on arbitrary tokens and text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(condToken, { maxLength: 20 }).map((t) => t.join(' ')),
          fc.string(),
        ),
        (text) => {
          const r = parseCondition(text);
          if (!r.ok) assert.ok(CODES.has(r.error.code));
        },
      ),
      { numRuns: 1000 },
    );
  });
  test('compiled rules never throw on arbitrary events', () => {
    fc.assert(
      fc.property(detection, fc.array(eventArb, { minLength: 1, maxLength: 5 }), (det, events) => {
        const set = compileRuleSet([toRule(det)], { placeholders: { Admins: ['root'] } });
        for (const e of events) {
          const hits = set.match(e);
          assert.ok(hits.length <= 1);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('sigma: correlation state stays bounded', () => {
  test('arbitrary streams, groups and times', () => {
    const text = `title: b\nid: b\nlogsource: {product: syslog}\ndetection: {sel: {kind_of: b}, condition: sel}\n---
title: c\nid: c\nlogsource: {product: syslog}\ndetection: {sel: {kind_of: c}, condition: sel}\n---
title: n\nid: n\ncorrelation: {type: event_count, rules: [b], group-by: [h], timespan: 1m, condition: {gte: 5}}\n---
title: v\nid: v\ncorrelation: {type: value_count, rules: [b, c], group-by: [h], timespan: 10m, condition: {field: User, gte: 4}}\n---
title: w\nid: w\ncorrelation: {type: event_count, rules: [c], group-by: [h], timespan: 30s, condition: {lt: 3}}\n---
title: s\nid: s\ncorrelation: {type: value_sum, rules: [b], group-by: [h], timespan: 1h, condition: {field: x, gt: 10}}\n---
title: t\nid: t\ncorrelation: {type: temporal_ordered, rules: [b, c], group-by: [h], timespan: 1m}\n---
title: o\nid: o\ncorrelation: {type: temporal, rules: [n, c], group-by: [h], timespan: 1m}\n`;
    const loaded = loadSigma(text);
    assert.deepEqual(loaded.errors, []);
    const step = fc.record({
      kind: fc.constantFrom('b', 'c', 'none'),
      h: fc.integer({ min: 0, max: 200 }),
      user: fc.integer({ min: 0, max: 20 }),
      x: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.string({ maxLength: 3 })),
      dt: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: -60_000, max: 600_000 })),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), (steps) => {
        const limits = { maxGroupsPerCorrelation: 16, maxAlertGroups: 8, maxEventIds: 4 };
        const engine = createSigmaEngine(loaded, limits);
        assert.deepEqual(engine.errors, []);
        let t = Date.parse('2024-01-01T00:00:00Z');
        let seq = 0;
        for (const s of steps) {
          t += s.dt;
          seq++;
          const e = {
            v: 1,
            id: `g:${seq}`,
            gateway: 'g',
            seq,
            ts: '2024-01-01T00:00:00Z',
            received: '2024-01-01T00:00:00Z',
            source: 'syslog',
            kind: 'telemetry',
            action: 'syslog.message',
            severity: 6,
            message: '',
            tags: [],
            fields: { kind_of: s.kind, h: s.h, User: s.user, x: s.x },
          } as Event;
          for (const a of engine.process(e, t)) assert.ok(a.event_ids.length <= 4);
          const st = engine.stats();
          assert.ok(st.correlationGroups <= 16 * 6, `groups ${st.correlationGroups}`);
          assert.ok(st.alertGroups <= 8);
        }
        engine.flush();
        assert.equal(engine.stats().correlationGroups, 0);
      }),
      { numRuns: 200 },
    );
  });
});
