/**
 * The device dashboard's recent messages kept as UTF-8 outside the heap (gateway/http/message-bytes.ts):
 * whatever the messages (empty, ASCII, astral, lone surrogates, up to the longest), each of the last
 * `capacity` reads back as written (a lone surrogate as U+FFFD), across wraps, compactions and growth,
 * within the byte bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MessageBytes } from '../../gateway/http/message-bytes.ts';

const MAX_CHARS = 40;
/** What UTF-8 can hold of a string: a lone surrogate becomes U+FFFD. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

describe('message bytes', () => {
  it('reads back the last `capacity` messages as written', () => {
    const message = fc.oneof(
      fc.string({ unit: 'binary', maxLength: MAX_CHARS }),
      fc.string({ unit: 'grapheme-ascii', maxLength: MAX_CHARS }),
      fc.constant(''),
      fc.constant('é€😀'.repeat(10)),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(message, { maxLength: 120 }),
        (capacity, messages) => {
          const ring = new MessageBytes(capacity, MAX_CHARS);
          let head = 0;
          const slots: string[] = [];
          for (const m of messages) {
            ring.put(head, m);
            slots[head] = m;
            head = (head + 1) % capacity;
            const kept = Math.min(capacity, messages.indexOf(m) >= 0 ? slots.length : 0);
            for (let slot = 0; slot < kept; slot++) assert.equal(ring.get(slot), wellFormed(slots[slot]!));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keeps what it holds within capacity × longest message, however long they come', () => {
    const ring = new MessageBytes(5, MAX_CHARS);
    const longest = '😀'.repeat(MAX_CHARS / 2); // 40 UTF-16 units, 80 bytes
    for (let i = 0; i < 1000; i++) ring.put(i % 5, i % 7 === 0 ? '' : `${i} ${longest}`.slice(0, MAX_CHARS));
    assert.ok(ring.byteLength <= 5 * MAX_CHARS * 3, `${ring.byteLength} bytes`);
    for (let i = 995; i < 1000; i++)
      assert.equal(ring.get(i % 5), wellFormed(i % 7 === 0 ? '' : `${i} ${longest}`.slice(0, MAX_CHARS)));
  });
});
