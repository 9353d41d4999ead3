/**
 * rules/windows over the real Windows samples (sbousseaden/EVTX-ATTACK-SAMPLES, read by the
 * gateway's EVTX reader as `replay` does), each file on a fresh engine by its own clock: every
 * attack the data README describes raises the alert it should (log cleared, Kerberos password
 * spraying, PsExec-style services, a remote scheduled task, a guest made administrator, LSASS
 * dumps by mimikatz, procdump, Task Manager and PowerShell), and the benign-looking files raise
 * nothing else.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import { loadRuleDirectories } from '../../protocols/sigma/rules-dir.ts';
import { readEvtx, windowsRecordToEvent } from '../../protocols/windows/index.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';

function alertsOf(file: string): string[] {
  const loaded = loadRuleDirectories({ rulesDirs: [path.join(REPO_ROOT, 'rules', 'windows')] });
  assert.deepEqual(loaded.errors, []);
  const out: string[] = [];
  let seq = 0;
  for (const r of readEvtx(readFileSync(file)).records) {
    assert.ok(r.record, r.error);
    seq++;
    const e: Event = {
      v: EVENT_SCHEMA_VERSION,
      id: `gw:${seq}`,
      gateway: 'gw',
      seq,
      ...windowsRecordToEvent(r.record, new Date(r.written ?? 0)),
    };
    for (const a of loaded.engine.process(e, Date.parse(e.ts))) if (a.kind === 'new') out.push(a.rule.title);
  }
  for (const a of loaded.engine.flush()) if (a.kind === 'new') out.push(a.rule.title);
  return out.sort();
}

const CLEARED = 'Windows event log cleared';
const EXPECTED: Record<string, string[]> = {
  'Command_and_Control/DE_RDP_Tunnel_5156.evtx': [CLEARED],
  'Command_and_Control/DE_RDP_Tunneling_4624.evtx': [],
  'Credential_Access/CA_4624_4625_LogonType2_LogonProc_chrome.evtx': [],
  'Credential_Access/Powershell_4104_MiniDumpWriteDump_Lsass.evtx': ['PowerShell script dumps LSASS memory'],
  'Credential_Access/kerberos_pwd_spray_4771.evtx': [
    'Password spraying against Windows accounts',
    'Repeated Windows logon failures from one address',
    CLEARED,
  ],
  // procdump and Task Manager on one host within 5 minutes: one alert, counted twice
  'Credential_Access/sysmon_10_11_lsass_memdump.evtx': [
    'LSASS memory read by a non-system process (credential dumping)',
  ],
  'Credential_Access/sysmon_10_lsass_mimikatz_sekurlsa_logonpasswords.evtx': [
    'LSASS memory read by a non-system process (credential dumping)',
  ],
  'Defense_Evasion/DE_104_system_log_cleared.evtx': [CLEARED],
  'Defense_Evasion/DE_Fake_ComputerAccount_4720.evtx': ['Windows user account created'],
  'Lateral_Movement/LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx': [CLEARED],
  'Lateral_Movement/LM_Remote_Service02_7045.evtx': [
    'New Windows service installed',
    'PsExec-style remote service on a Windows host', // spoolfool and spoolsv (cmd.exe), grouped
  ],
  'Lateral_Movement/LM_ScheduledTask_ATSVC_target_host.evtx': [
    CLEARED,
    'Scheduled task created on a Windows host',
  ],
  'Lateral_Movement/LM_WMIC_4648_rpcss.evtx': [CLEARED],
  'Lateral_Movement/LM_WMI_4624_4688_TargetHost.evtx': [],
  'Lateral_Movement/LM_wmiexec_impacket_sysmon_whoami.evtx': [],
  'Persistence/Network_Service_Guest_added_to_admins_4732.evtx': [
    'Account added to the local Administrators group',
  ],
  'Persistence/sysmon_20_21_1_CommandLineEventConsumer.evtx': [
    'LSASS memory read by a non-system process (credential dumping)',
  ],
  'Privilege_Escalation/sysmon_privesc_psexec_dwell.evtx': [],
  'Privilege_Escalation/win10_4703_SeDebugPrivilege_enabled.evtx': [],
};

it('rules/windows on the 19 EVTX attack samples', (t) => {
  const root = sharedData(t, 'windows', 'evtx-attack-samples');
  if (!root) return;
  const files = readdirSync(root).flatMap((d) => readdirSync(path.join(root, d)).map((f) => `${d}/${f}`));
  assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
  const got: Record<string, string[]> = {};
  for (const f of files) got[f] = alertsOf(path.join(root, f));
  assert.deepEqual(got, Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, [...v].sort()])));
});
