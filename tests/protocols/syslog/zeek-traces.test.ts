/**
 * Zeek's syslog test traces through our whole receive path: pcap reader, packet decoder, TCP
 * reassembly, RFC 6587 deframer, parser. The result is compared with Zeek's own syslog.log
 * baselines (facility, severity, message, addresses) and with tshark's reading of the UDP traces.
 * Zeek's `message` column is the text after the PRI, so it is compared with that text rebuilt
 * from our parsed fields: nothing may be lost, added or moved across a field boundary.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseSyslog, type SyslogMessage } from '../../../protocols/syslog/index.ts';
import { sharedData } from '../../support/env.ts';
import { afterPri, readTsharkCsv, readZeekLog, syslogFrames } from './traces.ts';

const TRACES = [
  { pcap: 'syslog-single-udp.pcap', baseline: 'trace', tshark: 'syslog-single-udp.syslog.csv', count: 1 },
  {
    pcap: 'syslog-missing-pri.pcap',
    baseline: 'missing-pri',
    tshark: 'syslog-missing-pri.syslog.csv',
    count: 1,
  },
  { pcap: 'tcp-syslog.pcap', baseline: 'tcp-framing', count: 4 },
  { pcap: 'tcp-syslog-nontransparent.pcap', baseline: 'tcp-framing-nontransparent', count: 2 },
] as const;

/**
 * Deliberate differences from Zeek. Zeek logs the datagram's trailing NUL as part of the message;
 * rsyslog and tshark drop it, and so do we: it is something the sender appends, like a LF.
 */
const ZEEK_EXCEPTIONS = [
  { pcap: 'syslog-single-udp.pcap', reason: 'trailing NUL is not message text', strip: /\0$/ },
];

/** Zeek's facility/severity names are rsyslog's in capitals; no PRI is UNSPECIFIED. */
function zeekNames(m: SyslogMessage): [string, string] {
  if (!m.priPresent) return ['UNSPECIFIED', 'UNSPECIFIED'];
  const facilities =
    'KERN USER MAIL DAEMON AUTH SYSLOG LPR NEWS UUCP CRON AUTHPRIV FTP NTP AUDIT ALERT CLOCK LOCAL0 LOCAL1 LOCAL2 LOCAL3 LOCAL4 LOCAL5 LOCAL6 LOCAL7';
  const severities = 'EMERG ALERT CRIT ERR WARNING NOTICE INFO DEBUG';
  return [facilities.split(' ')[m.facility]!, severities.split(' ')[m.severity]!];
}

for (const trace of TRACES) {
  test(`Zeek trace ${trace.pcap}`, (t) => {
    const pcap = sharedData(t, 'syslog', 'zeek', trace.pcap);
    const log = sharedData(t, 'syslog', 'zeek', 'expected', trace.baseline, 'syslog.log');
    if (!pcap || !log) return;
    const { frames, errors } = syslogFrames(pcap);
    assert.deepEqual(errors, [], 'no framing errors');
    const expected = readZeekLog(log);
    assert.equal(expected.length, trace.count, 'baseline row count');
    assert.equal(frames.length, expected.length, 'one message per baseline row');

    frames.forEach((frame, i) => {
      const row = expected[i]!;
      const parsed = parseSyslog(frame.bytes, { now: frame.ts ?? new Date() });
      assert.ok(parsed.ok, JSON.stringify(parsed));
      const m = parsed.message;
      assert.deepEqual(
        [frame.proto, frame.src, String(frame.srcPort), frame.dst, String(frame.dstPort)],
        [row.proto, row['id.orig_h'], row['id.orig_p'], row['id.resp_h'], row['id.resp_p']],
      );
      assert.deepEqual(zeekNames(m), [row.facility, row.severity], `facility/severity of row ${i + 1}`);
      let message = row.message!;
      for (const ex of ZEEK_EXCEPTIONS.filter((e) => e.pcap === trace.pcap)) {
        const before = message;
        message = message.replace(ex.strip, '');
        assert.notEqual(message, before, `exception no longer needed: ${ex.reason}`);
      }
      assert.equal(afterPri(m), message, `message of row ${i + 1}`);
      if (m.timestampText) assert.ok(message.startsWith(m.timestampText));
    });
  });
}

for (const trace of TRACES) {
  if (!('tshark' in trace)) continue;
  test(`tshark reading of ${trace.pcap}`, (t) => {
    const pcap = sharedData(t, 'syslog', 'zeek', trace.pcap);
    const csv = sharedData(t, 'syslog', 'zeek', 'expected-tshark', trace.tshark);
    if (!pcap || !csv) return;
    const rows = readTsharkCsv(csv);
    const { frames } = syslogFrames(pcap);
    assert.equal(frames.length, rows.length);
    rows.forEach((row, i) => {
      const frame = frames[i]!;
      assert.equal(String(frame.frame), row['frame.number']);
      assert.deepEqual([frame.src, String(frame.srcPort)], [row['ip.src'], row['udp.srcport']]);
      const parsed = parseSyslog(frame.bytes, { now: frame.ts ?? new Date() });
      assert.ok(parsed.ok);
      const m = parsed.message;
      // tshark leaves facility and level empty when there is no PRI.
      const facility = m.priPresent ? String(m.facility) : '';
      const level = m.priPresent ? String(m.severity) : '';
      assert.deepEqual([facility, level], [row['syslog.facility'], row['syslog.level']]);
      assert.equal(afterPri(m), row['syslog.msg']);
    });
  });
}

test('the traces hold what the data README promises', (t) => {
  const dir = sharedData(t, 'syslog', 'zeek');
  if (!dir) return;
  const tcp = syslogFrames(path.join(dir, 'tcp-syslog.pcap')).frames;
  // Octet-counted and LF-framed messages alternate on the same connection.
  assert.deepEqual(
    tcp.map((f) => new TextDecoder().decode(f.bytes).slice(0, 4)),
    ['<13>', '<14>', '<15>', '<16>'],
  );
});
