/**
 * The file source on a real queue: lines in order with their path and offset; a stop and a new
 * source on the same queue resume exactly after the last durable line (nothing twice, nothing
 * lost); a rename rotation reads the old file to its end and the new one from its start; a
 * truncation starts over and a copy of a followed file (copytruncate's) is read on from the
 * original's offset; multi-line records by a start pattern with a flush timeout; UTF-16 and
 * latin1 files; a line over the cap cut, tagged and counted; `format: syslog`.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { parseEvent } from '../../../../protocols/event/schema.ts';
import { waitFor } from '../../../support/env.ts';
import { fileHarness, type Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const numbered = (from: number, to: number, prefix = 'line') =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}\n`).join('');

async function messagesWhen(hh: Harness, n: number): Promise<string[]> {
  return waitFor(
    async () => {
      const events = await hh.events();
      return events.length >= n ? events.map((e) => e.message) : undefined;
    },
    { timeoutMs: 20_000, what: `${n} events` },
  );
}

describe('file source', () => {
  it('reads lines in order with path and offset, and resumes after a stop exactly where it was', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 500));
    await h.start({ paths: [path.join(h.dir, '*.log')], poll_interval_ms: 20, max_batch_lines: 64 });
    await messagesWhen(h, 500);
    const first = await h.events();
    assert.equal(first[0]!.source, 'file');
    assert.equal(first[0]!.action, 'file.line');
    assert.deepEqual(first[1]!.fields, { path: file, offset: 'line 0\n'.length });
    for (const e of first) assert.ok(parseEvent(e).ok);
    await h.stop();
    appendFileSync(file, numbered(500, 900));
    appendFileSync(file, 'partial without newline');
    await h.start({ paths: [path.join(h.dir, '*.log')], poll_interval_ms: 20 });
    const all = await messagesWhen(h, 900);
    assert.deepEqual(all, numbered(0, 900).trimEnd().split('\n'));
    // The partial line waits for its newline.
    appendFileSync(file, ' now\n');
    const more = await messagesWhen(h, 901);
    assert.equal(more.at(-1), 'partial without newline now');
  });

  it('rename rotation: the old file to its end, the new one from its start, each line once', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 100));
    await h.start({ paths: [file], poll_interval_ms: 20, rotate_wait_secs: 0.3 });
    await messagesWhen(h, 100);
    appendFileSync(file, numbered(100, 150));
    renameSync(file, `${file}.1`);
    writeFileSync(file, numbered(150, 200));
    // The writer still had the old file open for a moment.
    appendFileSync(`${file}.1`, numbered(200, 210, 'late'));
    const all = await messagesWhen(h, 210);
    assert.deepEqual(
      [...all].sort(),
      [...numbered(0, 200).trimEnd().split('\n'), ...numbered(200, 210, 'late').trimEnd().split('\n')].sort(),
    );
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await h.events()).length, 210);
  });

  it('rename rotations faster than the looks: a file never seen at the path is found beside it', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, '');
    await h.start({ paths: [file], poll_interval_ms: 200, rotate_wait_secs: 0.3 });
    // Let the source see the empty file (logrotate's `create` leaves one), then rotate twice
    // before the next look: the file written in between is never at the path when it looks.
    await new Promise((r) => setTimeout(r, 400));
    renameSync(file, `${file}.1`);
    writeFileSync(file, numbered(0, 50));
    renameSync(`${file}.1`, `${file}.2`);
    renameSync(file, `${file}.1`);
    writeFileSync(file, numbered(50, 60));
    const all = await messagesWhen(h, 60);
    assert.deepEqual([...all].sort(), numbered(0, 60).trimEnd().split('\n').sort());
  });

  it('a look that finds the path empty mid-rotation: a file created and rotated away before the next look is found', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 10));
    await h.start({ paths: [file], poll_interval_ms: 100, rotate_wait_secs: 5 });
    await messagesWhen(h, 10);
    // logrotate renamed the file; a look comes before the new one is created (a slow create).
    renameSync(file, `${file}.1`);
    await new Promise((r) => setTimeout(r, 400));
    // Then, between two looks: the new file is created, written and rotated, and the next created.
    writeFileSync(file, numbered(10, 60));
    renameSync(`${file}.1`, `${file}.2`);
    renameSync(file, `${file}.1`);
    writeFileSync(file, numbered(60, 70));
    const all = await messagesWhen(h, 70);
    assert.deepEqual([...all].sort(), numbered(0, 70).trimEnd().split('\n').sort());
  });

  it('copytruncate: a copy of a followed file goes on from its offset; the truncated file starts over', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 100));
    await h.start({ paths: [`${file}*`], poll_interval_ms: 20 });
    await messagesWhen(h, 100);
    appendFileSync(file, numbered(100, 130));
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    appendFileSync(file, numbered(130, 160));
    const all = await messagesWhen(h, 160);
    assert.deepEqual([...all].sort(), numbered(0, 160).trimEnd().split('\n').sort());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await h.events()).length, 160);
  });

  it('copytruncate: a copy still being written waits to reach the offset, and no line is read twice', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 1000));
    await h.start({ paths: [`${file}*`], poll_interval_ms: 20 });
    await messagesWhen(h, 1000);
    // logrotate copies in chunks while the source looks: a copy past the head but short of the offset.
    const content = readFileSync(file);
    writeFileSync(`${file}.1`, content.subarray(0, 3000));
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(`${file}.1`, content.subarray(3000));
    truncateSync(file, 0);
    appendFileSync(file, numbered(1000, 1010));
    const all = await messagesWhen(h, 1010);
    await new Promise((r) => setTimeout(r, 2000));
    const final = (await h.events()).map((e) => e.message);
    assert.equal(final.length, 1010, `no line twice (${final.length - new Set(final).size} duplicates)`);
    assert.deepEqual([...all].sort(), numbered(0, 1010).trimEnd().split('\n').sort());
  });

  it('copytruncate: a copy made while its original is still read waits for the truncation, no line twice', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 1000));
    await h.start({ paths: [`${file}*`], poll_interval_ms: 20 });
    await messagesWhen(h, 1000);
    // Both before the next look: the original grows and is copied (logrotate copies first).
    appendFileSync(file, numbered(1000, 1200));
    copyFileSync(file, `${file}.1`);
    // The source reads the original on (lines 1000-1199) while the copy is there, then the
    // truncation comes: the copy must go on from where the original ended, not from where it was.
    await messagesWhen(h, 1200);
    await new Promise((r) => setTimeout(r, 300));
    truncateSync(file, 0);
    appendFileSync(file, numbered(1200, 1210));
    await messagesWhen(h, 1210);
    await new Promise((r) => setTimeout(r, 1000));
    const final = (await h.events()).map((e) => e.message);
    assert.equal(final.length, 1210, `no line twice (${final.length - new Set(final).size} duplicates)`);
    assert.deepEqual([...final].sort(), numbered(0, 1210).trimEnd().split('\n').sort());
  });

  it('copytruncate: a copy of a file shorter than a head, which grew before its truncation, is not read again', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 70)); // under 1 KB: the copy is all the start of the original's head
    await h.start({ paths: [`${file}*`], poll_interval_ms: 20 });
    await messagesWhen(h, 70);
    copyFileSync(file, `${file}.1`);
    appendFileSync(file, numbered(70, 200)); // the original grows past a head before the truncation
    await messagesWhen(h, 200);
    await new Promise((r) => setTimeout(r, 300));
    truncateSync(file, 0);
    appendFileSync(file, numbered(200, 210));
    await messagesWhen(h, 210);
    // Past the wait for an undecided file (1.5 s), after which the copy was read from 0.
    await new Promise((r) => setTimeout(r, 2500));
    const final = (await h.events()).map((e) => e.message);
    assert.equal(final.length, 210, `no line twice (${final.length - new Set(final).size} duplicates)`);
    assert.deepEqual([...final].sort(), numbered(0, 210).trimEnd().split('\n').sort());
  });

  it('multi-line records by a start pattern, the last one handed on after the flush timeout', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'java.log');
    const trace = '2026-12-05 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)\n';
    writeFileSync(file, `2026-12-05 INFO start\n${trace}2026-12-05 WARN last\n  continued\n`);
    await h.start({
      paths: [file],
      poll_interval_ms: 20,
      multiline: { start_pattern: '^\\d{4}-\\d{2}-\\d{2} ', flush_timeout_ms: 200 },
    });
    const all = await messagesWhen(h, 3);
    assert.deepEqual(all, ['2026-12-05 INFO start', trace.trimEnd(), '2026-12-05 WARN last\n  continued']);
    const events = await h.events();
    assert.equal(events[1]!.fields.lines, 3);
  });

  it('UTF-16LE with a BOM, latin1, and a line over the cap cut, tagged and counted', async () => {
    h = await fileHarness();
    writeFileSync(path.join(h.dir, 'w.log'), Buffer.from('\ufeffZürich ☃\r\nzwei\r\n', 'utf16le'));
    await h.start({ paths: [path.join(h.dir, 'w.log')], encoding: 'utf-16le', poll_interval_ms: 20 });
    assert.deepEqual(await messagesWhen(h, 2), ['Zürich ☃', 'zwei']);
    await h.stop();
    writeFileSync(path.join(h.dir, 'l.log'), Buffer.from('caf\xe9\n', 'latin1'));
    await h.start({ paths: [path.join(h.dir, 'l.log')], encoding: 'latin1', poll_interval_ms: 20 });
    assert.equal((await messagesWhen(h, 3))[2], 'café');
    await h.stop();
    writeFileSync(path.join(h.dir, 'big.log'), `${'x'.repeat(1000)}\nsmall\n`);
    await h.start({ paths: [path.join(h.dir, 'big.log')], max_line_bytes: 100, poll_interval_ms: 20 });
    await messagesWhen(h, 5);
    const events = await h.events();
    const cut = events[3]!;
    assert.equal(cut.message, 'x'.repeat(100));
    assert.ok(cut.tags.includes('truncated'));
    assert.equal(cut.fields.truncated_bytes, 900);
    assert.equal(events[4]!.message, 'small');
    const metric = await h.metrics.registry.getSingleMetric('siem_gateway_errors_total')!.get();
    assert.ok(metric.values.some((v) => v.labels.code === 'line_truncated' && v.value === 1));
  });

  it('format syslog: a syslog line parses as syslog (transport file), anything else stays plain', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'messages');
    writeFileSync(
      file,
      'Dec  5 10:00:01 plc-7 sshd[42]: Failed password for root from 10.0.0.9 port 22 ssh2\n',
    );
    await h.start({ paths: [file], format: 'syslog', poll_interval_ms: 20 });
    await messagesWhen(h, 1);
    const [e] = await h.events();
    assert.equal(e!.source, 'syslog');
    assert.equal(e!.host, 'plc-7');
    assert.equal(e!.fields.transport, 'file');
    assert.equal(e!.fields.path, file);
    assert.ok(parseEvent(e).ok);
  });

  it('a copy renamed away while it waits for its original is read on, not let go as if it held nothing', async () => {
    h = await fileHarness();
    const file = path.join(h.dir, 'app.log');
    writeFileSync(file, numbered(0, 50));
    // rotate_wait_secs below the 1.5 s a copy of a followed file waits for the original.
    await h.start({ paths: [`${file}*`], poll_interval_ms: 20, rotate_wait_secs: 1 });
    await messagesWhen(h, 50);
    // A copy of the followed file with more lines after it, renamed out of the globs at once: it
    // waits for its original (never truncated here), then goes on from the original's offset.
    writeFileSync(`${file}.1`, numbered(0, 60));
    await new Promise((r) => setTimeout(r, 100));
    renameSync(`${file}.1`, path.join(h.dir, 'kept.txt'));
    const all = await messagesWhen(h, 60);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(
      [...(await h.events()).map((e) => e.message)].sort(),
      numbered(0, 60).trimEnd().split('\n').sort(),
    );
    assert.equal(all.length, 60);
  });
});
