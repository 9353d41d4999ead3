/**
 * The message parsers on third-party logs nobody here wrote: loghub's Linux_2k.log (2,000 real
 * /var/log/messages lines with sshd, su, login and gdm PAM messages), checked line by line
 * against loghub's structured CSV (its EventTemplate says what each line is), with no false
 * positive on the other lines; and nDPI's syslog.pcap (real Cisco IOS routers in plain and XML
 * form, a FortiGate key=value log).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseSyslog, syslogToEvent } from '../../../protocols/syslog/index.ts';
import { parseCsv } from '../../support/csv.ts';
import { sharedData } from '../../support/env.ts';
import { syslogFrames } from './traces.ts';

const isIp = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);

test('loghub Linux_2k.log: PAM lines get their action and fields, other lines stay syslog.message', (t) => {
  const logFile = sharedData(t, 'syslog', 'loghub', 'Linux_2k.log');
  const csvFile = sharedData(t, 'syslog', 'loghub', 'Linux_2k.log_structured.csv');
  if (!logFile || !csvFile) return;
  const lines = readFileSync(logFile, 'utf8').split('\n').slice(0, 2000);
  const rows = parseCsv(readFileSync(csvFile, 'utf8'));
  const now = new Date('2005-08-01T00:00:00Z');
  const counts = new Map<string, number>();
  lines.forEach((line, i) => {
    const row = rows[i]!;
    const where = `line ${i + 1}: ${line}`;
    const parsed = parseSyslog(line, { now });
    assert.ok(parsed.ok, where);
    const e = syslogToEvent(parsed.message, { received: now, transport: 'file' });
    counts.set(e.action, (counts.get(e.action) ?? 0) + 1);
    const pam = /^(\w+)\(pam_unix\)$/.exec(row.Component!);
    const template = row.EventTemplate!;
    if (!pam) {
      assert.equal(e.action, 'syslog.message', where);
      return;
    }
    const service = pam[1]!;
    const content = row.Content!;
    if (template.startsWith('authentication failure')) {
      assert.equal(e.action, `syslog.${service}.auth_failure`, where);
      assert.equal(e.kind, 'security');
      assert.equal(e.severity, 4);
      const rhost = /rhost=(\S*)/.exec(content)![1]!;
      if (rhost && isIp(rhost)) assert.equal(e.src?.ip, rhost, where);
      else if (rhost) assert.equal(e.fields['source.domain'], rhost, where);
      assert.equal(e.fields['user.name'], /user=(\S+)/.exec(content)?.[1], where);
    } else if (template === 'check pass; user unknown') {
      assert.equal(e.action, `syslog.${service}.user_unknown`, where);
    } else {
      const session = /^session (opened|closed) for user (\S+)/.exec(content);
      assert.ok(session, `unexpected PAM template ${template}`);
      assert.equal(e.action, `syslog.${service}.session_${session[1]}`, where);
      assert.equal(e.fields['user.name'], session[2], where);
    }
  });
  assert.deepEqual(Object.fromEntries([...counts].sort()), {
    'syslog.gdm.auth_failure': 1,
    'syslog.gdm.user_unknown': 1,
    'syslog.login.session_closed': 1,
    'syslog.login.session_opened': 1,
    'syslog.message': 2000 - 489 - 116 - 72 - 172 - 4,
    'syslog.sshd.auth_failure': 489,
    'syslog.sshd.session_closed': 36,
    'syslog.sshd.session_opened': 36,
    'syslog.sshd.user_unknown': 116,
    'syslog.su.session_closed': 86,
    'syslog.su.session_opened': 86,
  });
});

test('nDPI syslog.pcap: Cisco IOS configuration changes and link changes, a FortiGate key=value log', (t) => {
  const pcap = sharedData(t, 'ndpi', 'syslog.pcap');
  if (!pcap) return;
  const { frames } = syslogFrames(pcap);
  const events = frames.flatMap((f) => {
    const parsed = parseSyslog(f.bytes, { now: f.ts ?? new Date() });
    const received = f.ts ?? new Date();
    return parsed.ok
      ? [
          syslogToEvent(parsed.message, {
            received,
            peer: { ip: f.src, port: f.srcPort },
            transport: f.proto,
          }),
        ]
      : [];
  });
  const config = events.filter((e) => e.action === 'syslog.cisco.config_change');
  // Four plain `%SYS-5-CONFIG_I: Configured from console by console` and four in XML form.
  assert.equal(config.length, 8);
  for (const e of config) {
    assert.deepEqual(
      [e.fields['user.name'], e.fields['cisco.config_source'], e.kind],
      ['console', 'console', 'security'],
    );
  }
  const links = events.filter((e) => e.action === 'syslog.cisco.link_state');
  assert.deepEqual(
    links.map((e) => `${e.fields['observer.interface.name']} ${e.fields['cisco.state']}`).sort(),
    [
      'Ethernet0/2 up',
      'Ethernet0/2 up',
      'Ethernet0/3 up',
      'Ethernet0/3 up',
      'GigabitEthernet0/2 down',
      'GigabitEthernet0/2 up',
      'GigabitEthernet0/2 up',
      'Loopback1 up',
      'Loopback2 up',
    ],
  );
  const mnemonics = new Set(events.map((e) => e.fields['cisco.mnemonic']).filter(Boolean));
  assert.ok(mnemonics.has('LOGGINGHOST_STARTSTOP'));
  const forti = events.filter(
    (e) => (e.fields.kv as Record<string, string> | undefined)?.devname === 'ATMFLJQABIL-UT-83',
  );
  assert.equal(forti.length, 1);
  assert.deepEqual(
    [forti[0]!.src, forti[0]!.dst],
    [
      { ip: '10.0.0.13', port: 57381 },
      { ip: '10.1.251.51', port: 8000 },
    ],
  );
});
