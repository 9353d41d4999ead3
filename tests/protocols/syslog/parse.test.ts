/**
 * parseSyslog behaviour beyond the RFC examples: PRI edge cases, size and encoding errors,
 * trailers, year inference for BSD timestamps, RFC 5424 leniency, Cisco IOS headers, names.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  facilityCode,
  facilityName,
  parseSyslog,
  type SyslogMessage,
  type SyslogParseOptions,
  severityCode,
  severityName,
} from '../../../protocols/syslog/index.ts';

const NOW = new Date('2024-06-01T12:00:00Z');

function parse(input: string | Uint8Array, options: Partial<SyslogParseOptions> = {}): SyslogMessage {
  const result = parseSyslog(input, { now: NOW, ...options });
  assert.ok(result.ok, JSON.stringify(result));
  return result.message;
}

describe('PRI (RFC 5424 §6.2.1)', () => {
  test('facility and severity come from PRI; 0 and 191 are the bounds', () => {
    assert.deepEqual([parse('<0>x').facility, parse('<0>x').severity], [0, 0]);
    const top = parse('<191>x');
    assert.deepEqual([top.pri, top.facility, top.severity, top.priPresent], [191, 23, 7, true]);
    assert.equal(parse('<013>x').pri, 13, 'leading zeros are accepted, as rsyslog does');
  });

  test('an invalid PRI is no PRI: default 13, and the text is kept in the message', () => {
    for (const bad of ['<192>boom', '<1000>boom', '<>boom', '<x>boom', '<12boom']) {
      const m = parse(bad);
      assert.equal(m.pri, 13, bad);
      assert.equal(m.priPresent, false, bad);
      assert.ok(`${m.tag ?? ''} ${m.msg}`.includes(bad.slice(0, 3)), `${bad} kept: ${JSON.stringify(m)}`);
    }
  });
});

describe('errors and encoding', () => {
  test('empty input, and input that is only trailers, is the error `empty`', () => {
    for (const input of ['', '\n', '\r\n', '\0', new Uint8Array(0), Uint8Array.of(0, 10)]) {
      const r = parseSyslog(input, { now: NOW });
      assert.ok(!r.ok);
      assert.equal(r.error.code, 'empty');
    }
  });

  test('input over maxBytes is `too_large`; the default limit is 65536 bytes', () => {
    const big = `<13>${'a'.repeat(65_532)}`;
    assert.ok(parseSyslog(big, { now: NOW }).ok, 'exactly 65536 bytes is accepted');
    const r = parseSyslog(`${big}a`, { now: NOW });
    assert.ok(!r.ok && r.error.code === 'too_large');
    const small = parseSyslog('<13>hello', { now: NOW, maxBytes: 5 });
    assert.ok(!small.ok && small.error.code === 'too_large');
    // Strings are measured in UTF-8 bytes: 'é' is two.
    assert.ok(!parseSyslog('<13>éé', { now: NOW, maxBytes: 7 }).ok);
    assert.ok(parseSyslog('<13>éé', { now: NOW, maxBytes: 8 }).ok);
  });

  test('invalid UTF-8 is decoded with U+FFFD and flagged, not rejected', () => {
    const bytes = Uint8Array.from([
      ...new TextEncoder().encode('<13>Jan  1 00:00:00 host app: caf'),
      0xe9,
      0xff,
    ]);
    const m = parse(bytes);
    assert.equal(m.invalidUtf8, true);
    assert.equal(m.msg, 'caf\uFFFD\uFFFD');
    assert.equal(m.hostname, 'host');
    assert.equal(parse(new TextEncoder().encode('<13>café')).invalidUtf8, false);
    const r = parseSyslog(bytes, { now: NOW, invalidUtf8: 'reject' });
    assert.ok(!r.ok && r.error.code === 'invalid_utf8');
  });

  test('trailing LF, CRLF and NUL are framing, not message (UDP senders append them)', () => {
    assert.equal(parse('<133>Apr  5 12:56:51 robin: Hello, syslog!\0').msg, 'Hello, syslog!');
    assert.equal(parse('<13>Apr  5 12:56:51 host app: hi\r\n').msg, 'hi');
    assert.equal(parse('<13>Apr  5 12:56:51 host app: a\nb\n').msg, 'a\nb', 'inner LF is kept');
  });
});

describe('RFC 3164 timestamps', () => {
  test('the year is the one nearest to now, at most a month ahead', () => {
    const at = (ts: string, now: string) =>
      parse(`<13>${ts} host app: x`, { now: new Date(now) }).timestamp?.toISOString() ?? null;
    assert.equal(at('Dec 31 23:59:59', '2024-01-10T00:00:00Z'), '2023-12-31T23:59:59.000Z');
    assert.equal(
      at('Feb  5 10:00:00', '2024-01-10T00:00:00Z'),
      '2024-02-05T10:00:00.000Z',
      '26 days ahead: same year',
    );
    assert.equal(
      at('Feb 20 10:00:00', '2024-01-10T00:00:00Z'),
      '2023-02-20T10:00:00.000Z',
      '41 days ahead: last year',
    );
    assert.equal(
      at('Jan  2 00:00:00', '2023-12-30T00:00:00Z'),
      '2024-01-02T00:00:00.000Z',
      'just after new year',
    );
    assert.equal(at('Feb 29 12:00:00', '2025-03-01T00:00:00Z'), '2024-02-29T12:00:00.000Z');
    assert.equal(at('Feb 29 12:00:00', '2022-06-01T00:00:00Z'), null, 'no leap year in reach');
    assert.equal(at('Feb 30 12:00:00', '2024-06-01T00:00:00Z'), null);
  });

  test('a year in the date is used as given; utcOffsetMinutes places zone-less times', () => {
    assert.equal(
      parse('<13>Mar  7 2008 19:06:53 h a: x').timestamp?.toISOString(),
      '2008-03-07T19:06:53.000Z',
    );
    const local = parse('<13>Mar  7 2008 19:06:53 h a: x', { utcOffsetMinutes: 120 });
    assert.equal(local.timestamp?.toISOString(), '2008-03-07T17:06:53.000Z');
  });

  test('milliseconds are accepted (Cisco msec); an impossible date keeps its text', () => {
    assert.equal(
      parse('<13>Mar  1 18:46:11.123 host a: x').timestamp?.toISOString(),
      '2024-03-01T18:46:11.123Z',
    );
    const bad = parse('<13>Feb 30 10:00:00 host app: x');
    assert.equal(bad.timestamp, null);
    assert.equal(bad.timestampText, 'Feb 30 10:00:00');
    assert.equal(bad.hostname, 'host');
  });

  test('without a timestamp there is no hostname: the first word is the tag', () => {
    const m = parse('<30>myapp started');
    assert.deepEqual([m.hostname, m.tag, m.msg], [null, 'myapp', 'started']);
    const d = parse('<30>dropbear[123]: Child connection');
    assert.deepEqual(
      [d.timestamp, d.tag, d.programName, d.procId],
      [null, 'dropbear[123]:', 'dropbear', '123'],
    );
  });

  test('a message starting with { or [ has no header (JSON), as in rsyslog', () => {
    const m = parse('<14>{"event":"login","user":"x"}');
    assert.deepEqual([m.tag, m.hostname, m.msg], [null, null, '{"event":"login","user":"x"}']);
  });

  test('programname stops at ":", "[" and "/" (postfix/smtpd → postfix)', () => {
    assert.equal(parse('<22>Jan  1 00:00:00 mx postfix/smtpd[99]: connect').programName, 'postfix');
    assert.equal(parse('<22>Jan  1 00:00:00 mx postfix/smtpd[99]: connect').procId, '99');
  });
});

describe('RFC 5424 leniency', () => {
  test('NILVALUEs everywhere give nulls, and a header-only message has an empty MSG', () => {
    const m = parse('<13>1 - - - - - -');
    assert.equal(m.format, 'rfc5424');
    assert.deepEqual(
      [
        m.timestamp,
        m.timestampText,
        m.hostname,
        m.appName,
        m.procId,
        m.msgId,
        m.structuredData,
        m.tag,
        m.msg,
      ],
      [null, null, null, null, null, null, [], null, ''],
    );
  });

  test('a TIMESTAMP that is not RFC 3339 leaves the header unparsed: the rest is MSG (as rsyslog)', () => {
    const m = parse('<13>1 yesterday host app - - - hello');
    assert.deepEqual([m.timestamp, m.hostname, m.msg], [null, null, 'yesterday host app - - - hello']);
  });

  test('an RFC 3339 timestamp without offset is read in the configured zone', () => {
    const m = parse('<13>1 2024-01-02T03:04:05 host app - - - x', { utcOffsetMinutes: -60 });
    assert.equal(m.timestamp?.toISOString(), '2024-01-02T04:04:05.000Z');
  });

  test('malformed STRUCTURED-DATA is kept, unparsed, at the start of MSG', () => {
    const m = parse('<13>1 - host app - - [broken x="1" hello');
    assert.deepEqual(m.structuredData, []);
    assert.equal(m.msg, '[broken x="1" hello');
  });

  test('spaces around "=" in an SD-PARAM are tolerated (seen in rsyslog\'s own vectors)', () => {
    const m = parse('<13>1 - h a - - [id@1 k= "v" j = "w"] text');
    assert.deepEqual(m.structuredData, [
      {
        id: 'id@1',
        params: [
          ['k', 'v'],
          ['j', 'w'],
        ],
      },
    ]);
    assert.equal(m.msg, 'text');
  });
});

describe('Cisco IOS headers', () => {
  test('sequence number, origin, unsynchronised clock, milliseconds, UTC zone, mnemonic tag', () => {
    const m = parse(
      '<189>123: router1: *Mar  1 2024 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured from console',
      {
        utcOffsetMinutes: 60,
      },
    );
    assert.equal(m.hostname, 'router1');
    assert.equal(m.timestamp?.toISOString(), '2024-03-01T18:46:11.123Z');
    assert.equal(m.tag, '%SYS-5-CONFIG_I:');
    assert.equal(m.programName, '%SYS-5-CONFIG_I');
    assert.equal(m.msg, 'Configured from console');
    assert.deepEqual(m.structuredData, [
      { id: 'meta', params: [['sequenceId', '123']] },
      { id: 'timeQuality', params: [['isSynced', '0']] },
    ]);
  });

  test('without the mnemonic it is not Cisco: plain RFC 3164 rules apply', () => {
    const m = parse('<13>123: hello world');
    assert.deepEqual([m.tag, m.msg, m.structuredData], ['123:', 'hello world', []]);
  });
});

describe('names', () => {
  test("rsyslog's facility and severity names", () => {
    assert.deepEqual(
      Array.from({ length: 24 }, (_, i) => facilityName(i)),
      'kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp audit alert clock local0 local1 local2 local3 local4 local5 local6 local7'.split(
        ' ',
      ),
    );
    assert.deepEqual(
      Array.from({ length: 8 }, (_, i) => severityName(i)),
      ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'],
    );
    assert.equal(facilityName(24), 'invalid');
    assert.equal(severityName(-1), 'invalid');
    assert.equal(facilityCode('LOCAL7'), 23);
    assert.equal(severityCode('warning'), 4);
  });
});
