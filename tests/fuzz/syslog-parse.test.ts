/**
 * Property tests for the syslog parser: any input gives a result or a typed error, never an
 * exception, and a rejected input still becomes a valid event; format → parse gives the message
 * back (RFC 5424 and RFC 3164). Seeds are random; a failure prints its seed and counterexample for
 * replay. The RFC 6587 deframer is in syslog-deframe.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseEvent } from '../../protocols/event/schema.ts';
import {
  formatRfc3164,
  formatRfc5424,
  parseSyslog,
  type SyslogMessage,
  syslogErrorToEvent,
  syslogToEvent,
} from '../../protocols/syslog/index.ts';

const NOW = new Date('2024-06-01T12:00:00Z');
const DAY = 86_400_000;
const PARSE_ERRORS = new Set(['empty', 'too_large', 'invalid_utf8']);
const enc = new TextEncoder();

/** Fragments that steer random input into every branch of the parser. */
const fragment = fc.constantFrom(
  '<13>',
  '<165>1 ',
  '<0>',
  '<191>',
  '<192>',
  '<',
  '>',
  '1 ',
  '-',
  ' ',
  '  ',
  ':',
  '[',
  ']',
  '"',
  '\\',
  '=',
  '\t',
  '\n',
  '\0',
  '\uFEFF',
  'Oct 11 22:14:15 ',
  'Feb 29 ',
  'AUG  1 2009 ',
  '2003-10-11T22:14:15.003Z ',
  '2003-08-24T05:14:15.000003-07:00',
  'host ',
  'su: ',
  'app[12]: ',
  '[id@1 a="b"]',
  '123: ',
  '*Mar  1 18:46:11.123 UTC: ',
  '%SYS-5-CONFIG_I: ',
  '{',
  'é',
  '\uD83D\uDE00',
);
const syslogish = fc
  .array(fc.oneof(fragment, fc.string({ maxLength: 8 })), { maxLength: 20 })
  .map((parts) => parts.join(''));

function assertResult(input: string | Uint8Array, maxBytes?: number) {
  const r = parseSyslog(input, maxBytes === undefined ? { now: NOW } : { now: NOW, maxBytes });
  if (!r.ok) {
    assert.ok(PARSE_ERRORS.has(r.error.code), r.error.code);
    // A rejected input still becomes a valid event.
    assert.ok(
      parseEvent({
        ...syslogErrorToEvent(r.error, input, { received: NOW, transport: 'udp' }),
        v: 1,
        id: 'g:1',
        gateway: 'g',
        seq: 1,
      }).ok,
    );
    return;
  }
  const m = r.message;
  assert.ok(m.pri >= 0 && m.pri <= 191 && m.facility === m.pri >> 3 && m.severity === (m.pri & 7));
  assert.ok(m.timestamp === null || Number.isFinite(m.timestamp.getTime()));
  const event = syslogToEvent(m, { received: NOW, peer: { ip: '10.0.0.1', port: 514 }, transport: 'udp' });
  const checked = parseEvent({ ...event, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
  assert.ok(checked.ok, checked.ok ? '' : checked.error);
}
describe('parseSyslog never throws', () => {
  test('any bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          syslogish.map((s) => enc.encode(s)),
        ),
        (bytes) => assertResult(bytes),
      ),
      { numRuns: 2000 },
    );
  });

  test('any string, any size limit', () => {
    fc.assert(
      fc.property(
        fc.oneof(syslogish, fc.string({ unit: 'binary', maxLength: 200 })),
        fc.option(fc.nat(300)),
        (s, max) => assertResult(s, max ?? undefined),
      ),
      { numRuns: 1000 },
    );
  });
});

// Message generators for the round trips.
const printAscii = (max: number) =>
  fc.stringMatching(new RegExp(`^[!-~]{1,${max}}$`)).filter((s) => s !== '-');
