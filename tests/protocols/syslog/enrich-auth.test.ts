/**
 * What the message parsers make of logins and privilege changes on Linux hosts: OpenSSH,
 * pam_unix (both shapes), su (util-linux and shadow), sudo and the shadow-utils account tools.
 * Fixtures are written here from the programs' own format strings.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { check } from './enrich-support.ts';

describe('sshd', () => {
  test('auth success and failure, invalid users, repeats', () => {
    const ok = check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: Accepted publickey for operator from 10.20.0.7 port 51514 ssh2: ED25519 SHA256:Jq1x0y',
      'syslog.sshd.auth_success',
      'security',
      6,
      {
        'user.name': 'operator',
        'auth.method': 'publickey',
        'event.outcome': 'success',
        'ssh.key': 'ED25519 SHA256:Jq1x0y',
      },
      '10.20.0.7:51514',
    );
    assert.deepEqual([ok.fields['log.source.ip'], ok.fields['log.source.port']], ['192.0.2.50', 41000]);
    check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: Failed password for root from 203.0.113.9 port 50122 ssh2',
      'syslog.sshd.auth_failure',
      'security',
      4,
      { 'user.name': 'root', 'auth.method': 'password', 'event.outcome': 'failure' },
      '203.0.113.9:50122',
    );
    check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: Failed password for invalid user admin from 2001:db8::9 port 4242 ssh2',
      'syslog.sshd.auth_failure',
      'security',
      4,
      { 'user.name': 'admin', invalid_user: true },
      '2001:db8::9:4242',
    );
    check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: Invalid user plc from 203.0.113.9 port 50100',
      'syslog.sshd.invalid_user',
      'security',
      4,
      { 'user.name': 'plc', invalid_user: true },
      '203.0.113.9:50100',
    );
    check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: message repeated 5 times: [ Failed password for root from 203.0.113.9 port 50122 ssh2]',
      'syslog.sshd.auth_failure',
      'security',
      4,
      { 'event.count': 5 },
    );
  });
  test('disconnects', () => {
    check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: Received disconnect from 203.0.113.9 port 50122:11: Bye Bye [preauth]',
      'syslog.sshd.disconnect',
      'security',
      6,
      { 'ssh.disconnect_code': 11, 'ssh.disconnect_reason': 'Bye Bye' },
      '203.0.113.9:50122',
    );
    check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: Disconnected from authenticating user root 203.0.113.9 port 50122 [preauth]',
      'syslog.sshd.disconnect',
      'security',
      6,
      { 'user.name': 'root', 'ssh.auth_state': 'authenticating' },
    );
    check(
      '<86>Mar  1 11:59:58 hmi-1 sshd[2201]: Connection closed by invalid user ubnt 203.0.113.9 port 39000 [preauth]',
      'syslog.sshd.disconnect',
      'security',
      6,
      { 'user.name': 'ubnt', invalid_user: true },
    );
  });
});

describe('PAM, su, sudo', () => {
  test('pam_unix in its modern and old shapes', () => {
    check(
      '<85>Mar  1 11:59:58 hmi-1 sshd[2201]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root',
      'syslog.sshd.auth_failure',
      'security',
      4,
      { 'user.name': 'root', 'pam.service': 'sshd', 'pam.type': 'auth', tty: 'ssh' },
      '203.0.113.9:',
    );
    check(
      'Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root',
      'syslog.sshd.auth_failure',
      'security',
      4,
      { 'user.name': 'root', 'source.domain': '220-135-151-1.hinet-ip.hinet.net' },
    );
    check(
      '<86>Mar  1 11:59:58 hmi-1 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)',
      'syslog.sudo.session_opened',
      'security',
      6,
      { 'user.name': 'root', 'user.id': '0', 'process.user.name': 'alice', 'process.user.id': '1000' },
    );
    check(
      '<86>Mar  1 11:59:58 plc-gw cron[88]: pam_unix(cron:session): session closed for user root',
      'syslog.cron.session_closed',
      'security',
      6,
      { 'user.name': 'root' },
    );
    check(
      '<86>Mar  1 11:59:58 plc-gw passwd[90]: pam_unix(passwd:chauthtok): password changed for bob',
      'syslog.passwd.password_changed',
      'security',
      5,
      { 'user.target.name': 'bob' },
    );
  });
  test('su: util-linux and shadow', () => {
    check(
      '<37>Mar  1 11:59:58 hmi-1 su[3001]: (to root) alice on pts/1',
      'syslog.su.success',
      'security',
      5,
      {
        'user.name': 'alice',
        'user.target.name': 'root',
        tty: 'pts/1',
      },
    );
    check(
      '<34>Mar  1 11:59:58 hmi-1 su[3001]: FAILED SU (to root) mallory on pts/2',
      'syslog.su.failure',
      'security',
      2,
      {
        'user.name': 'mallory',
        'event.outcome': 'failure',
      },
    );
    check(
      '<37>Mar  1 11:59:58 hmi-1 su[3001]: FAILED su for root by mallory',
      'syslog.su.failure',
      'security',
      4,
      {
        'user.target.name': 'root',
      },
    );
    check('<37>Mar  1 11:59:58 hmi-1 su[3001]: + pts/1 alice:root', 'syslog.su.success', 'security', 5, {
      'user.name': 'alice',
      'user.target.name': 'root',
    });
  });
  test('sudo commands and refusals', () => {
    check(
      '<85>Mar  1 11:59:58 hmi-1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl stop plc-bridge',
      'syslog.sudo.command',
      'security',
      5,
      {
        'user.name': 'alice',
        'user.target.name': 'root',
        'process.command_line': '/usr/bin/systemctl stop plc-bridge',
        'process.working_directory': '/home/alice',
        'event.outcome': 'success',
      },
    );
    check(
      '<81>Mar  1 11:59:58 hmi-1 sudo: mallory : 3 incorrect password attempts ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash',
      'syslog.sudo.auth_failure',
      'security',
      1,
      { 'sudo.reason': '3 incorrect password attempts' },
    );
    check(
      '<85>Mar  1 11:59:58 hmi-1 sudo: mallory : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh',
      'syslog.sudo.not_allowed',
      'security',
      3,
      { 'user.name': 'mallory' },
    );
  });
  test('account management', () => {
    check(
      '<86>Mar  1 11:59:58 hmi-1 useradd[4100]: new user: name=svc_ot, UID=1002, GID=1002, home=/home/svc_ot, shell=/bin/bash, from=/dev/pts/0',
      'syslog.useradd.user_created',
      'security',
      5,
      {
        'user.target.name': 'svc_ot',
        'user.target.id': '1002',
        'user.target.shell': '/bin/bash',
        tty: '/dev/pts/0',
      },
    );
    check(
      '<86>Mar  1 11:59:58 hmi-1 groupadd[4101]: group added to /etc/group: name=ot, GID=1003',
      'syslog.groupadd.group_created',
      'security',
      5,
      {
        'group.name': 'ot',
        'group.id': '1003',
      },
    );
    check(
      "<86>Mar  1 11:59:58 hmi-1 usermod[4102]: add 'svc_ot' to group 'sudo'",
      'syslog.usermod.group_member_added',
      'security',
      5,
      {
        'user.target.name': 'svc_ot',
        'group.name': 'sudo',
      },
    );
    check(
      "<86>Mar  1 11:59:58 hmi-1 userdel[4103]: delete user 'svc_ot'",
      'syslog.userdel.user_deleted',
      'security',
      5,
      {
        'user.target.name': 'svc_ot',
      },
    );
    check(
      "<86>Mar  1 11:59:58 hmi-1 passwd[4104]: password for 'svc_ot' changed by 'root'",
      'syslog.passwd.password_changed',
      'security',
      5,
      {
        'user.target.name': 'svc_ot',
        'user.name': 'root',
      },
    );
  });
});
