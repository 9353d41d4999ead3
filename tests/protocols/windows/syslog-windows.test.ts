/**
 * Windows events as they reach the gateway's syslog listeners, through the real syslog codec and
 * syslogToEvent: Snare `MSWinEventLog` lines (rsyslog's own test samples, tabs as sent and as
 * rsyslog escapes them, `#011`), a modern Snare 4625, NXLog JSON and key=value, and Windows Event
 * XML as WEF relays it (a real record of the EVTX samples' XML). Each becomes a `windows` event
 * with its action and the fields the rules read; other syslog messages are left alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseEvent, type PendingEvent } from '../../../protocols/event/schema.ts';
import { parseSyslog, syslogToEvent } from '../../../protocols/syslog/index.ts';
import { sharedData } from '../../support/env.ts';

const NOW = new Date('2026-11-21T10:00:00Z');

function event(line: string): PendingEvent {
  const p = parseSyslog(line, { now: NOW });
  assert.ok(p.ok, `parses: ${line.slice(0, 80)}`);
  const e = syslogToEvent(p.message, {
    received: NOW,
    transport: 'udp',
    peer: { ip: '10.0.0.9', port: 514 },
  });
  const valid = parseEvent({ v: 1, id: 'gw:1', gateway: 'gw', seq: 1, ...e });
  assert.ok(valid.ok, valid.ok ? '' : valid.error);
  return e;
}

describe('Snare MSWinEventLog', () => {
  test("rsyslog's Snare samples (Windows 2003 ids, tabs and #011)", (t) => {
    const file = sharedData(t, 'syslog', 'rsyslog-parse1', 'snare.parse1');
    if (!file) return;
    const inputs = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('MSWinEventLog\\011'))
      .filter((l) => !/^\d+,/.test(l))
      .map((l) => l.replace(/\\011/g, '\t'));
    assert.ok(inputs.length >= 3);
    const events = inputs.map(event);
    for (const e of events) {
      assert.equal(e.source, 'windows');
      assert.equal(e.fields['winlog.format'], 'snare');
      assert.equal(e.fields['winlog.channel'], 'Security');
    }
    const logon = events.find((e) => e.fields['winlog.event_id'] === 540)!;
    assert.equal(logon.action, 'windows.logon_success');
    assert.equal(logon.fields['user.target.name'], 'BACKUP1$');
    assert.equal(logon.fields['winlog.logon.type'], 3);
    assert.deepEqual(logon.src, { ip: '172.16.0.31', port: 0 });
    assert.equal(logon.host, 'ZUSE');
    const logoff = events.find((e) => e.fields['winlog.event_id'] === 538)!;
    assert.equal(logoff.action, 'windows.logoff');
    // As rsyslog forwards it, with control characters escaped
    const escaped = event(inputs[0]!.replace(/\t/g, '#011'));
    assert.equal(escaped.source, 'windows');
    assert.equal(escaped.fields['winlog.event_id'], events[0]!.fields['winlog.event_id']);
  });

  test('a Windows 2008+ failed logon: subject and target accounts read by section', () => {
    const e = event(
      '<13>Nov 21 10:00:03 ews-1 MSWinEventLog\t1\tSecurity\t10\tSat Nov 21 10:00:03 2026\t4625\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tFailure Audit\tEWS-1\tLogon\t\tAn account failed to log on.    Subject:   Security ID:  S-1-5-18   Account Name:  EWS-1$   Account Domain:  PLANT   Logon ID:  0x3e7    Logon Type:   10    Account For Which Logon Failed:   Security ID:  S-1-0-0   Account Name:  engineer   Account Domain:  EWS-1    Failure Information:   Failure Reason:  Unknown user name or bad password.   Status:   0xC000006D   Sub Status:  0xC000006A    Process Information:   Caller Process Name: C:\\Windows\\System32\\winlogon.exe    Network Information:   Workstation Name: KALI   Source Network Address: 10.0.9.66   Source Port:  51234\t42',
    );
    assert.equal(e.action, 'windows.logon_failed');
    assert.equal(e.fields['event.outcome'], 'failure');
    assert.equal(e.fields['user.name'], 'EWS-1$');
    assert.equal(e.fields['user.target.name'], 'engineer');
    assert.equal(e.fields['winlog.logon.type'], 10);
    assert.equal(e.fields['winlog.logon.failure.sub_status'], '0xC000006A');
    assert.equal(e.fields['source.domain'], 'KALI');
    assert.deepEqual(e.src, { ip: '10.0.9.66', port: 51234 });
  });
});

describe('NXLog', () => {
  test('JSON (to_json) after an RFC 3164 header and in RFC 5424', () => {
    const body =
      '{"EventTime":"2026-11-21T09:59:58.000000+00:00","Hostname":"HMI-1","EventType":"AUDIT_SUCCESS","EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","RecordNumber":991,"SubjectUserName":"operator","NewProcessName":"C:\\\\Windows\\\\System32\\\\cmd.exe","CommandLine":"cmd.exe /c whoami","ParentProcessName":"C:\\\\Windows\\\\explorer.exe","Message":"A new process has been created."}';
    for (const line of [
      `<13>Nov 21 10:00:00 relay ${body}`,
      `<13>1 2026-11-21T10:00:00Z relay nxlog - - - ${body}`,
    ]) {
      const e = event(line);
      assert.equal(e.action, 'windows.process_created');
      assert.equal(e.ts, '2026-11-21T09:59:58.000Z');
      assert.equal(e.fields['process.executable'], 'C:\\Windows\\System32\\cmd.exe');
      assert.equal(e.fields['process.command_line'], 'cmd.exe /c whoami');
      assert.equal(e.fields['process.parent.executable'], 'C:\\Windows\\explorer.exe');
      assert.equal(e.fields['winlog.record_id'], 991);
      assert.equal(e.message.includes('RecordNumber'), true, 'the message stays what was sent');
    }
  });

  test('key=value (xm_kvp): quoted values with spaces, a 7045 service', () => {
    const e = event(
      '<13>Nov 21 10:00:00 relay EventTime="2026-11-21 10:00:00" Hostname=HMI-2 EventID=7045 SourceName="Service Control Manager" Channel=System ServiceName=PSEXESVC ImagePath="%SystemRoot%\\PSEXESVC.exe" StartType="demand start" AccountName=LocalSystem',
    );
    assert.equal(e.action, 'windows.service_installed');
    assert.equal(e.host, 'HMI-2');
    assert.equal(e.fields['service.name'], 'PSEXESVC');
    assert.equal(e.fields['service.image_path'], '%SystemRoot%\\PSEXESVC.exe');
    assert.equal(e.fields['service.account'], 'LocalSystem');
  });
});

describe('Windows Event XML (WEF over syslog)', () => {
  test('a real 4698 record forwarded as one syslog message', (t) => {
    const file = sharedData(
      t,
      'windows',
      'expected-xml',
      'evtx-attack-samples',
      'Lateral_Movement',
      'LM_ScheduledTask_ATSVC_target_host.xml',
    );
    if (!file) return;
    const xml = readFileSync(file, 'utf8')
      .split(/(?=<Event xmlns)/)
      .find((x) => x.includes('<EventID Qualifiers="">4698</EventID>'))!
      .replace(/<\/Events>\s*$/, '')
      .replace(/\n/g, '');
    const e = event(`<13>1 2026-11-21T10:00:00Z wec01 - - - - ${xml}`);
    assert.equal(e.action, 'windows.scheduled_task_created');
    assert.equal(e.fields['task.name'], '\\CYAlyNSS');
    assert.equal(e.fields['user.name'], 'Administrator');
    assert.equal(e.host, 'WIN-77LTAPHIQ1R.example.corp');
    const time = /SystemTime="([^"]+)"/.exec(xml)![1]!; // python-evtx: `2019-03-19 00:02:04.117xxx`
    assert.equal(e.ts, `${time.replace(' ', 'T').slice(0, 23)}Z`);
    assert.equal(e.time_source, 'device');
  });

  test('a DTD or an entity declaration is refused, the message stays syslog', () => {
    const e = event(
      '<13>1 2026-11-21T10:00:00Z wec01 - - - - <Event><!DOCTYPE x [<!ENTITY a "b">]><System><EventID>1</EventID></System></Event>',
    );
    assert.equal(e.source, 'syslog');
    assert.equal(e.action, 'syslog.message');
  });
});

test('other syslog messages are untouched', () => {
  for (const line of [
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8",
    '<13>Nov 21 10:00:00 host MSWinEventLogger started',
    '<13>Nov 21 10:00:00 host {"level":"info","msg":"EventID"}',
    '<13>Nov 21 10:00:00 fw date=2026-11-21 time=10:00:00 devname=fg1 srcip=10.0.0.1 action=deny',
  ]) {
    const e = event(line);
    assert.equal(e.source, 'syslog', line);
  }
});

test('each security event the brief names gets its action (WEF XML over syslog)', () => {
  const xml = (channel: string, provider: string, id: number, data: Record<string, string>) =>
    `<13>1 2026-11-21T10:00:00Z wec01 - - - - <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="${provider}"/><EventID>${id}</EventID><Channel>${channel}</Channel><Computer>HMI-1</Computer></System><EventData>${Object.entries(
      data,
    )
      .map(([k, v]) => `<Data Name="${k}">${v}</Data>`)
      .join('')}</EventData></Event>`;
  const sec = 'Microsoft-Windows-Security-Auditing';
  const sysmon = 'Microsoft-Windows-Sysmon/Operational';
  const cases: Array<[string, string, number, Record<string, string>, string]> = [
    ['Security', sec, 4624, { LogonType: '10' }, 'windows.logon_success'],
    ['Security', sec, 4625, {}, 'windows.logon_failed'],
    ['Security', sec, 4648, {}, 'windows.explicit_credentials'],
    ['Security', sec, 4672, {}, 'windows.special_privileges'],
    ['Security', sec, 4688, {}, 'windows.process_created'],
    ['Security', sec, 4697, { ServiceName: 'x', ServiceFileName: 'C:\\x.exe' }, 'windows.service_installed'],
    ['Security', sec, 4698, {}, 'windows.scheduled_task_created'],
    ['Security', sec, 4720, {}, 'windows.user_created'],
    ['Security', sec, 4732, {}, 'windows.group_member_added'],
    ['Security', sec, 4771, {}, 'windows.kerberos_preauth_failed'],
    ['Security', sec, 4776, { Status: '0x0' }, 'windows.ntlm_auth'],
    ['Security', sec, 4776, { Status: '0xc000006a' }, 'windows.ntlm_auth_failed'],
    ['Security', 'Microsoft-Windows-Eventlog', 1102, {}, 'windows.log_cleared'],
    ['System', 'Microsoft-Windows-Eventlog', 104, {}, 'windows.log_cleared'],
    ['System', 'Service Control Manager', 7045, {}, 'windows.service_installed'],
    [sysmon, 'Microsoft-Windows-Sysmon', 1, {}, 'windows.sysmon.process_created'],
    [sysmon, 'Microsoft-Windows-Sysmon', 3, {}, 'windows.sysmon.network_connection'],
    [sysmon, 'Microsoft-Windows-Sysmon', 10, {}, 'windows.sysmon.process_access'],
    [
      'Microsoft-Windows-PowerShell/Operational',
      'Microsoft-Windows-PowerShell',
      4104,
      {},
      'windows.powershell.script_block',
    ],
    ['Application', 'MsiInstaller', 1033, {}, 'windows.event'],
  ];
  for (const [channel, provider, id, data, action] of cases)
    assert.equal(event(xml(channel, provider, id, data)).action, action, `${channel} ${id}`);
  const svc = event(xml('Security', sec, 4697, { ServiceName: 'evil', ServiceFileName: 'C:\\evil.exe' }));
  assert.deepEqual([svc.fields['service.name'], svc.fields['service.image_path']], ['evil', 'C:\\evil.exe']);
});