const sdName = fc.stringMatching(/^[!-~]{1,32}$/).filter((s) => !/[= \]"]/.test(s));
const noTrailer = (s: string) => !/[\n\r\0]$/.test(s);
const anyText = fc.string({ unit: 'binary', maxLength: 60 }).filter(noTrailer);

const rfc5424Message: fc.Arbitrary<SyslogMessage> = fc
  .record({
    pri: fc.integer({ min: 0, max: 191 }),
    timestamp: fc.option(
      fc.date({
        min: new Date('0000-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      }),
    ),
    hostname: fc.option(printAscii(255)),
    appName: fc.option(printAscii(48)),
    procId: fc.option(printAscii(128)),
    msgId: fc.option(printAscii(32)),
    structuredData: fc.array(
      fc.record({
        id: sdName,
        params: fc.array(fc.tuple(sdName, fc.string({ unit: 'binary', maxLength: 20 })), { maxLength: 3 }),
      }),
      { maxLength: 3 },
    ),
    msg: anyText,
  })
  .map((r) => ({
    format: 'rfc5424' as const,
    pri: r.pri,
    facility: r.pri >> 3,
    severity: r.pri & 7,
    priPresent: true,
    timestamp: r.timestamp,
    timestampText: r.timestamp?.toISOString() ?? null,
    hostname: r.hostname,
    appName: r.appName,
    procId: r.procId,
    msgId: r.msgId,
    // fc.record builds null-prototype objects; the parser builds plain ones.
    structuredData: r.structuredData.map((el) => ({ id: el.id, params: el.params })),
    tag:
      r.appName === null && r.procId === null
        ? null
        : `${r.appName ?? '-'}${r.procId === null ? '' : `[${r.procId}]`}`,
    programName: r.appName,
    msg: r.msg,
    invalidUtf8: false,
  }));

/**
 * RFC 3164 messages within what the format can carry unambiguously: a hostname needs a timestamp
 * (it is part of the HEADER), and without a hostname the tag ends in ':' so it cannot be taken
 * for one; without a timestamp there is a tag. Program names are never three letters (a month).
 */
const rfc3164Message = fc
  .record({
    pri: fc.integer({ min: 0, max: 191 }),
    priPresent: fc.boolean(),
    hasTimestamp: fc.boolean(),
    includeYear: fc.boolean(),
    seconds: fc.integer({ min: -330 * 86_400, max: 30 * 86_400 }),
    yearSeconds: fc.integer({ min: Date.UTC(1972, 0, 1) / 1000, max: Date.UTC(2098, 11, 31) / 1000 }),
    utcOffsetMinutes: fc.integer({ min: -720, max: 840 }),
    hostname: fc.option(fc.stringMatching(/^[A-Za-z][A-Za-z0-9._-]{0,20}[A-Za-z0-9]$/)),
    prog: fc.option(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.%()/-]{3,15}$/)),
    pid: fc.option(fc.integer({ min: 1, max: 99_999 })),
    colon: fc.boolean(),
    msg: anyText,
  })
  .map((r) => {
    const timestamp = r.hasTimestamp
      ? new Date(r.includeYear ? r.yearSeconds * 1000 : Math.floor(NOW.getTime() / 1000 + r.seconds) * 1000)
      : null;
    const hostname = timestamp ? r.hostname : null;
    const prog = r.prog ?? (timestamp ? null : 'prog');
    const colon = r.colon || (timestamp !== null && hostname === null);
    const tag = prog === null ? null : `${prog}${r.pid === null ? '' : `[${r.pid}]`}${colon ? ':' : ''}`;
    return { ...r, timestamp, hostname, tag, pid: prog === null ? null : r.pid };
  });

describe('format → parse round trips', () => {
  test('RFC 5424, as text and as UTF-8 bytes', () => {
    fc.assert(
      fc.property(rfc5424Message, (m) => {
        const text = formatRfc5424(m);
        for (const input of [text, enc.encode(text)]) {
          const r = parseSyslog(input, { now: NOW, maxBytes: 1 << 20 });
          assert.ok(r.ok);
          assert.deepEqual(r.message, m);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('RFC 3164, with and without the year', () => {
    fc.assert(
      fc.property(rfc3164Message, (g) => {
        const opts = { includeYear: g.includeYear, utcOffsetMinutes: g.utcOffsetMinutes };
        const pri = g.priPresent ? g.pri : 13;
        const text = formatRfc3164(
          {
            pri,
            priPresent: g.priPresent,
            timestamp: g.timestamp,
            hostname: g.hostname,
            tag: g.tag,
            msg: g.msg,
          },
          opts,
        );
        const r = parseSyslog(text, { now: NOW, utcOffsetMinutes: g.utcOffsetMinutes });
        assert.ok(r.ok);
        const { timestampText, ...rest } = r.message;
        assert.equal(timestampText !== null, g.timestamp !== null, text);
        assert.deepEqual(
          rest,
          {
            format: 'rfc3164',
            pri,
            facility: pri >> 3,
            severity: pri & 7,
            priPresent: g.priPresent,
            timestamp: g.timestamp,
            hostname: g.hostname,
            appName: null,
            procId: g.pid === null ? null : String(g.pid),
            msgId: null,
            structuredData: [],
            tag: g.tag,
            programName: g.tag === null ? null : /^[^:[/]*/.exec(g.tag)![0],
            msg: g.msg,
            invalidUtf8: false,
          },
          text,
        );
      }),
      { numRuns: 1000 },
    );
  });
});

test('fuzz sanity: the generators produce what they claim', () => {
  const sample = fc.sample(rfc3164Message, 200);
  assert.ok(sample.some((g) => g.hostname !== null && g.timestamp !== null));
  assert.ok(sample.some((g) => g.timestamp === null));
  assert.ok(fc.sample(syslogish, 100).some((s) => s.startsWith('<')));
  assert.ok(NOW.getTime() - 330 * DAY > 0);
});
