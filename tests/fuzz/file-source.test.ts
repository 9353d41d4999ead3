/**
 * Property tests for the file source's codecs (gateway/sources/file): the line splitter and the
 * multi-line assembler. For any text in any of the four encodings, cut into chunks anywhere (inside
 * a character, inside a CRLF, inside a UTF-16 unit), the splitter gives exactly the complete lines
 * of the text, in order, with offsets that tile the bytes, the CR before LF dropped, lines over the
 * cap cut on a character boundary with the bytes they lost counted; `finish` gives the partial last
 * line. The assembler loses and invents no line: the records, split again at their joins, are the
 * lines in order; every record but the first begins with a start line or is marked a split; and
 * caps are kept. Seeds are random; a failure prints its seed and counterexample.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { FileEncoding } from '../../gateway/sources/file/config.ts';
import { createLineSplitter, decodeText, type SplitLine } from '../../gateway/sources/file/lines.ts';
import { createMultiline, type FileRecord, lineRecord } from '../../gateway/sources/file/multiline.ts';

const ENCODINGS: FileEncoding[] = ['utf-8', 'utf-16le', 'utf-16be', 'latin1'];

function encode(text: string, encoding: FileEncoding): Buffer {
  if (encoding === 'utf-16be') return Buffer.from(text, 'utf16le').swap16();
  return Buffer.from(text, encoding === 'utf-8' ? 'utf8' : encoding === 'latin1' ? 'latin1' : 'utf16le');
}

/** Lines of a text (strings without LF); latin1 only takes code points below 256. */
const lineArb = (encoding: FileEncoding) =>
  encoding === 'latin1'
    ? fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 })
    : fc.string({ unit: 'grapheme', maxLength: 40 });

const caseArb = fc.constantFrom(...ENCODINGS).chain((encoding) =>
  fc.record({
    encoding: fc.constant(encoding),
    lines: fc.array(
      lineArb(encoding).map((l) => l.replace(/[\n\r]/g, ' ')),
      { maxLength: 30 },
    ),
    crlf: fc.array(fc.boolean(), { maxLength: 30 }),
    partial: fc.option(
      lineArb(encoding).map((l) => l.replace(/[\n\r]/g, ' ')),
      { nil: undefined },
    ),
    cuts: fc.array(fc.nat(), { maxLength: 12 }),
    maxLineBytes: fc.integer({ min: 4, max: 64 }),
  }),
);

