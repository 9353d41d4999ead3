/**
 * A sensor's payload → event fields (protocols/telemetry/payload.ts): the documented shapes give
 * the expected readings, and any bytes at all (fast-check) give a result within the limits and
 * never a throw; JSON within the limits is flattened exactly as a plain recursive reference says,
 * key order included, `__proto__` a reading like any other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PAYLOAD_LIMITS, parsePayload } from '../../../protocols/telemetry/payload.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');

/**
 * The flattening, written the obvious way: every leaf under its dotted path, in JSON's order; and
 * the deepest level at which an object or array was opened (the root is 0) in `maxDepth`.
 */
function reference(value: unknown): { leaves: Array<[string, unknown]>; maxDepth: number } {
  const leaves: Array<[string, unknown]> = [];
  let maxDepth = 0;
  const walk = (v: unknown, prefix: string, depth: number) => {
    if (v === null || typeof v !== 'object') return void leaves.push([prefix || 'value', v]);
    maxDepth = Math.max(maxDepth, depth);
    for (const [k, w] of Object.entries(v)) walk(w, prefix ? `${prefix}.${k}` : k, depth + 1);
  };
  walk(value, '', 0);
  return { leaves, maxDepth };
}

describe('sensor payloads', () => {
  it('reads JSON, numbers, text, binary and nothing', () => {
    const json = parsePayload(bytes('{"t":{"c":21.5},"on":true,"s":"run","n":null,"a":[1,2]}'));
    assert.equal(json.format, 'json');
    assert.deepEqual(json.values, { 't.c': 21.5, on: true, s: 'run', n: null, 'a.0': 1, 'a.1': 2 });
    assert.deepEqual(parsePayload(bytes(' 42.5 ')).values, { value: 42.5 });
    assert.equal(parsePayload(bytes(' 42.5 ')).format, 'number');
    const text = parsePayload(bytes('pump on'));
    assert.deepEqual([text.format, text.text], ['text', 'pump on']);
    const bin = parsePayload(Uint8Array.from([0xff, 0x00, 0x10]));
    assert.deepEqual([bin.format, bin.text], ['binary', 'ff0010']);
    assert.equal(parsePayload(new Uint8Array()).format, 'empty');
    assert.equal(parsePayload(bytes('{not json')).format, 'text');
  });

  it('keeps a member named __proto__ as a reading, and the values a plain object', () => {
    const p = parsePayload(bytes('{"__proto__":5,"x":{"__proto__":null}}'));
    assert.deepEqual(Object.entries(p.values), [
      ['__proto__', 5],
      ['x.__proto__', null],
    ]);
    assert.equal(Object.getPrototypeOf(p.values), Object.prototype);
    assert.equal(JSON.stringify(p.values), '{"__proto__":5,"x.__proto__":null}');
  });

  it('stops at 64 distinct keys, 8 levels and 256 characters a string, and says so', () => {
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    const p = parsePayload(bytes(JSON.stringify(wide)));
    assert.equal(Object.keys(p.values).length, PAYLOAD_LIMITS.KEYS);
    assert.equal(p.truncated, true);
    // A key written twice (`"a.b"` and `a` → `b`) is counted once.
    const twice = parsePayload(bytes(JSON.stringify({ 'a.b': 1, a: { b: 2 }, c: 3 })));
    assert.deepEqual(twice.values, { 'a.b': 2, c: 3 });
    assert.equal(twice.truncated, false);
    let deep: unknown = 1;
    for (let i = 0; i < 12; i++) deep = { d: deep };
    const d = parsePayload(bytes(JSON.stringify(deep)));
    assert.deepEqual(d.values, {});
    assert.equal(d.truncated, true);
    const long = parsePayload(bytes(JSON.stringify({ s: 'x'.repeat(300) })));
    assert.equal((long.values.s as string).length, PAYLOAD_LIMITS.STRING_CHARS);
    assert.equal(long.truncated, true);
  });

  it('flattens any JSON within the limits as the reference does (fast-check)', () => {
    const leaf = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.string({ maxLength: 20 }),
    );
    const key = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('__proto__', 'constructor', 'toString', '0', '10'),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 5 }), (value) => {
        const text = JSON.stringify(value);
        const { leaves: expected, maxDepth } = reference(JSON.parse(text) as unknown);
        const keys = new Set(expected.map(([k]) => k));
        fc.pre(
          keys.size <= PAYLOAD_LIMITS.KEYS &&
            expected.every(([k]) => k.length <= PAYLOAD_LIMITS.KEY_CHARS) &&
            maxDepth < PAYLOAD_LIMITS.DEPTH,
        );
        const got = parsePayload(bytes(text));
        if (expected.length === 0) return assert.deepEqual(got.values, {});
        // The last writing of a key wins, in an object's own key order (integer-like keys first).
        const want: Record<string, unknown> = {};
        for (const [k, v] of expected)
          Object.defineProperty(want, k, { value: v, enumerable: true, writable: true, configurable: true });
        assert.deepEqual(Object.entries(got.values), Object.entries(want));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws and stays within its limits, whatever the bytes (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.json().map((j) => bytes(j)),
        ),
        (input) => {
          const p = parsePayload(input);
          assert.ok(Object.keys(p.values).length <= PAYLOAD_LIMITS.KEYS);
          assert.ok((p.text ?? '').length <= PAYLOAD_LIMITS.TEXT_CHARS);
          for (const v of Object.values(p.values))
            if (typeof v === 'string') assert.ok(v.length <= PAYLOAD_LIMITS.STRING_CHARS);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
