/**
 * The formatters: exact output for known messages, and parse(format(m)) giving m back. The
 * generated round trips are in tests/fuzz/syslog-parse.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatRfc3164,
  formatRfc5424,
  parseSyslog,
  type SyslogMessage,
} from '../../../protocols/syslog/index.ts';

const NOW = new Date('2024-06-01T12:00:00Z');

function parse(input: string): SyslogMessage {
  const r = parseSyslog(input, { now: NOW });
  assert.ok(r.ok);
  return r.message;
}

describe('formatRfc5424', () => {
  test('writes the RFC 5424 §6.5 example 3 back byte for byte (timestamps in UTC)', () => {
    const input =
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...';
    assert.equal(formatRfc5424(parse(input)), input);
  });

  test('escapes PARAM-VALUE (§6.3.3), makes header fields PRINTUSASCII, adds a BOM before non-ASCII MSG (§6.4)', () => {
    const out = formatRfc5424({
      pri: 14,
      timestamp: null,
      hostname: 'plc 7',
      appName: 'ä',
      structuredData: [{ id: 'x@1', params: [['k', 'a"b\\c]d']] }],
      msg: 'Grüße',
    });
    assert.equal(out, '<14>1 - plc_7 _ - - [x@1 k="a\\"b\\\\c\\]d"] \uFEFFGrüße');
    const back = parse(out);
    assert.deepEqual(back.structuredData, [{ id: 'x@1', params: [['k', 'a"b\\c]d']] }]);
    assert.equal(back.msg, 'Grüße');
  });

  test('an RFC 3164 message becomes APP-NAME and PROCID from its tag', () => {
    const out = formatRfc5424(parse('<38>Mar 27 19:06:53 source_server sshd[12750]: session opened'));
    assert.equal(out, '<38>1 2024-03-27T19:06:53.000Z source_server sshd 12750 - - session opened');
  });
});

describe('formatRfc3164', () => {
  test('writes the RFC 3164 §5.4 example 1 back byte for byte', () => {
    const input = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8";
    assert.equal(formatRfc3164(parse(input)), input);
  });

  test('a one-digit day is padded with a space; includeYear writes the year; no PRI stays absent', () => {
    const m = parse('Mar  7 19:06:53 example tag: testmessage');
    assert.equal(formatRfc3164(m), 'Mar  7 19:06:53 example tag: testmessage');
    assert.equal(
      formatRfc3164({ ...m, priPresent: true }, { includeYear: true }),
      '<13>Mar  7 2024 19:06:53 example tag: testmessage',
    );
  });

  test('an RFC 5424 message becomes `APP-NAME[PROCID]:` and keeps its text', () => {
    const m = parse('<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% do-nuts.');
    assert.equal(
      formatRfc3164(m, { includeYear: true }),
      '<165>Aug 24 2003 12:14:15 192.0.2.1 myproc[8710]: %% do-nuts.',
    );
    assert.equal(
      formatRfc3164(m, { includeYear: true, utcOffsetMinutes: -420 }),
      '<165>Aug 24 2003 05:14:15 192.0.2.1 myproc[8710]: %% do-nuts.',
    );
  });
});
