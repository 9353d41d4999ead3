/**
 * The examples of RFC 5424 §6.5 (verbatim, with a real U+FEFF BOM where the RFC writes "BOM")
 * and RFC 3164 §5.4, every field checked; and RFC 6587 framing of those messages, octet-counted
 * (§3.4.1) and non-transparent (§3.4.2), split at every byte boundary.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createSyslogDeframer,
  frameLf,
  frameOctetCounting,
  parseSyslog,
  type SyslogMessage,
} from '../../../protocols/syslog/index.ts';

const NOW = new Date('2024-06-01T12:00:00Z');
const BOM = '\uFEFF';
const utf8 = new TextEncoder();

const RFC5424 = [
  `<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`,
  `<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.`,
  `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ${BOM}An application event log entry...`,
  `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
] as const;

const RFC3164 = {
  example1: `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
  example2: 'Use the BFG!',
  example2Relayed: '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!',
  example3:
    "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, Conveyer2=OK # %%",
  example4: "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
  example4Relayed:
    "<0>Oct 22 10:52:12 scapegoat 1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
} as const;

function parse(input: string | Uint8Array): SyslogMessage {
  const result = parseSyslog(input, { now: NOW });
  assert.ok(result.ok, JSON.stringify(result));
  return result.message;
}

/** Every field, so a change anywhere in the parser shows up as a failure here. */
function expectMessage(
  actual: SyslogMessage,
  expected: Omit<SyslogMessage, 'timestamp'> & { timestamp: string | null },
) {
  assert.deepEqual({ ...actual, timestamp: actual.timestamp?.toISOString() ?? null }, expected);
}

const NONE = {
  appName: null,
  procId: null,
  msgId: null,
  structuredData: [],
  tag: null,
  programName: null,
  invalidUtf8: false,
};

describe('RFC 5424 §6.5 examples', () => {
  test('example 1: no STRUCTURED-DATA, BOM before a UTF-8 MSG', () => {
    for (const input of [RFC5424[0], utf8.encode(RFC5424[0])]) {
      expectMessage(parse(input), {
        ...NONE,
        format: 'rfc5424',
        pri: 34,
        facility: 4,
        severity: 2,
        priPresent: true,
        timestamp: '2003-10-11T22:14:15.003Z',
        timestampText: '2003-10-11T22:14:15.003Z',
        hostname: 'mymachine.example.com',
        appName: 'su',
        msgId: 'ID47',
        tag: 'su',
        programName: 'su',
        msg: "'su root' failed for lonvick on /dev/pts/8",
      });
    }
  });

  test('example 2: microseconds and a -07:00 offset, PROCID, no MSGID', () => {
    expectMessage(parse(utf8.encode(RFC5424[1])), {
      ...NONE,
      format: 'rfc5424',
      pri: 165,
      facility: 20,
      severity: 5,
      priPresent: true,
      timestamp: '2003-08-24T12:14:15.000Z',
      timestampText: '2003-08-24T05:14:15.000003-07:00',
      hostname: '192.0.2.1',
      appName: 'myproc',
      procId: '8710',
      tag: 'myproc[8710]',
      programName: 'myproc',
      msg: "%% It's time to make the do-nuts.",
    });
  });

  test('example 3: one SD-ELEMENT and a MSG', () => {
    expectMessage(parse(utf8.encode(RFC5424[2])), {
      ...NONE,
      format: 'rfc5424',
      pri: 165,
      facility: 20,
      severity: 5,
      priPresent: true,
      timestamp: '2003-10-11T22:14:15.003Z',
      timestampText: '2003-10-11T22:14:15.003Z',
      hostname: 'mymachine.example.com',
      appName: 'evntslog',
      msgId: 'ID47',
      structuredData: [
        {
          id: 'exampleSDID@32473',
          params: [
            ['iut', '3'],
            ['eventSource', 'Application'],
            ['eventID', '1011'],
          ],
        },
      ],
      tag: 'evntslog',
      programName: 'evntslog',
      msg: 'An application event log entry...',
    });
  });

  test('example 4: two SD-ELEMENTs and no MSG', () => {
    const m = parse(utf8.encode(RFC5424[3]));
    assert.deepEqual(m.structuredData, [
      {
        id: 'exampleSDID@32473',
        params: [
          ['iut', '3'],
          ['eventSource', 'Application'],
          ['eventID', '1011'],
        ],
      },
      { id: 'examplePriority@32473', params: [['class', 'high']] },
    ]);
    assert.equal(m.msg, '');
    assert.equal(m.hostname, 'mymachine.example.com');
    assert.equal(m.appName, 'evntslog');
    assert.equal(m.procId, null);
    assert.equal(m.msgId, 'ID47');
    assert.equal(m.pri, 165);
  });

  test('§6.3.3: `\\"`, `\\\\` and `\\]` are escapes in PARAM-VALUE, a backslash before anything else is kept', () => {
    const m = parse('<14>1 - h a - - [x@1 a="q\\"b\\\\s\\]e" b="c\\d" c=""] msg');
    assert.deepEqual(m.structuredData, [
      {
        id: 'x@1',
        params: [
          ['a', 'q"b\\s]e'],
          ['b', 'c\\d'],
          ['c', ''],
        ],
      },
    ]);
    assert.equal(m.msg, 'msg');
  });
});

