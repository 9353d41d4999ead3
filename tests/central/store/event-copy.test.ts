/**
 * The per-event fast paths of the PostgreSQL write path against their reference forms, on hostile
 * input: `writeCopyRow` (one row of COPY text, written straight into bytes) gives the UTF-8 of
 * `rowValues(row).map(copyText)` with `pgTextArray` tags, for both the direct and the staging
 * form, and `copyChunks` cuts a batch into chunks whose bytes are the rows' lines in order; `toStorageTime`'s shortcut for `toISOString`-form timestamps equals the general parse.
 * The store conformance suite (postgres.test.ts) checks what PostgreSQL makes of these lines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CopyBytesWriter, copyText } from '../../../central/store/copy-bytes.ts';
import { copyChunks, copyLineReference, writeCopyRow } from '../../../central/store/event-copy.ts';
import { jsonText, slowStorageTime, toStorageRow, toStorageTime } from '../../../central/store/event-rows.ts';
import { EVENT_KINDS, EVENT_SOURCES, type Event } from '../../../protocols/event/schema.ts';

/** Text with every character COPY, arrays, JSON and PostgreSQL treat specially. */
const hostile = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\\', '\t', '\n', '\r', '"', ',', '{', '}', '\u0000', 'N', ' ', '\ud800', '😀', 'é'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  ),
  maxLength: 40,
});
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const time = fc
  .date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

const event: fc.Arbitrary<Event> = fc
  .record({
    gateway: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
    seq: fc.nat(),
    id: hostile,
    ts: time,
    received: time,
    time_source: opt(fc.constantFrom('device' as const, 'gateway' as const)),
    clock_offset_ms: opt(fc.integer()),
    source: fc.constantFrom(...EVENT_SOURCES),
    kind: fc.constantFrom(...EVENT_KINDS),
    action: hostile,
    severity: fc.integer({ min: 0, max: 7 }),
    message: hostile,
    host: opt(hostile),
    device: opt(fc.record({ id: hostile, protocol_id: opt(hostile), name: opt(hostile) })),
    src: opt(fc.record({ ip: opt(hostile), port: opt(fc.integer({ min: 0, max: 65_535 })) })),
    dst: opt(fc.record({ ip: opt(hostile), port: opt(fc.integer({ min: 0, max: 65_535 })) })),
    fields: fc.dictionary(hostile, fc.oneof(hostile, fc.jsonValue({ maxDepth: 2 }))),
    tags: fc.array(hostile, { maxLength: 5 }),
    threat: opt(
      fc.record({
        rule_id: hostile,
        rule_name: opt(hostile),
        techniques: fc.array(hostile, { maxLength: 3 }),
      }),
    ),
  })
  .map((r) => {
    // Absent optional keys stay absent, as after validation.
    const e = { v: 1, ...r } as Record<string, unknown>;
    for (const key of Object.keys(e)) if (e[key] === undefined) delete e[key];
    return e as Event;
  });

/** The line `writeCopyRow` writes, as text (a writer smaller than most lines, so that it grows). */
function copyLine(row: ReturnType<typeof toStorageRow>, direct: boolean): string {
  const w = new CopyBytesWriter(16);
  writeCopyRow(w, row, direct);
  return w.buf.toString('utf8', 0, w.n);
}

