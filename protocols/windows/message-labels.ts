/**
 * Reads the rendered message text of a Windows security event ("An account failed to log on.
 * Subject: Security ID: S-1-5-18 Account Name: WS1$ ... Logon Type: 3 ...") back into the
 * EventData names (`SubjectUserName`, `TargetUserName`, `LogonType`, `IpAddress`...). Snare sends
 * only this text (tabs and line breaks turned into runs of spaces), so the names the rules match on
 * come from here. Labels are read per section, because "Account Name" is the subject's under
 * "Subject:" and the logon's under "New Logon:". Only known labels are taken; the rest of the text
 * stays in the message. Pure.
 */

/** Section headings → the prefix their "Security ID / Account Name / Account Domain" get. */
const SECTIONS: Record<string, 'Subject' | 'Target' | 'Member' | 'Group' | 'Other'> = {
  subject: 'Subject',
  'creator subject': 'Subject',
  'new logon': 'Target',
  'account for which logon failed': 'Target',
  'target account': 'Target',
  'target subject': 'Target',
  'account whose credentials were used': 'Target',
  'new account': 'Target',
  'account information': 'Target',
  'logon account': 'Target',
  member: 'Member',
  group: 'Group',
  'logon information': 'Other',
  'network information': 'Other',
  'process information': 'Other',
  'new process information': 'Other',
  'service information': 'Other',
  'task information': 'Other',
  'failure information': 'Other',
  'detailed authentication information': 'Other',
  'additional information': 'Other',
  'target server': 'Other',
  'impersonation level': 'Other',
  attributes: 'Other',
};

/** Labels whose EventData name depends on the section. */
const ACCOUNT_LABELS: Record<string, Record<string, string>> = {
  'security id': {
    Subject: 'SubjectUserSid',
    Target: 'TargetUserSid',
    Member: 'MemberSid',
    Group: 'TargetSid',
  },
  'account name': {
    Subject: 'SubjectUserName',
    Target: 'TargetUserName',
    Member: 'MemberName',
    Other: 'TargetUserName',
  },
  'account domain': { Subject: 'SubjectDomainName', Target: 'TargetDomainName', Other: 'TargetDomainName' },
  'logon id': { Subject: 'SubjectLogonId', Target: 'TargetLogonId', Other: 'TargetLogonId' },
  'group name': { Group: 'TargetUserName', Other: 'TargetUserName' },
  'group domain': { Group: 'TargetDomainName', Other: 'TargetDomainName' },
};

/** Labels with one EventData name wherever they appear. */
const LABELS: Record<string, string> = {
  'logon type': 'LogonType',
  'source network address': 'IpAddress',
  'client address': 'IpAddress',
  'source port': 'IpPort',
  'client port': 'IpPort',
  'workstation name': 'WorkstationName',
  'source workstation': 'Workstation',
  'new process name': 'NewProcessName',
  'new process id': 'NewProcessId',
  'process command line': 'CommandLine',
  'creator process name': 'ParentProcessName',
  'process name': 'ProcessName',
  'process id': 'ProcessId',
  'service name': 'ServiceName',
  'service file name': 'ServiceFileName',
  'service type': 'ServiceType',
  'service start type': 'StartType',
  'service account': 'ServiceAccount',
  'task name': 'TaskName',
  'logon process': 'LogonProcessName',
  'authentication package': 'AuthenticationPackageName',
  'target server name': 'TargetServerName',
  status: 'Status',
  'sub status': 'SubStatus',
  'failure code': 'Status',
  'result code': 'Status',
  'error code': 'Status',
  'failure reason': 'FailureReason',
  'user name': 'TargetUserName',
  domain: 'TargetDomainName',
  'caller user name': 'SubjectUserName',
  'caller domain': 'SubjectDomainName',
};

const MAX_TOKENS = 512;
const INLINE = /^([A-Za-z][A-Za-z ()/-]{0,48}):\s+(.*)$/;

function nameFor(label: string, section: string, eventId: number): string | undefined {
  const byAccount = ACCOUNT_LABELS[label];
  if (byAccount) return byAccount[section] ?? byAccount.Other;
  // 7045 calls the service's command ImagePath and its account AccountName (4697: ServiceFileName).
  if (eventId === 7045 && label === 'service file name') return 'ImagePath';
  if (eventId === 7045 && label === 'service account') return 'AccountName';
  // 4776: "Logon Account: bob" is the account checked.
  if (label === 'logon account') return 'TargetUserName';
  return LABELS[label];
}

/** The known labelled values of a rendered message, by EventData name (first occurrence wins). */
export function readMessageLabels(text: string, eventId: number): Record<string, string> {
  const out: Record<string, string> = {};
  const tokens = text
    .split(/\t|\r?\n|\s{2,}/)
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .slice(0, MAX_TOKENS);
  let section = 'Other';
  let pending: string | undefined;
  const set = (name: string | undefined, value: string) => {
    if (name && !Object.hasOwn(out, name)) out[name] = value;
  };
  const labelOf = (t: string): string | undefined => {
    if (!t.endsWith(':')) return undefined;
    const l = t.slice(0, -1).trim().toLowerCase();
    return l in SECTIONS || l in LABELS || l in ACCOUNT_LABELS || l === 'logon account' ? l : undefined;
  };
  for (const token of tokens) {
    const label = labelOf(token);
    if (label !== undefined) {
      if (pending !== undefined) set(nameFor(pending, section, eventId), '');
      pending = undefined;
      if (label in SECTIONS && !(label === 'logon account' && eventId === 4776)) {
        section = SECTIONS[label]!;
        continue;
      }
      pending = label;
      continue;
    }
    const inline = INLINE.exec(token);
    const inlineLabel = inline ? inline[1]!.trim().toLowerCase() : undefined;
    if (
      inline &&
      inlineLabel !== undefined &&
      (inlineLabel in LABELS || inlineLabel in ACCOUNT_LABELS || inlineLabel === 'logon account')
    ) {
      if (pending !== undefined) set(nameFor(pending, section, eventId), '');
      pending = undefined;
      set(nameFor(inlineLabel, section, eventId), inline[2]!.trim());
      continue;
    }
    if (inline) {
      // Another label ("Logon GUID: {...}"): the pending one had no value.
      if (pending !== undefined) set(nameFor(pending, section, eventId), '');
      pending = undefined;
      continue;
    }
    if (pending !== undefined) {
      set(nameFor(pending, section, eventId), token);
      pending = undefined;
    }
  }
  if (pending !== undefined) set(nameFor(pending, section, eventId), '');
  return out;
}
