/**
 * The mapping from a parsed syslog message to the one Event type, and from a rejected input to a
 * `syslog.parse_error` health event. Every produced event must pass the runtime schema once the
 * queue has given it `v`, `id`, `gateway` and `seq`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EVENT_LIMITS, type PendingEvent, parseEvent } from '../../../protocols/event/schema.ts';
import {
  parseSyslog,
  type SyslogEventContext,
  type SyslogMessage,
  syslogErrorToEvent,
  syslogToEvent,
} from '../../../protocols/syslog/index.ts';

const RECEIVED = new Date('2024-06-01T12:00:00.250Z');
const CTX: SyslogEventContext = {
  received: RECEIVED,
  peer: { ip: '10.0.0.7', port: 51514 },
  transport: 'udp',
};

function parse(input: string | Uint8Array): SyslogMessage {
  const r = parseSyslog(input, { now: RECEIVED });
  assert.ok(r.ok, JSON.stringify(r));
  return r.message;
}

/** What the queue does: give the pending event its identity, then validate it. */
function commit(pending: PendingEvent, seq = 1) {
  const result = parseEvent({ ...pending, v: 1, gateway: 'gw-1', seq, id: `gw-1:${seq}` });
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.event;
}

describe('syslogToEvent', () => {
  test('RFC 5424 message: every field of the mapping', () => {
    const m = parse(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut="3"] An application event',
    );
    const event = syslogToEvent(m, CTX);
    assert.deepEqual(event, {
      ts: '2003-10-11T22:14:15.003Z',
      received: '2024-06-01T12:00:00.250Z',
      time_source: 'device',
      source: 'syslog',
      kind: 'telemetry',
      action: 'syslog.message',
      severity: 5,
      message: 'An application event',
      host: 'mymachine.example.com',
      device: { id: 'syslog:mymachine.example.com', protocol_id: 'mymachine.example.com' },
      src: { ip: '10.0.0.7', port: 51514 },
      fields: {
        facility: 20,
        facility_name: 'local4',
        severity_name: 'notice',
        format: 'rfc5424',
        app_name: 'evntslog',
        proc_id: '42',
        msg_id: 'ID47',
        structured_data: [{ id: 'exampleSDID@32473', params: [['iut', '3']] }],
        tag: 'evntslog[42]',
        program: 'evntslog',
        transport: 'udp',
      },
      tags: [],
    });
    commit(event);
  });

  test('RFC 3164 message: nulls are omitted from fields, the PID comes from the tag', () => {
    const event = syslogToEvent(parse('<38>Mar 27 19:06:53 source_server sshd[12750]: session opened'), {
      ...CTX,
      transport: 'tcp',
    });
    assert.deepEqual(event.fields, {
      facility: 4,
      facility_name: 'auth',
      severity_name: 'info',
      format: 'rfc3164',
      proc_id: '12750',
      tag: 'sshd[12750]:',
      program: 'sshd',
      transport: 'tcp',
    });
    assert.equal(event.ts, '2024-03-27T19:06:53.000Z');
    commit(event);
  });

  test('kind is security for auth, authpriv and audit, and for emerg/alert/crit; telemetry otherwise', () => {
    const kind = (pri: number) => syslogToEvent(parse(`<${pri}>Jan  1 00:00:00 h app: x`), CTX).kind;
    assert.equal(kind(4 * 8 + 6), 'security', 'auth.info');
    assert.equal(kind(10 * 8 + 6), 'security', 'authpriv.info');
    assert.equal(kind(13 * 8 + 6), 'security', 'audit.info');
    assert.equal(kind(3 * 8 + 2), 'security', 'daemon.crit');
    assert.equal(kind(3 * 8 + 3), 'telemetry', 'daemon.err');
    assert.equal(kind(16 * 8 + 0), 'security', 'local0.emerg');
    assert.equal(kind(1 * 8 + 7), 'telemetry', 'user.debug');
  });

  test('no device timestamp: ts is the receive time; no hostname: host is the peer address', () => {
    const event = syslogToEvent(parse('This is not really a syslog message'), CTX);
    assert.equal(event.ts, RECEIVED.toISOString());
    assert.equal(event.host, '10.0.0.7');
    assert.deepEqual(event.device, { id: 'syslog:10.0.0.7', protocol_id: '10.0.0.7' });
    assert.equal(event.fields.pri_present, false);
    assert.equal(event.severity, 5);
    commit(event);
  });

  test('from a file: no peer, no host, no device, still a valid event', () => {
    const event = syslogToEvent(parse('<13>kernel: boot'), { received: RECEIVED, transport: 'file' });
    assert.equal(event.host, undefined);
    assert.equal(event.device, undefined);
    assert.equal(event.src, undefined);
    commit(event);
  });

  test('a message over EVENT_LIMITS.MESSAGE_BYTES is cut on a character boundary and tagged', () => {
    const long = `<13>Jan  1 00:00:00 h app: ${'é'.repeat(40_000)}`;
    const r = parseSyslog(long, { now: RECEIVED, maxBytes: 200_000 });
    assert.ok(r.ok);
    const event = syslogToEvent(r.message, CTX);
    assert.deepEqual(event.tags, ['truncated']);
    assert.ok(new TextEncoder().encode(event.message).length <= EVENT_LIMITS.MESSAGE_BYTES);
    assert.equal(event.message, 'é'.repeat(EVENT_LIMITS.MESSAGE_BYTES / 2));
    commit(event);
  });

  test('invalid UTF-8 is tagged', () => {
    const event = syslogToEvent(parse(Uint8Array.from([60, 49, 51, 62, 0xff, 0x41])), CTX);
    assert.deepEqual(event.tags, ['invalid_utf8']);
    commit(event);
  });
});

describe('syslogErrorToEvent', () => {
  test('a rejected input becomes a counted, visible health event with an escaped preview', () => {
    const raw = Uint8Array.from([
      ...new TextEncoder().encode('<13>bad\\'),
      0x01,
      0x0a,
      ...new Uint8Array(400).fill(0x41),
    ]);
    const r = parseSyslog(raw, { now: RECEIVED, maxBytes: 64 });
    assert.ok(!r.ok);
    const event = syslogErrorToEvent(r.error, raw, { ...CTX, transport: 'tcp' });
    assert.equal(event.source, 'syslog');
    assert.equal(event.kind, 'health');
    assert.equal(event.action, 'syslog.parse_error');
    assert.equal(event.severity, 4);
    assert.equal(event.ts, RECEIVED.toISOString());
    assert.deepEqual(event.src, { ip: '10.0.0.7', port: 51514 });
    assert.equal(event.fields.code, 'too_large');
    assert.equal(event.fields.bytes, raw.length);
    assert.equal(event.fields.transport, 'tcp');
    const preview = event.fields.preview as string;
    assert.ok(preview.startsWith('<13>bad\\\\\\x01\\nAAA'), preview.slice(0, 20));
    assert.equal(preview.length, '<13>bad\\\\\\x01\\n'.length + (256 - 10));
    commit(event);
  });

  test('an empty datagram also becomes an event', () => {
    const r = parseSyslog(new Uint8Array(0), { now: RECEIVED });
    assert.ok(!r.ok);
    const event = commit(syslogErrorToEvent(r.error, new Uint8Array(0), CTX));
    assert.equal(event.fields.code, 'empty');
    assert.equal(event.fields.preview, '');
  });
});