describe('COPY text fast paths', () => {
  it('writeCopyRow writes the bytes of the column-by-column reference, direct and staged', () => {
    fc.assert(
      fc.property(event, fc.boolean(), (e, direct) => {
        const row = toStorageRow(e);
        const w = new CopyBytesWriter(16);
        writeCopyRow(w, row, direct);
        assert.deepEqual(w.buf.subarray(0, w.n), Buffer.from(copyLineReference(row, direct)));
      }),
      { numRuns: 3000 },
    );
  });

  it('json: the bytes of copyText(jsonText(value)), for plain ASCII data and anything else', () => {
    // Mostly what gateways send (printable ASCII, numbers, nesting), so that the direct route is
    // taken, with the values that must leave it at any depth: escapes, non-ASCII, NUL, -0, a
    // non-finite number, undefined and functions (dropped in objects, null in arrays), a Date
    // and a toJSON (JSON.stringify calls them), a class instance, an object without prototype.
    const ascii = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    });
    const odd = fc.constantFrom<unknown>(
      'a"b',
      'a\\b',
      'tab\t',
      'nul\u0000',
      'é',
      '😀',
      -0,
      Number.NaN,
      Infinity,
      undefined,
      () => 1,
      new Date(0),
      { toJSON: () => 'j' },
      new (class Point {
        x = 1;
      })(),
      Object.assign(Object.create(null) as object, { k: 'v' }),
    );
    const leaf = fc.oneof(
      { weight: 6, arbitrary: fc.oneof(ascii, fc.double(), fc.integer(), fc.boolean(), fc.constant(null)) },
      { weight: 1, arbitrary: odd },
    );
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(ascii, fc.constantFrom('é', 'q"', '__proto__', '1')), tie('value'), {
          maxKeys: 4,
        }),
      ),
    }));
    fc.assert(
      // A column's value is an object, an array or absent, never a function (jsonText would throw).
      fc.property(
        fc.option(value, { nil: undefined }).filter((v) => typeof v !== 'function'),
        (v) => {
          const w = new CopyBytesWriter(8);
          w.json(v);
          const text = jsonText(v);
          const expected = text === null ? '\\N' : copyText(text);
          assert.equal(w.buf.toString('utf8', 0, w.n), expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('copyChunks: the rows in order, cut after the row that fills a chunk', () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 30 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.boolean(),
        (events, size, direct) => {
          const rows = events.map(toStorageRow);
          const chunks = [...copyChunks(rows, size, direct)];
          const expected = Buffer.from(rows.map((r) => copyLineReference(r, direct)).join(''));
          assert.deepEqual(Buffer.concat(chunks), expected);
          // Every chunk but the last reached the size, and each ends a line.
          chunks.forEach((c, i) => {
            if (i < chunks.length - 1) assert.ok(c.length >= size);
            assert.equal(c[c.length - 1], 0x0a);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('copyLine escapes what COPY text format must (one line, tab-separated, 24 columns)', () => {
    const row = toStorageRow({
      v: 1,
      id: 'g:1',
      gateway: 'g',
      seq: 1,
      ts: '2024-05-01T12:00:00.000Z',
      received: '2024-05-01T12:00:00.000Z',
      source: 'syslog',
      kind: 'telemetry',
      action: 'a',
      severity: 1,
      message: 'tab\there\nnew line \\ back\u0000nul',
      fields: { k: 'a\\b' },
      tags: ['x"y', 'c,d'],
    });
    const line = copyLine(row, true);
    assert.equal(line.split('\n').length, 2);
    const columns = line.slice(0, -1).split('\t');
    assert.equal(columns.length, 24);
    assert.equal(columns[10], 'tab\\there\\nnew line \\\\ back\ufffdnul');
    assert.equal(columns[19], '{"k":"a\\\\\\\\b"}');
    assert.equal(columns[20], '{"x\\\\"y","c,d"}');
  });

  it('toStorageTime: the toISOString shortcut equals the general parse', () => {
    const near = fc.oneof(
      time,
      // Not real dates, or not in canonical form: must go the general way and agree with it.
      fc
        .tuple(
          fc.integer({ min: 0, max: 9999 }),
          fc.integer({ min: 0, max: 13 }),
          fc.integer({ min: 0, max: 32 }),
          fc.integer({ min: 0, max: 24 }),
        )
        .map(
          ([y, m, d, h]) =>
            `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:59:59.999Z`,
        ),
    );
    fc.assert(
      fc.property(near, (iso) => {
        let expected: string | Error;
        try {
          expected = slowStorageTime(iso);
        } catch (error) {
          expected = error as Error;
        }
        if (expected instanceof Error) assert.throws(() => toStorageTime(iso), RangeError);
        else assert.equal(toStorageTime(iso), expected);
      }),
      { numRuns: 5000 },
    );
    assert.equal(toStorageTime('2023-02-29T00:00:00.000Z'), '2023-03-01T00:00:00.000000Z');
    assert.equal(toStorageTime('0000-06-01T00:00:00.000Z'), '0001-01-01T00:00:00.000000Z');
  });
});
