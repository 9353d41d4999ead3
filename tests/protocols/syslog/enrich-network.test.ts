/**
 * What the message parsers make of network devices: netfilter LOG lines (iptables, ufw,
 * nftables), Cisco IOS mnemonics, CEF (the examples of the ArcSight CEF guide, with its escaping
 * rules) and key=value payloads. Fixtures are written here from the vendors' documentation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCef, parseKeyValue } from '../../../protocols/syslog/index.ts';
import { check, PEER } from './enrich-support.ts';

describe('firewalls', () => {
  test('netfilter LOG lines: ufw, iptables, nftables', () => {
    const e = check(
      '<4>Mar  1 11:59:58 gw kernel: [123456.789012] [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.9 DST=10.20.0.5 LEN=44 TOS=0x00 PREC=0x00 TTL=50 ID=54321 PROTO=TCP SPT=40000 DPT=502 WINDOW=1024 RES=0x00 SYN URGP=0',
      'syslog.firewall.drop',
      'security',
      4,
      {
        'rule.name': 'UFW BLOCK',
        'observer.ingress.interface.name': 'eth0',
        'network.transport': 'tcp',
        'tcp.flags': ['SYN'],
        'network.bytes': 44,
      },
      '203.0.113.9:40000',
    );
    assert.deepEqual(e.dst, { ip: '10.20.0.5', port: 502 });
    check(
      '<6>Mar  1 11:59:58 gw kernel: nft-accept-modbus: IN=eth1 OUT=eth0 SRC=10.20.0.7 DST=10.30.0.2 LEN=64 PROTO=TCP SPT=50000 DPT=502 SYN',
      'syslog.firewall.accept',
      'telemetry',
      6,
      { 'rule.name': 'nft-accept-modbus', 'observer.egress.interface.name': 'eth0' },
    );
    check(
      '<4>Mar  1 11:59:58 gw kernel: IPTABLES-IN: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1',
      'syslog.firewall.log',
      'telemetry',
      4,
      { 'network.transport': 'icmp', 'icmp.type': 8 },
    );
  });
});

describe('Cisco IOS', () => {
  const host = '<189>45: plant-sw1: *Mar  1 11:59:58.123: ';
  test('logins, configuration, commands, ACL hits, links', () => {
    check(
      `${host}%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 10.20.0.66] [localport: 22] [Reason: Login Authentication Failed] at 11:59:58 UTC Sun Mar 1 2026`,
      'syslog.cisco.auth_failure',
      'security',
      4,
      {
        'user.name': 'admin',
        'destination.port': 22,
        'cisco.mnemonic': 'LOGIN_FAILED',
        'event.reason': 'Login Authentication Failed',
      },
      '10.20.0.66:',
    );
    check(
      `${host}%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: netops] [Source: 10.20.0.7] [localport: 22] at 11:59:58 UTC Sun Mar 1 2026`,
      'syslog.cisco.auth_success',
      'security',
      5,
      { 'user.name': 'netops', 'event.outcome': 'success' },
    );
    check(
      `${host}%SYS-5-CONFIG_I: Configured from console by netops on vty0 (10.20.0.7)`,
      'syslog.cisco.config_change',
      'security',
      5,
      {
        'user.name': 'netops',
        'cisco.config_source': 'console',
        'cisco.line': 'vty0',
        'cisco.facility': 'SYS',
        'cisco.severity': 5,
      },
    );
    check(
      `${host}%PARSER-5-CFGLOG_LOGGEDCMD: User:netops  logged command:no logging host 10.20.0.2`,
      'syslog.cisco.config_command',
      'security',
      5,
      {
        'process.command_line': 'no logging host 10.20.0.2',
      },
    );
    check(
      `${host}%SEC-6-IPACCESSLOGP: list 101 denied tcp 203.0.113.9(40000) -> 10.20.0.5(502), 1 packet`,
      'syslog.firewall.drop',
      'security',
      5,
      { 'rule.name': '101', 'network.packets': 1 },
      '203.0.113.9:40000',
    );
    check(
      `${host}%LINK-3-UPDOWN: Interface GigabitEthernet0/7, changed state to down`,
      'syslog.cisco.link_state',
      'telemetry',
      5,
      {
        'observer.interface.name': 'GigabitEthernet0/7',
        'cisco.state': 'down',
      },
    );
    const other = check(
      `${host}%SYS-6-LOGGINGHOST_STARTSTOP: Logging to host 10.1.2.2 port 514 started`,
      'syslog.message',
      'telemetry',
      5,
      {
        'cisco.mnemonic': 'LOGGINGHOST_STARTSTOP',
      },
    );
    assert.equal(other.src?.ip, PEER.ip, 'no peer named: src stays the sender');
  });
});

describe('CEF', () => {
  // Examples of the ArcSight CEF guide (rev. 25), "Character Encoding" and "Examples".
  test('the guide’s header and extension escaping examples', () => {
    const pipe = parseCef(
      'CEF:0|security|threatmanager|1.0|100|detected a \\| in message|10|src=10.0.0.1 act=blocked a | dst=1.1.1.1',
    );
    assert.ok(pipe.ok);
    assert.equal(pipe.cef.name, 'detected a | in message');
    assert.deepEqual(pipe.cef.extensions, { src: '10.0.0.1', act: 'blocked a |', dst: '1.1.1.1' });
    const backslash = parseCef(
      'CEF:0|security|threatmanager|1.0|100|detected a \\\\ in packet|10|src=10.0.0.1 act=blocked a \\\\ dst=1.1.1.1',
    );
    assert.ok(backslash.ok);
    assert.equal(backslash.cef.name, 'detected a \\ in packet');
    assert.equal(backslash.cef.extensions.act, 'blocked a \\');
    const equals = parseCef(
      'CEF:0|security|threatmanager|1.0|100|detected a = in message|10|src=10.0.0.1 act=blocked a \\= dst=1.1.1.1',
    );
    assert.ok(equals.ok);
    assert.equal(equals.cef.extensions.act, 'blocked a =');
    const lines = parseCef(
      'CEF:0|ArcSight|ArcSight|2.4.1|machine:20|New alert|Low|msg=line one\\nline two cs1Label=zone cs1=OT cell 4',
    );
    assert.ok(lines.ok);
    assert.deepEqual(lines.cef.extensions, { msg: 'line one\nline two', cs1Label: 'zone', cs1: 'OT cell 4' });
    assert.deepEqual(parseCef('CEF:0|a|b|c'), { ok: false, error: 'CEF header has 4 of 8 fields' });
  });
  test('CEF in syslog becomes syslog.cef with ECS fields', () => {
    const e = check(
      '<134>Mar  1 11:59:58 ids-1 CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 suser=alice proto=TCP',
      'syslog.cef',
      'security',
      2,
      {
        'cef.device_vendor': 'Security',
        'cef.signature_id': '100',
        'cef.name': 'worm successfully stopped',
        'cef.severity': '10',
        'user.name': 'alice',
        'network.transport': 'TCP',
      },
      '10.0.0.1:1232',
    );
    assert.deepEqual(e.dst, { ip: '2.1.2.2' });
    check(
      '<134>1 2026-03-01T11:59:58Z ids-1 nids - - - CEF:1|Vendor|OT-IDS|2.0|m:7|Modbus write|Medium|src=10.0.0.9',
      'syslog.cef',
      'security',
      4,
      {
        'cef.version': 1,
      },
    );
    // rsyslog relays an RFC 3164 `CEF:0|...` line as APP-NAME `CEF` and MSG ` 0|...` in RFC 5424.
    check(
      '<132>1 2026-03-01T11:59:58Z ids-1 CEF - - -  0|Vendor|OT-IDS|2.0|m:7|Modbus write|High|dpt=502',
      'syslog.cef',
      'security',
      3,
      {
        'cef.device_product': 'OT-IDS',
      },
    );
    check('<134>1 2026-03-01T11:59:58Z ids-1 CEF - - - zero|not|cef', 'syslog.message', 'telemetry', 6, {});
  });
  test('a broken CEF message is kept whole and tagged malformed', () => {
    const e = check(
      '<134>Mar  1 11:59:58 ids-1 CEF:0|Security|threatmanager|1.0',
      'syslog.message',
      'telemetry',
      6,
      {
        'syslog.malformed': 'cef',
      },
    );
    assert.ok(e.tags.includes('malformed'));
    assert.equal(e.message, '0|Security|threatmanager|1.0');
  });
});

describe('key=value', () => {
  test('a FortiGate traffic log (as in nDPI’s syslog.pcap)', () => {
    const e = check(
      '<189>date=2021-12-09 time=16:29:06 devname="FGT-HQ" devid="FGT61E" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.0.0.13 srcport=57381 dstip=10.1.251.51 dstport=8000 proto=6 action="client-rst" policyid=2 service="TCP-8000"',
      'syslog.message',
      'telemetry',
      5,
      {},
      '10.0.0.13:57381',
    );
    const kv = e.fields.kv as Record<string, string>;
    assert.deepEqual([kv.devname, kv.action, kv.service], ['FGT-HQ', 'client-rst', 'TCP-8000']);
    assert.deepEqual(e.dst, { ip: '10.1.251.51', port: 8000 });
  });
  test('free text with an = sign is not key=value', () => {
    assert.equal(parseKeyValue('Temperature limit=60 exceeded on sensor 4 of line 2'), null);
    assert.deepEqual(parseKeyValue('a=1 b="two words" c=\\"x'), { a: '1', b: 'two words', c: '\\"x' });
  });
});