describe('RFC 3164 §5.4 examples', () => {
  test('example 1: the canonical BSD message', () => {
    expectMessage(parse(RFC3164.example1), {
      ...NONE,
      format: 'rfc3164',
      pri: 34,
      facility: 4,
      severity: 2,
      priPresent: true,
      timestamp: '2023-10-11T22:14:15.000Z',
      timestampText: 'Oct 11 22:14:15',
      hostname: 'mymachine',
      tag: 'su:',
      programName: 'su',
      msg: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  test('example 2: no PRI and no HEADER means user.notice, and the first word is the TAG (§4.3.3)', () => {
    expectMessage(parse(RFC3164.example2), {
      ...NONE,
      format: 'rfc3164',
      pri: 13,
      facility: 1,
      severity: 5,
      priPresent: false,
      timestamp: null,
      timestampText: null,
      hostname: null,
      tag: 'Use',
      programName: 'Use',
      msg: 'the BFG!',
    });
  });

  test('example 2 as relayed, with the PRI, TIMESTAMP and HOSTNAME a relay adds', () => {
    const m = parse(RFC3164.example2Relayed);
    assert.equal(m.pri, 13);
    assert.equal(m.priPresent, true);
    assert.equal(m.timestamp?.toISOString(), '2024-02-05T17:32:18.000Z');
    assert.equal(m.hostname, '10.0.0.99');
    assert.equal(m.tag, 'Use');
    assert.equal(m.msg, 'the BFG!');
  });

  test('example 3: "CST 1987" after the time is read as HOSTNAME and TAG, as the RFC predicts', () => {
    const m = parse(RFC3164.example3);
    assert.equal(m.pri, 165);
    assert.equal(m.facility, 20);
    assert.equal(m.severity, 5);
    assert.equal(m.timestamp?.toISOString(), '2023-08-24T05:34:00.000Z');
    assert.equal(m.timestampText, 'Aug 24 05:34:00');
    assert.equal(m.hostname, 'CST');
    assert.equal(m.tag, '1987');
    assert.equal(
      m.msg,
      "mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, Conveyer2=OK # %%",
    );
  });

  test('example 4: an invalid TIMESTAMP leaves the rest as MSG, and the relayed form has the relay header', () => {
    const original = parse(RFC3164.example4);
    assert.equal(original.pri, 0);
    assert.equal(original.timestamp, null);
    assert.equal(original.hostname, null);
    assert.equal(original.tag, '1990');
    assert.equal(
      original.msg,
      "Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
    );
    const relayed = parse(RFC3164.example4Relayed);
    assert.equal(relayed.timestamp?.toISOString(), '2023-10-22T10:52:12.000Z');
    assert.equal(relayed.hostname, 'scapegoat');
    assert.equal(relayed.tag, '1990');
    assert.equal(relayed.msg, original.msg);
  });
});

describe('RFC 6587 framing of the RFC 5424 examples', () => {
  const messages = RFC5424.map((m) => utf8.encode(m));
  const decode = (frames: Uint8Array[]) => frames.map((f) => new TextDecoder().decode(f));

  function deframeSplit(stream: Uint8Array, cut: number) {
    const d = createSyslogDeframer({ maxFrameBytes: 2048 });
    const a = d.push(stream.subarray(0, cut));
    const b = d.push(stream.subarray(cut));
    const c = d.end();
    return {
      frames: [...a.frames, ...b.frames, ...c.frames],
      errors: [...a.errors, ...b.errors, ...c.errors],
    };
  }

  function concat(parts: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  test('§3.4.1 octet counting: MSG-LEN is the byte count (the BOM is 3 bytes), then SP', () => {
    const framed = frameOctetCounting(messages[0]!);
    const header = new TextDecoder().decode(framed.subarray(0, 4));
    assert.equal(header, `${messages[0]!.length} `);
    assert.equal(messages[0]!.length, RFC5424[0].length + 2, 'U+FEFF is one UTF-16 unit, three UTF-8 bytes');
  });

  const framings: Array<[string, Uint8Array]> = [
    ['octet-counted (§3.4.1)', concat(messages.map(frameOctetCounting))],
    ['LF-terminated (§3.4.2)', concat(messages.map(frameLf))],
    ['CRLF-terminated', concat(messages.map((m) => concat([m, utf8.encode('\r\n')])))],
    ['NUL-terminated', concat(messages.map((m) => concat([m, new Uint8Array([0])])))],
    [
      'mixed, framing chosen per frame',
      concat(messages.map((m, i) => (i % 2 ? frameLf(m) : frameOctetCounting(m)))),
    ],
  ];

  for (const [name, stream] of framings) {
    test(`${name}: the same four messages wherever the stream is split`, () => {
      for (let cut = 0; cut <= stream.length; cut++) {
        const { frames, errors } = deframeSplit(stream, cut);
        assert.deepEqual(errors, [], `cut at ${cut}`);
        assert.deepEqual(decode(frames), [...RFC5424], `cut at ${cut}`);
      }
    });
  }

  test('one byte at a time', () => {
    const d = createSyslogDeframer({ maxFrameBytes: 2048 });
    const frames: Uint8Array[] = [];
    for (const b of framings[4]![1]) frames.push(...d.push(Uint8Array.of(b)).frames);
    frames.push(...d.end().frames);
    assert.deepEqual(decode(frames), [...RFC5424]);
  });
});
