/**
 * Property tests for the HTTP ingest body parsers (protocols/http-ingest): any text, as a plain
 * body or as `_bulk`, never throws; every non-blank line is either an item or a named problem
 * (nothing silently dropped), within the item cap; every item maps to a valid Event; NDJSON of
 * objects round-trips. Seeds are random; a failure prints its seed and counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ingestItemToEvent, parseIngestBody } from '../../protocols/http-ingest/index.ts';
import { EVENT_SCHEMA_VERSION, parseEvent } from '../../protocols/event/schema.ts';

const valid = (p: ReturnType<typeof ingestItemToEvent>) =>
  parseEvent({ v: EVENT_SCHEMA_VERSION, id: 'gw:1', gateway: 'gw', seq: 1, ...p });

const lineArb = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '{"index":{}}',
    '{"create":{"_index":"x"}}',
    '{"delete":{}}',
    '{"update":{}}',
    '<13>1 - - - - - x',
  ),
);

describe('HTTP ingest body parsers (fast-check)', () => {
  test('any body, plain or _bulk: never throws; each line an item or a problem; events valid', () => {
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 30 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        (lines, bulk, maxItems) => {
          const body = lines.map((l) => l.replace(/\n/g, ' ')).join('\n');
          const parsed = parseIngestBody(body, { bulk, maxItems, maxItemChars: 1000 });
          assert.ok(parsed.items.length <= maxItems);
          const nonBlank = body.split('\n').filter((l) => l.replace(/\r$/, '').trim() !== '').length;
          if (!bulk && !body.trimStart().startsWith('['))
            assert.equal(parsed.items.length + parsed.problems.length, nonBlank);
          else if (bulk) assert.ok(parsed.items.length + parsed.problems.length <= nonBlank + 1);
          for (const item of parsed.items) {
            const r = valid(ingestItemToEvent(item, { received: new Date(), by: 't' }));
            assert.ok(r.ok, r.ok ? '' : r.error);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('NDJSON of objects and JSON arrays round-trip; a caller cannot pick the alert lane', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ message: fc.string({ maxLength: 30 }), n: fc.integer() }), { maxLength: 20 }),
        (objects) => {
          const nd = parseIngestBody(objects.map((o) => JSON.stringify(o)).join('\n'), {
            maxItems: 100,
            maxItemChars: 1000,
          });
          const arr = parseIngestBody(JSON.stringify(objects), { maxItems: 100, maxItemChars: 1000 });
          for (const p of [nd, arr]) {
            assert.equal(p.problems.length, 0);
            assert.deepEqual(
              p.items.map((i) => (i.kind === 'object' ? i.value : null)),
              JSON.parse(JSON.stringify(objects)),
            );
          }
          const e = ingestItemToEvent(
            { kind: 'object', value: { message: 'x', kind: 'alert', tags: ['lane:alert', 'ok'] } },
            { received: new Date() },
          );
          assert.equal(e.kind, 'telemetry');
          assert.deepEqual(e.tags, ['ok']);
        },
      ),
      { numRuns: 200 },
    );
  });
});
