/**
 * The reduction stages, unit by unit and as properties over random streams: per stage, what came
 * in or was made went out or was dropped (nothing vanishes uncounted); every event that entered is
 * on the sink or accounted for by a summary, a duplicate count or a counted drop; an aggregate
 * equals a recomputation from the events it folded; sampling keeps what it says; pseudonyms are
 * stable, keyed and never the value.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { buildPipeline, countsAddUp, T0 } from './support.ts';

function reading(
  at: number,
  device: string,
  value: number,
  kind: 'telemetry' | 'security' = 'telemetry',
): PendingEvent {
  const ts = new Date(at).toISOString();
  return {
    ts,
    received: ts,
    source: 'mqtt',
    kind,
    action: 'mqtt.telemetry',
    severity: 6,
    message: `reading ${value}`,
    device: { id: device },
    fields: { topic: `plant/${device}/t`, values: { temp: value } },
    tags: [],
  };
}

const streamArb = fc.array(
  fc.record({
    dt: fc.integer({ min: 0, max: 5000 }),
    device: fc.constantFrom('s1', 's2', 's3'),
    value: fc.integer({ min: -50, max: 150 }),
    security: fc.boolean(),
  }),
  { maxLength: 200 },
);

async function feed(
  p: ReturnType<typeof buildPipeline>['pipeline'],
  stream: Array<{ dt: number; device: string; value: number; security: boolean }>,
) {
  let t = T0;
  for (const s of stream) {
    t += s.dt;
    await p.emit('test', [reading(t, s.device, s.value, s.security ? 'security' : 'telemetry')], t);
    if (s.dt > 2500) await p.tick(t);
  }
  await p.tick(t + 1, { final: true });
  return t;
}

describe('pipeline stages', () => {
  it('property: counts add up at every stage, and every event is on the sink or counted', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom('all', 'security', 'alerts'),
        async (stream, n, forward) => {
          const { pipeline, sink } = buildPipeline({
            forward,
            stages: [
              { type: 'normalise' },
              { type: 'detect' },
              { type: 'filter', action: 'drop', match: { 'fields.values.temp': [13, 14] } },
              { type: 'sample', match: { 'device.id': 's1' }, one_in: n },
              { type: 'sample', name: 'every_5s', match: { 'device.id': 's2' }, interval_secs: 5 },
              {
                type: 'dedupe',
                match: { kind: 'security' },
                fields: ['device.id', 'message'],
                window_secs: 3,
              },
              {
                type: 'aggregate',
                match: { 'device.id': 's3', kind: 'telemetry' },
                numbers: ['fields.values'],
                interval_secs: 10,
              },
            ],
          });
          await feed(pipeline, stream);
          const counts = pipeline.counts();
          assert.ok(countsAddUp(counts), JSON.stringify(counts));
          // Stage to stage: what one hands on, the next takes in.
          for (let i = 1; i < counts.length; i++) assert.equal(counts[i]!.in, counts[i - 1]!.out);
          assert.equal(counts[0]!.in, stream.length);
          assert.equal(sink.events.length, counts.at(-1)!.out);
          // Accounted for: on the sink (a summary or a deduplicated event counts for all it holds),
          // or dropped with a count by a stage that drops for good.
          const represented = sink.events.reduce((sum, e) => {
            const agg = (e.fields as { aggregate?: { count: number } }).aggregate;
            const dup = (e.fields as { duplicates?: number }).duplicates;
            return sum + (agg ? agg.count : (dup ?? 1));
          }, 0);
          const gone = counts
            .filter((c) => ['filtered', 'sampled', 'not_forwarded'].includes(c.drop_reason))
            .reduce((s, c) => s + c.dropped, 0);
          // A summary or deduplicated event that the forward profile then dropped stood for several.
          const forwardDropped = counts.at(-1)!.dropped;
          if (forward === 'all') assert.equal(represented + gone, stream.length);
          else assert.ok(represented + gone - forwardDropped <= stream.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: an aggregate equals a recomputation from the events it folded', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, async (stream) => {
        const { pipeline, sink } = buildPipeline({
          stages: [
            { type: 'detect' },
            {
              type: 'aggregate',
              key: ['device.id'],
              numbers: ['fields.values'],
              distinct: ['message'],
              interval_secs: 7,
            },
          ],
        });
        // Recompute: per device, windows opened by the first event and lasting 7 s.
        const expected: Array<{
          device: string;
          count: number;
          min: number;
          max: number;
          sum: number;
          last: number;
        }> = [];
        const open = new Map<string, { since: number; acc: (typeof expected)[number] }>();
        let t = T0;
        for (const s of stream) {
          t += s.dt;
          let w = open.get(s.device);
          if (w && t - w.since >= 7000) {
            expected.push(w.acc);
            w = undefined;
          }
          if (!w) {
            w = {
              since: t,
              acc: { device: s.device, count: 0, min: Infinity, max: -Infinity, sum: 0, last: 0 },
            };
            open.set(s.device, w);
          }
          const a = w.acc;
          a.count++;
          a.min = Math.min(a.min, s.value);
          a.max = Math.max(a.max, s.value);
          a.sum += s.value;
          a.last = s.value;
          await pipeline.emit('test', [reading(t, s.device, s.value)], t);
        }
        await pipeline.tick(t, { final: true });
        for (const w of open.values()) expected.push(w.acc);
        const got = sink.events.map((e) => {
          const agg = (
            e.fields as {
              aggregate: {
                count: number;
                stats: Record<string, { count: number; min: number; max: number; avg: number; last: number }>;
              };
            }
          ).aggregate;
          const st = agg.stats['fields.values.temp']!;
          return {
            device: e.device!.id,
            count: agg.count,
            min: st.min,
            max: st.max,
            sum: Math.round(st.avg * st.count),
            last: st.last,
          };
        });
        const order = (a: { device: string; count: number }, b: { device: string; count: number }) =>
          a.device.localeCompare(b.device) || a.count - b.count;
        const exp = expected.map((e) => ({ ...e, sum: Math.round(e.sum) }));
        assert.deepEqual(
          [...got]
            .sort(order)
            .map((x) => JSON.stringify(x))
            .sort(),
          [...exp]
            .sort(order)
            .map((x) => JSON.stringify(x))
            .sort(),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('samples 1 in N per key and one per key per interval', async () => {
    const { pipeline, sink } = buildPipeline({
      stages: [{ type: 'detect' }, { type: 'sample', key: ['device.id'], one_in: 4 }],
    });
    for (let i = 0; i < 10; i++)
      await pipeline.emit('t', [reading(T0 + i, 's1', i), reading(T0 + i, 's2', i)], T0 + i);
    assert.deepEqual(
      sink.events.filter((e) => e.device!.id === 's1').map((e) => (e.fields.values as { temp: number }).temp),
      [0, 4, 8],
    );
    const b = buildPipeline({ stages: [{ type: 'detect' }, { type: 'sample', interval_secs: 10 }] });
    for (let i = 0; i < 25; i++) await b.pipeline.emit('t', [reading(T0 + i * 1000, 's1', i)], T0 + i * 1000);
    assert.deepEqual(
      b.sink.events.map((e) => (e.fields.values as { temp: number }).temp),
      [0, 10, 20],
    );
    assert.equal(b.pipeline.counts()[1]!.dropped, 22);
  });

  it('dedupes identical events in a window: the first at once, then one with the count of repeats', async () => {
    const { pipeline, sink } = buildPipeline({
      stages: [{ type: 'detect' }, { type: 'dedupe', fields: ['device.id', 'message'], window_secs: 10 }],
    });
    for (let i = 0; i < 5; i++) await pipeline.emit('t', [reading(T0 + i * 1000, 's1', 7)], T0 + i * 1000);
    await pipeline.emit('t', [reading(T0 + 5000, 's1', 8)], T0 + 5000);
    assert.deepEqual(
      sink.events.map((e) => [e.message, e.fields.duplicates]),
      [
        ['reading 7', undefined],
        ['reading 8', undefined],
      ],
      'each first one goes at once',
    );
    await pipeline.tick(T0 + 10_000);
    assert.equal(sink.events.length, 3);
    assert.equal(sink.events[2]!.fields.duplicates, 4);
    assert.equal(sink.events[2]!.fields.last_seen, new Date(T0 + 4000).toISOString());
    await pipeline.tick(T0 + 11_000, { final: true });
    assert.equal(sink.events.length, 3, 'no repeats of reading 8: nothing more');
    const c = pipeline.counts()[1]!;
    assert.deepEqual([c.in, c.out, c.dropped, c.created], [6, 3, 4, 1]);
  });

  it('pseudonymises chosen fields with a keyed HMAC kept on the gateway; detection saw the real values', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pseudo-'));
    const rule = `title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource: { product: syslog }\ndetection:\n  sel: { fields.user: alice }\n  condition: sel\nlevel: high\n`;
    const { pipeline, sink } = buildPipeline(
      { stages: [{ type: 'detect' }, { type: 'pseudonymise', fields: ['fields.user', 'src.ip'] }] },
      { dataDir: dir, rules: [rule] },
    );
    const ev = (user: string): PendingEvent => ({
      ts: new Date(T0).toISOString(),
      received: new Date(T0).toISOString(),
      source: 'syslog',
      kind: 'security',
      action: 'syslog.message',
      severity: 4,
      message: 'login',
      src: { ip: '192.0.2.7' },
      fields: { user },
      tags: [],
    });
    const original = ev('alice');
    await pipeline.emit('t', [original, ev('alice'), ev('bob')], T0);
    const key = path.join(dir, 'pseudonymise.key');
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.ok(readFileSync(key, 'utf8').trim().length >= 64);
    const users = sink.events.filter((e) => e.kind !== 'alert').map((e) => e.fields.user as string);
    assert.equal(users[0], users[1]);
    assert.notEqual(users[0], users[2]);
    assert.match(users[0]!, /^ps:[0-9a-f]{16}$/);
    assert.ok(
      !JSON.stringify(sink.events).includes('alice') && !JSON.stringify(sink.events).includes('192.0.2.7'),
    );
    assert.equal(original.fields.user, 'alice', 'the observed event is not changed');
    assert.equal(sink.events.filter((e) => e.kind === 'alert').length, 1, 'the rule matched the real name');
  });

  it('forward profiles for thin links: security drops telemetry; alerts keeps alerts, their evidence and health', async () => {
    const rule = `title: hot\nid: 44444444-4444-4444-8444-444444444444\nlogsource: { product: mqtt }\ndetection:\n  sel: { fields.values.temp|gte: 100 }\n  condition: sel\nlevel: high\n`;
    const health: PendingEvent = {
      ...reading(T0, 'gw', 0),
      source: 'gateway',
      kind: 'health',
      action: 'gateway.queue_write_error',
    };
    const run = async (forward: string) => {
      const { pipeline, sink } = buildPipeline({ forward, stages: [{ type: 'detect' }] }, { rules: [rule] });
      await pipeline.emit(
        't',
        [reading(T0, 's1', 20), reading(T0, 's1', 120, 'security'), reading(T0, 's2', 150), health],
        T0,
      );
      return sink.events.map((e) => `${e.kind}${e.tags.includes('evidence') ? '+evidence' : ''}`);
    };
    assert.deepEqual(await run('all'), ['telemetry', 'security', 'telemetry', 'health', 'alert', 'alert']);
    assert.deepEqual(await run('security'), ['security', 'health', 'telemetry+evidence', 'alert', 'alert']);
    assert.deepEqual(await run('alerts'), [
      'health',
      'security+evidence',
      'telemetry+evidence',
      'alert',
      'alert',
    ]);
  });

  it('routes matching events to a lane by tag', async () => {
    const { pipeline, sink } = buildPipeline({
      stages: [{ type: 'detect' }, { type: 'route', match: { 'device.id': 's2' }, lane: 'alert' }],
    });
    await pipeline.emit('t', [reading(T0, 's1', 1), reading(T0, 's2', 2)], T0);
    assert.deepEqual(
      sink.events.map((e) => e.tags),
      [[], ['lane:alert']],
    );
  });
});
