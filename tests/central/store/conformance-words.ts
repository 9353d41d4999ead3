/**
 * Conformance: text search by words (migration 012, event-query.ts). The JavaScript word cutter
 * and the database's `event_tokens` agree on any ASCII text; addresses, paths and identifiers are
 * found whole and not inside longer ones; and the store's answers equal a plain model of the
 * semantics (the message contains the text, and each word of the text is a word of the message)
 * before and after the closed partitions got their word index, with and without the index.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { buildEventQuery, textWords } from '../../../central/store/event-query.ts';
import type { EventQuery } from '../../../central/store/index.ts';
import type { SuiteContext } from './conformance.ts';
import { drain, iso, makeEvent, startOfUtcDay, timeSlice, uniqueGateway } from './fixtures.ts';

const lowerAscii = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** The documented semantics, independent of SQL. */
function model(message: string, text: string): boolean {
  if (!lowerAscii(message).includes(lowerAscii(text))) return false;
  const words = new Set(textWords(message));
  return textWords(text).every((w) => words.has(w));
}

const ADDRESSES = [
  'accepted from 10.0.3.77 port 502',
  'accepted from 10.0.3.7 port 502',
  '10.0.3.77:502 refused',
  'Interface Gi1/0/1 down',
  'Interface Gi1/0/11 down',
  '%LINK-3-UPDOWN: changed',
  'plc_7 write',
  'PLC-7 write',
  'mac 00:1A:2b:3c:4d:5e seen',
  'open /var/log/syslog failed',
];

const WORDS = ['plc', '7', 'write', 'Gi1', '0', '10', 'failed', 'ERROR', 'a_b', 'x'];
const SEPARATORS = [' ', '.', '/', ':', '-', ' - ', '%', ', ', '\\', '_'];

