/**
 * SSH brute force then success, as the attacked switch reports it over syslog: six failed
 * passwords from one address, then an accepted one (what sshd logs, RFC 5424 over TCP).
 */
import { sendSyslogTcp, sshBruteForceLines } from '../../firmware-shims/simulators/syslog-switch.ts';
import type { Scenario } from './types.ts';

export const sshBruteForce: Scenario = {
  name: 'ssh-brute-force',
  description: 'six failed SSH logins on the switch from one address, then a successful one',
  expects: ['SSH brute force against a plant host', 'SSH login after a brute force from the same address'],
  async run(t, { log } = {}) {
    // A documentation address (RFC 5737) in the log text, as if from outside the plant.
    const attacker = `203.0.113.${1 + Math.floor(Math.random() * 250)}`;
    log?.(`${attacker} → 6 failed SSH logins on ${t.syslog.hostname}, then "Accepted password"`);
    await sendSyslogTcp(t.syslog, t.syslog.hostname, sshBruteForceLines(attacker));
    return `SSH brute force from ${attacker} on ${t.syslog.hostname}, then a login`;
  },
};
