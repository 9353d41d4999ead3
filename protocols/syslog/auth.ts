/**
 * Logins and privilege changes on Linux hosts (HMIs, engineering workstations, gateways): OpenSSH
 * `sshd` (auth.c `auth_log`: "Accepted/Failed METHOD for [invalid user ]USER from IP port N",
 * "Invalid user", disconnects), `pam_unix` (modules/pam_unix: "authentication failure; logname=
 * ... rhost= user=", "session opened/closed for user", "check pass; user unknown", "password
 * changed"), both in the modern `pam_unix(SERVICE:TYPE): ` form and the older `SERVICE(pam_unix)`
 * program name, `su` (util-linux and shadow forms) and `sudo` (its `USER : TTY=... ; COMMAND=...`
 * line). Each becomes a specific action with ECS-style fields. Pure; anchored regular
 * expressions without nested repetition, so no input makes them slow.
 */
import { compactFields, type Enrichment, type MessageView, peer } from './enrichment.ts';

/** PAM services whose events are named after them (`syslog.sshd.auth_failure`); others: `syslog.pam.*`. */
const PAM_SERVICES = new Set(['sshd', 'su', 'sudo', 'login', 'passwd', 'gdm', 'lightdm', 'cron', 'vsftpd']);

const REPEATED = /^message repeated (\d{1,9}) times: \[ ?(.*?) ?\]$/;

const SSHD_AUTH =
  /^(Accepted|Failed) (\S+) for (invalid user )?(\S*) from (\S+) port (\d+)(?: (\S+))?(?:: (.*))?$/;
const SSHD_INVALID = /^Invalid user (\S*) from (\S+)(?: port (\d+))?/;
const SSHD_RECEIVED_DISCONNECT =
  /^Received disconnect from (\S+?)(?: port (\d+))?:(\d+): (.*?)(?: \[preauth\])?$/;
const SSHD_DISCONNECTED =
  /^(?:Disconnected from|Connection closed by|Connection reset by)(?: (invalid|authenticating) user (\S+)| user (\S+))? (\S+) port (\d+)/;

export function parseSshd(m: MessageView): Enrichment | null {
  if (m.program !== 'sshd') return null;
  let text = m.msg.trim();
  const fields: Record<string, unknown> = {};
  const rep = REPEATED.exec(text);
  if (rep) {
    fields['event.count'] = Number(rep[1]);
    text = rep[2]!;
  }
  if (text.startsWith('pam_unix(')) return parsePam({ ...m, msg: text });
  let r = SSHD_AUTH.exec(text);
  if (r) {
    const ok = r[1] === 'Accepted';
    Object.assign(fields, {
      'user.name': r[4],
      'event.outcome': ok ? 'success' : 'failure',
      'auth.method': r[2],
      'ssh.protocol': r[7],
      'ssh.key': r[8],
      invalid_user: r[3] ? true : undefined,
    });
    const src = peer(r[5], r[6], 'source', fields);
    return {
      action: ok ? 'syslog.sshd.auth_success' : 'syslog.sshd.auth_failure',
      ...(ok ? {} : { severity: 4 }),
      fields: compactFields(fields),
      ...(src ? { src } : {}),
    };
  }
  if ((r = SSHD_INVALID.exec(text))) {
    Object.assign(fields, { 'user.name': r[1], 'event.outcome': 'failure', invalid_user: true });
    const src = peer(r[2], r[3], 'source', fields);
    return {
      action: 'syslog.sshd.invalid_user',
      severity: 4,
      fields: compactFields(fields),
      ...(src ? { src } : {}),
    };
  }
  if ((r = SSHD_RECEIVED_DISCONNECT.exec(text))) {
    Object.assign(fields, { 'ssh.disconnect_code': Number(r[3]), 'ssh.disconnect_reason': r[4] });
    const src = peer(r[1], r[2], 'source', fields);
    return { action: 'syslog.sshd.disconnect', fields: compactFields(fields), ...(src ? { src } : {}) };
  }
  if ((r = SSHD_DISCONNECTED.exec(text))) {
    Object.assign(fields, { 'user.name': r[2] ?? r[3], 'ssh.auth_state': r[1] });
    if (r[1] === 'invalid') fields.invalid_user = true;
    const src = peer(r[4], r[5], 'source', fields);
    return { action: 'syslog.sshd.disconnect', fields: compactFields(fields), ...(src ? { src } : {}) };
  }
  return null;
}

const PAM_PREFIX = /^pam_unix\(([A-Za-z0-9_-]{1,32}):([a-z]{1,16})\): (.*)$/;
const OLD_PAM_PROGRAM = /^([A-Za-z0-9_-]{1,32})\(pam_unix\)$/;
const PAM_AUTH_FAILURE =
  /^authentication failure; logname=(\S*) uid=(\d*) euid=(\d*) tty=(\S*) ruser=(\S*) rhost=(\S*)(?:\s+user=(\S+))?\s*$/;