export function wordCases(ctx: SuiteContext): void {
  const seqs = async (query: Omit<EventQuery, 'limit'>, textIndex?: boolean): Promise<number[]> => {
    if (textIndex === undefined) {
      return (await ctx.store.queryEvents({ limit: 1000, ...query })).events
        .map((e) => e.seq)
        .sort((a, b) => a - b);
    }
    const built = buildEventQuery({ limit: 1000, ...query }, { textIndex });
    return (await ctx.store.sql.query<{ seq: string }>(built.text, built.params)).rows
      .map((r) => Number(r.seq))
      .sort((a, b) => a - b);
  };

  it('the word cutter in JavaScript and event_tokens in the database agree on any ASCII text', async () => {
    const texts = fc.sample(
      fc.string({ unit: fc.integer({ min: 1, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
      {
        numRuns: 300,
        seed: 18,
      },
    );
    const { rows } = await ctx.store.sql.query<{ words: string[] }>(
      'SELECT event_tokens(t) AS words FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n',
      [texts],
    );
    texts.forEach((text, i) => assert.deepEqual(rows[i]!.words, textWords(text), JSON.stringify(text)));
  });

  it('addresses, paths and identifiers are found whole, never inside a longer one', async () => {
    const gateway = uniqueGateway('words');
    const t = timeSlice();
    await ctx.store.insertEvents(
      ADDRESSES.map((message, i) => makeEvent(gateway, i + 1, iso(t + i), { message })),
    );
    const cases: Array<[string, number[]]> = [
      ['10.0.3.77', [1, 3]],
      ['10.0.3.7', [2]],
      ['10.0.3.77:502', [3]],
      ['Gi1/0/1', [4]],
      ['gi1/0/11', [5]],
      ['LINK', [6]],
      ['link-3-updown', [6]],
      ['plc_7', [7]],
      ['plc-7', [8]],
      ['plc', [8]],
      ['00:1a:2B:3C:4D:5E', [9]],
      ['/var/log/syslog', [10]],
      ['log/sys', []],
    ];
    const check = async (when: string) => {
      for (const [text, expected] of cases) {
        for (const textIndex of [undefined, true, false]) {
          assert.deepEqual(
            await seqs({ gateway, text }, textIndex),
            expected,
            `${when} ${text} ${textIndex}`,
          );
        }
      }
    };
    await check('before indexing');
    const created = await ctx.store.indexClosedPartitions(new Date());
    assert.ok(
      (
        await ctx.store.sql.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [
          `events_p${iso(t).slice(0, 10).replaceAll('-', '')}_words`,
        ])
      ).rows.length === 1,
      `the closed day has its word index (created ${created.join(', ')})`,
    );
    await check('after indexing');
  });

  it('answers equal the model for any text cut from a message at word boundaries, or not', async () => {
    const gateway = uniqueGateway('words-model');
    const t = timeSlice();
    const message = fc
      .array(fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...SEPARATORS)), {
        minLength: 1,
        maxLength: 8,
      })
      .map((parts) => parts.map(([w, s]) => w + s).join(''));
    const messages = fc.sample(message, { numRuns: 40, seed: 7 });
    await ctx.store.insertEvents(
      messages.map((m, i) => makeEvent(gateway, i + 1, iso(t + i), { message: m })),
    );
    await ctx.store.indexClosedPartitions(new Date());
    // A slice of one message: at word boundaries half the time, anywhere the other half.
    const query = fc.tuple(fc.nat(messages.length - 1), fc.nat(60), fc.nat(60)).map(([m, a, b]) => {
      const text = messages[m]!;
      const start = Math.min(a, b) % text.length;
      return text.slice(start, start + 1 + (Math.abs(a - b) % 12)).trim() || text;
    });
    await fc.assert(
      fc.asyncProperty(query, async (text) => {
        const expected = messages.flatMap((m, i) => (model(m, text) ? [i + 1] : []));
        assert.deepEqual(await seqs({ gateway, text }), expected, JSON.stringify(text));
        assert.deepEqual(await seqs({ gateway, text }, false), expected, JSON.stringify(text));
      }),
      { numRuns: 60, seed: 18 },
    );
  });

  it('a long range is searched newest hour first, with the same events in the same order as one query', async () => {
    const gateway = uniqueGateway('windows');
    // Over the two days after tomorrow (hourly partitions created ahead), where no other test
    // looks: the range spans many hours, which the other tests' 20-minute slices cannot.
    const base = startOfUtcDay(new Date()) + 2 * 86_400_000;
    const times = Array.from({ length: 30 }, (_, i) => base + i * 5_300_000);
    await ctx.store.insertEvents(
      times.map((ms, i) => makeEvent(gateway, i + 1, iso(ms), { message: i % 3 ? 'link up' : 'link down' })),
    );
    const range = { from: new Date(times[0]!), to: new Date(times.at(-1)! + 1) };
    for (const text of [undefined, 'link down']) {
      const all = (await ctx.store.queryEvents({ gateway, ...range, text, limit: 1000 })).events.map(
        (e) => e.seq,
      );
      const expected = times
        .map((_, i) => i + 1)
        .filter((seq) => text === undefined || (seq - 1) % 3 === 0)
        .reverse();
      assert.deepEqual(all, expected);
      const { events: paged } = await drain((cursor) =>
        ctx.store.queryEvents({ gateway, ...range, text, limit: 4, cursor }),
      );
      assert.deepEqual(
        paged.map((e) => e.seq),
        expected,
      );
    }
  });

  it('a narrow text search takes windows sized by the matches it found, with the same events in the same order', async () => {
    const gateway = uniqueGateway('narrow-windows');
    // One busy hour of one gateway (300 events, one every 12 s) on the third day ahead, where no
    // other test looks, a match in every fifth: the first quarter-hour finds some of a page, the
    // next window is cut to what the rest needs, and pages of 7 cross windows of every size.
    const base = startOfUtcDay(new Date()) + 3 * 86_400_000 + 3_600_000;
    const times = Array.from({ length: 300 }, (_, i) => base + i * 12_000);
    await ctx.store.insertEvents(
      times.map((ms, i) => makeEvent(gateway, i + 1, iso(ms), { message: i % 5 ? 'poll ok' : 'poll late' })),
    );
    const range = { from: new Date(base), to: new Date(base + 3_600_000) };
    const expected = times
      .map((_, i) => i + 1)
      .filter((seq) => (seq - 1) % 5 === 0)
      .reverse();
    for (const limit of [7, 25, 1000]) {
      const { events: paged } = await drain((cursor) =>
        ctx.store.queryEvents({ gateway, ...range, text: 'late', limit, cursor }),
      );
      assert.deepEqual(
        paged.map((e) => e.seq),
        expected,
        `pages of ${limit}`,
      );
    }
  });

  it('a range ending in the open hour is searched a minute first, with the same events in the same order', async () => {
    const gateway = uniqueGateway('open-hour');
    // 40 events over the last 80 minutes, newest a second ago: the first windows are minutes of
    // the hour still open, then they double into the hour before.
    const now = Date.now();
    const times = Array.from({ length: 40 }, (_, i) => now - 1000 - (39 - i) * 120_000);
    await ctx.store.insertEvents(
      times.map((ms, i) =>
        makeEvent(gateway, i + 1, iso(ms), { message: i % 4 ? 'valve open' : 'valve shut' }),
      ),
    );
    const range = { from: new Date(now - 3 * 3_600_000), to: new Date(now) };
    for (const text of [undefined, 'shut']) {
      const expected = times
        .map((_, i) => i + 1)
        .filter((seq) => text === undefined || (seq - 1) % 4 === 0)
        .reverse();
      const all = await ctx.store.queryEvents({ gateway, ...range, text, limit: 1000 });
      assert.deepEqual(
        all.events.map((e) => e.seq),
        expected,
      );
      const { events: paged } = await drain((cursor) =>
        ctx.store.queryEvents({ gateway, ...range, text, limit: 3, cursor }),
      );
      assert.deepEqual(
        paged.map((e) => e.seq),
        expected,
      );
    }
  });
}