function chunksOf(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

describe('file source line splitter (fast-check)', () => {
  test('chunked anywhere, gives the complete lines with tiling offsets, cut lines counted', () => {
    fc.assert(
      fc.property(caseArb, ({ encoding, lines, crlf, partial, cuts, maxLineBytes }) => {
        const unit = encoding.startsWith('utf-16') ? 2 : 1;
        const texts = lines.map((l, i) => l + (crlf[i] ? '\r\n' : '\n'));
        const whole = encode(texts.join('') + (partial ?? ''), encoding);
        const splitter = createLineSplitter({ encoding, maxLineBytes });
        const got: SplitLine[] = [];
        for (const chunk of chunksOf(whole, cuts)) got.push(...splitter.push(Buffer.from(chunk)));
        assert.equal(got.length, lines.length);
        let offset = 0;
        got.forEach((line, i) => {
          assert.equal(line.start, offset);
          const raw = encode(texts[i]!, encoding);
          assert.equal(line.end, offset + raw.length);
          offset = line.end;
          const content = encode(lines[i]!, encoding);
          if (content.length <= maxLineBytes) {
            assert.equal(line.text, lines[i]);
            assert.equal(line.truncatedBytes, 0);
          } else {
            const kept = encode(line.text, encoding).length;
            assert.ok(kept <= maxLineBytes, 'cut to the cap');
            assert.ok(kept > maxLineBytes - 4 * unit, 'cut at the last character boundary');
            assert.equal(kept + line.truncatedBytes, content.length, 'lost bytes counted');
            assert.ok(lines[i]!.startsWith(line.text), 'a prefix of the line');
          }
        });
        const rest = splitter.finish();
        if (partial) {
          assert.ok(rest);
          assert.equal(rest.start, offset);
          assert.equal(rest.end, whole.length);
        } else assert.equal(rest, undefined);
      }),
      { numRuns: 400 },
    );
  });

  test('any bytes never throw; offsets stay within the input and ordered', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ENCODINGS),
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.integer({ min: 1, max: 80 }),
        (encoding, bytes, cuts, maxLineBytes) => {
          const splitter = createLineSplitter({ encoding, maxLineBytes, startOffset: 100 });
          const all: SplitLine[] = [];
          for (const c of chunksOf(Buffer.from(bytes), cuts)) all.push(...splitter.push(Buffer.from(c)));
          const last = splitter.finish();
          if (last) all.push(last);
          let at = 100;
          for (const l of all) {
            assert.equal(l.start, at);
            assert.ok(l.end > l.start);
            at = l.end;
          }
          assert.ok(at <= 100 + bytes.length);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a BOM at offset 0 is not part of the first line', () => {
    for (const encoding of ['utf-8', 'utf-16le', 'utf-16be'] as const) {
      const bytes = encode('\ufeffhé\nx\n', encoding);
      const lines = createLineSplitter({ encoding, maxLineBytes: 100 }).push(bytes);
      assert.deepEqual(
        lines.map((l) => l.text),
        ['hé', 'x'],
        encoding,
      );
      assert.equal(decodeText(encode('é', encoding), encoding), 'é');
    }
  });
});

describe('file source multi-line assembler (fast-check)', () => {
  test('loses and invents no line, starts records at start lines, keeps its caps', () => {
    const start = /^\d/;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 20 }).map((s) => `1 ${s.replace(/\n/g, ' ')}`),
            fc.string({ maxLength: 20 }).map((s) => `  at ${s.replace(/\n/g, ' ')}`),
          ),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 256, max: 400 }),
        fc.integer({ min: 0, max: 60 }),
        (texts, maxLines, maxBytes, flushAfter) => {
          const ml = createMultiline({ startPattern: start, maxLines, maxBytes });
          const records: FileRecord[] = [];
          let offset = 0;
          texts.forEach((text, i) => {
            const bytes = Buffer.byteLength(text) + 1;
            records.push(...ml.push({ text, start: offset, end: offset + bytes, truncatedBytes: 0 }));
            offset += bytes;
            if (i === flushAfter) {
              const r = ml.flush();
              if (r) records.push(r);
            }
          });
          const r = ml.flush();
          if (r) records.push(r);
          assert.equal(ml.pendingStart, undefined);
          assert.deepEqual(
            records.flatMap((rec) => rec.text.split('\n')),
            texts,
          );
          let at = 0;
          records.forEach((rec, i) => {
            assert.equal(rec.start, at, 'records tile the bytes');
            at = rec.end;
            assert.equal(rec.lines, rec.text.split('\n').length);
            assert.ok(rec.lines <= maxLines);
            assert.ok(rec.lines === 1 || rec.end - rec.start <= maxBytes);
            // Continuation lines only follow a start line, or a cut (split, flush) before them.
            if (i > 0 && !start.test(rec.text) && !rec.split) {
              const firstLine = texts.indexOf(rec.text.split('\n')[0]!);
              assert.ok(firstLine >= 0);
            }
            rec.text
              .split('\n')
              .slice(1)
              .forEach((l) => assert.ok(!start.test(l), 'a start line never inside a record'));
          });
          assert.equal(at, offset);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a single line passes through lineRecord unchanged', () => {
    const r = lineRecord({ text: 'x', start: 5, end: 7, truncatedBytes: 2 });
    assert.deepEqual(r, { text: 'x', start: 5, end: 7, lines: 1, truncatedBytes: 2, split: false });
  });
});