const PAM_SESSION =
  /^session (opened|closed) for user ([^\s(]+)(?:\(uid=(\d+)\))?(?: by ([^\s(]*)(?:\(uid=(\d+)\))?)?\s*$/;
const PAM_PASSWORD = /^password changed for (\S+)\s*$/;

/** The pam_unix service and text of a message, in either of its two shapes. */
function pamParts(m: MessageView): { service: string; type?: string; text: string } | null {
  const modern = PAM_PREFIX.exec(m.msg.trim());
  if (modern) return { service: modern[1]!, type: modern[2]!, text: modern[3]! };
  const old = OLD_PAM_PROGRAM.exec(m.program ?? '');
  return old ? { service: old[1]!, text: m.msg.trim() } : null;
}

export function parsePam(m: MessageView): Enrichment | null {
  const parts = pamParts(m);
  if (!parts) return null;
  const service = parts.service === 'su-l' ? 'su' : parts.service;
  const prefix = PAM_SERVICES.has(service) ? `syslog.${service}` : 'syslog.pam';
  const fields: Record<string, unknown> = { 'pam.service': service, 'pam.type': parts.type };
  let r = PAM_AUTH_FAILURE.exec(parts.text);
  if (r) {
    Object.assign(fields, {
      'user.name': r[7],
      'event.outcome': 'failure',
      'pam.logname': r[1],
      'pam.ruser': r[5],
      'user.id': r[2],
      tty: r[4],
    });
    const src = peer(r[6], undefined, 'source', fields);
    return {
      action: `${prefix}.auth_failure`,
      severity: 4,
      fields: compactFields(fields),
      ...(src ? { src } : {}),
    };
  }
  if ((r = PAM_SESSION.exec(parts.text))) {
    Object.assign(fields, {
      'user.name': r[2],
      'user.id': r[3],
      'process.user.name': r[4],
      'process.user.id': r[5],
    });
    return { action: `${prefix}.session_${r[1]}`, fields: compactFields(fields) };
  }
  if (parts.text.startsWith('check pass; user unknown')) {
    return {
      action: `${prefix}.user_unknown`,
      severity: 4,
      fields: compactFields({ ...fields, 'event.outcome': 'failure' }),
    };
  }
  if ((r = PAM_PASSWORD.exec(parts.text))) {
    return {
      action: 'syslog.passwd.password_changed',
      severity: 5,
      fields: compactFields({ ...fields, 'user.target.name': r[1], 'event.outcome': 'success' }),
    };
  }
  return null;
}

const SU_UTIL_LINUX = /^(FAILED SU )?\(to (\S+)\) (\S+) on (\S+)\s*$/;
const SU_SHADOW = /^(Successful|FAILED) su for (\S+) by (\S+)\s*$/;
const SU_SHADOW_TTY = /^([+-]) (\S+) (\S+):(\S+)\s*$/;

export function parseSu(m: MessageView): Enrichment | null {
  if (m.program !== 'su') return null;
  const text = m.msg.trim();
  if (text.startsWith('pam_unix(')) return parsePam(m);
  let ok: boolean;
  let user: string;
  let target: string;
  let tty: string | undefined;
  let r = SU_UTIL_LINUX.exec(text);
  if (r) [ok, target, user, tty] = [!r[1], r[2]!, r[3]!, r[4]];
  else if ((r = SU_SHADOW.exec(text))) [ok, target, user] = [r[1] === 'Successful', r[2]!, r[3]!];
  else if ((r = SU_SHADOW_TTY.exec(text))) [ok, tty, user, target] = [r[1] === '+', r[2], r[3]!, r[4]!];
  else return null;
  return {
    action: ok ? 'syslog.su.success' : 'syslog.su.failure',
    ...(ok ? {} : { severity: 4 }),
    fields: compactFields({
      'user.name': user,
      'user.target.name': target,
      'event.outcome': ok ? 'success' : 'failure',
      tty,
    }),
  };
}

const SUDO =
  /^\s*(\S+) : (?:(.*?) ; )?TTY=(\S+) ; PWD=(.*?) ; USER=(\S+) ;(?: GROUP=(\S+) ;)?(?: TSID=\S+ ;)?(?: ENV=.*? ;)? COMMAND=(.*)$/;

export function parseSudo(m: MessageView): Enrichment | null {
  if (m.program !== 'sudo') return null;
  if (m.msg.trim().startsWith('pam_unix(')) return parsePam(m);
  const r = SUDO.exec(m.msg);
  if (!r) return null;
  const problem = r[2];
  const fields = compactFields({
    'user.name': r[1],
    'user.target.name': r[5],
    'group.target.name': r[6],
    tty: r[3],
    'process.working_directory': r[4],
    'process.command_line': r[7],
    'event.outcome': problem ? 'failure' : 'success',
    'sudo.reason': problem,
  });
  if (!problem) return { action: 'syslog.sudo.command', fields };
  if (/incorrect password/i.test(problem)) return { action: 'syslog.sudo.auth_failure', severity: 4, fields };
  if (/not in sudoers|not allowed/i.test(problem))
    return { action: 'syslog.sudo.not_allowed', severity: 3, fields };
  return { action: 'syslog.sudo.failure', severity: 4, fields };
}
