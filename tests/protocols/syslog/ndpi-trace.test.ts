/**
 * nDPI's syslog.pcap: 83 syslog datagrams from real devices (ADSL boxes, a storage array, Cisco
 * IOS routers, a NetScreen, snmpd, an iPhone, Fortigate, pfSense/Suricata over RFC 5424, Linux
 * rsyslog), some over PPPoE or 6in4 tunnels. Compared with tshark's reading of each frame:
 * facility and level exactly, and the text after the PRI: rebuilt exactly from our fields for
 * plain RFC 3164 messages, and for the others every parsed field found in order, MSG at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSyslog, type SyslogMessage } from '../../../protocols/syslog/index.ts';
import { sharedData } from '../../support/env.ts';
import { afterPri, readTsharkCsv, syslogFrames } from './traces.ts';

/** The parsed header fields appear in `text` in the order of the message's format, and MSG ends it. */
function assertInOrder(text: string, m: SyslogMessage) {
  const isCisco = m.structuredData.some((sd) => sd.id === 'meta');
  const order =
    m.format === 'rfc5424'
      ? [m.timestampText, m.hostname, m.appName, m.procId, m.msgId]
      : isCisco
        ? [m.hostname, m.timestampText, m.tag]
        : [m.timestampText, m.hostname, m.tag];
  let at = 0;
  for (const part of order) {
    if (part === null) continue;
    const found = text.indexOf(part, at);
    assert.ok(found >= at, `"${part}" not found after offset ${at} in ${JSON.stringify(text)}`);
    at = found + part.length;
  }
  assert.ok(text.endsWith(m.msg), `MSG ${JSON.stringify(m.msg)} does not end ${JSON.stringify(text)}`);
  assert.ok(text.length - m.msg.length >= at, 'MSG overlaps a header field');
}

test('nDPI syslog.pcap matches tshark frame by frame', (t) => {
  const pcap = sharedData(t, 'ndpi', 'syslog.pcap');
  const csv = sharedData(t, 'ndpi', 'expected-tshark', 'syslog.syslog.csv');
  if (!pcap || !csv) return;
  const rows = readTsharkCsv(csv);
  assert.equal(rows.length, 83);
  const frames = new Map(
    syslogFrames(pcap)
      .frames.filter((f) => f.frame !== undefined)
      .map((f) => [String(f.frame), f]),
  );
  let exact = 0;
  let cisco = 0;
  for (const row of rows) {
    const n = row['frame.number']!;
    const frame = frames.get(n);
    assert.ok(frame, `frame ${n} decoded to a UDP datagram`);
    const parsed = parseSyslog(frame.bytes, { now: frame.ts ?? new Date() });
    assert.ok(parsed.ok, `frame ${n}: ${JSON.stringify(parsed)}`);
    const m = parsed.message;
    const facility = m.priPresent ? String(m.facility) : '';
    const level = m.priPresent ? String(m.severity) : '';
    assert.deepEqual([facility, level], [row['syslog.facility'], row['syslog.level']], `frame ${n} PRI`);
    // tshark keeps the trailer the sender appended; it is framing, not message (see SPEC.md).
    const text = row['syslog.msg']!.replace(/[\n\r\0]+$/, '');
    if (m.format === 'rfc3164' && m.structuredData.length === 0 && !text.startsWith(' ')) {
      assert.equal(afterPri(m), text, `frame ${n}`);
      exact++;
    } else {
      assertInOrder(text, m);
    }
    if (/^\d+: (?:\w+: )?[*.]?\w{3} .*?: %\w+-\d-\w+:/.test(text)) {
      assert.ok(m.timestamp, `frame ${n}: Cisco timestamp`);
      assert.match(m.tag ?? '', /^%\w+-\d-\w+:$/, `frame ${n}: Cisco mnemonic`);
      cisco++;
    }
  }
  assert.ok(exact >= 60, `${exact} frames rebuilt exactly`);
  assert.equal(cisco, 12, 'Cisco IOS messages recognised');
});
