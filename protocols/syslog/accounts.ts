/**
 * Account management on Linux hosts, as shadow-utils logs it (useradd, groupadd, usermod,
 * userdel, groupdel, passwd; libmisc/ and src/ of shadow): "new user: name=bob, UID=1001, ...",
 * "new group: name=ops, GID=1002", "group added to /etc/group: name=ops, GID=1002", "add 'bob' to
 * group 'sudo'", "delete user 'bob'", "group 'ops' removed", "password for 'bob' changed by
 * 'root'". A new account or a new member of an admin group on an HMI is what persistence looks
 * like (ATT&CK T1136 Create Account), so these are `security` events. Pure.
 */
import { compactFields, type Enrichment, type MessageView } from './enrichment.ts';

const PROGRAMS = new Set([
  'useradd',
  'groupadd',
  'usermod',
  'userdel',
  'groupdel',
  'groupmod',
  'passwd',
  'chpasswd',
  'gpasswd',
]);

const NEW_ENTRY = /^(new user|new group|group added to \/etc\/(?:group|gshadow)): (.*)$/;
const MEMBER = /^(?:add|adding user) '?([^'\s]+)'? to (?:shadow )?group '?([^'\s]+)'?\s*$/;
const MEMBER_REMOVED = /^(?:delete|deleting user) '?([^'\s]+)'? from (?:shadow )?group '?([^'\s]+)'?\s*$/;
const DELETE_USER = /^delete user '([^']+)'\s*$/;
const GROUP_REMOVED =
  /^(?:group '([^']+)' removed(?: from \S+)?|removed group '([^']+)' owned by '([^']+)')\s*$/;
const PASSWORD = /^password for '([^']+)' changed by '([^']+)'\s*$/;

/** `name=bob, UID=1001, GID=1001, home=/home/bob` → { name, UID, GID, home }. */
function commaPairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(', ')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export function parseAccounts(m: MessageView): Enrichment | null {
  const program = m.program ?? '';
  if (!PROGRAMS.has(program)) return null;
  const text = m.msg.trim();
  const action = (what: string) => `syslog.${program}.${what}`;
  let r = NEW_ENTRY.exec(text);
  if (r) {
    const kv = commaPairs(r[2]!);
    if (r[1] === 'new user') {
      return {
        action: action('user_created'),
        severity: 5,
        fields: compactFields({
          'user.target.name': kv.name,
          'user.target.id': kv.UID,
          'user.target.group.id': kv.GID,
          'user.target.home': kv.home,
          'user.target.shell': kv.shell,
          tty: kv.from,
        }),
      };
    }
    return {
      action: action('group_created'),
      severity: 5,
      fields: compactFields({ 'group.name': kv.name, 'group.id': kv.GID }),
    };
  }
  if ((r = MEMBER.exec(text))) {
    return {
      action: action('group_member_added'),
      severity: 5,
      fields: { 'user.target.name': r[1], 'group.name': r[2] },
    };
  }
  if ((r = MEMBER_REMOVED.exec(text))) {
    return {
      action: action('group_member_removed'),
      severity: 5,
      fields: { 'user.target.name': r[1], 'group.name': r[2] },
    };
  }
  if ((r = DELETE_USER.exec(text)))
    return { action: action('user_deleted'), severity: 5, fields: { 'user.target.name': r[1] } };
  if ((r = GROUP_REMOVED.exec(text)))
    return { action: action('group_deleted'), severity: 5, fields: { 'group.name': r[1] ?? r[2] } };
  if ((r = PASSWORD.exec(text))) {
    return {
      action: 'syslog.passwd.password_changed',
      severity: 5,
      fields: { 'user.target.name': r[1], 'user.name': r[2], 'event.outcome': 'success' },
    };
  }
  return null;
}
