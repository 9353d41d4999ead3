/**
 * SigmaHQ-style Windows rules as written (issue 20): `product: windows` with a `service` (an
 * event log channel) or a `category` (Sysmon or Security event ids), field names as in Windows
 * (`EventID`, `Channel`, `TargetUserName`, `Image`, `CommandLine`, `ScriptBlockText`), run on
 * the events protocols/windows makes from the real EVTX samples. A rule must fire on the record it
 * describes and on no record of another channel or event id; process_creation covers Sysmon 1
 * and Security 4688 (where `Image` is `NewProcessName`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Event } from '../../../protocols/event/schema.ts';
import { compileRuleSet, loadSigma } from '../../../protocols/sigma/index.ts';
import { readEvtx, windowsRecordToEvent } from '../../../protocols/windows/index.ts';
import { sharedData } from '../../support/env.ts';

function allEvents(root: string): Array<{ file: string; event: Event }> {
  const out: Array<{ file: string; event: Event }> = [];
  let seq = 0;
  for (const dir of readdirSync(root).sort())
    for (const f of readdirSync(path.join(root, dir)).sort()) {
      const file = readEvtx(readFileSync(path.join(root, dir, f)));
      for (const r of file.records) {
        if (!r.record) continue;
        seq++;
        const p = windowsRecordToEvent(r.record, new Date('2024-01-01T00:00:00Z'));
        out.push({ file: f, event: { v: 1, id: `gw:${seq}`, gateway: 'gw', seq, ...p } });
      }
    }
  return out;
}

const RULES = `
title: failed logon with a bad password
id: w-4625
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 4625
    SubStatus: '0xc000006a'
  condition: selection
---
title: mimikatz opens lsass
id: w-lsass
logsource: { product: windows, category: process_access }
detection:
  selection:
    TargetImage|endswith: '\\lsass.exe'
    GrantedAccess|endswith: ['1010', '1fffff', '1410']
  condition: selection
---
title: wmiexec command
id: w-wmiexec
logsource: { product: windows, category: process_creation }
detection:
  selection:
    ParentImage|endswith: '\\WmiPrvSE.exe'
    CommandLine|contains|windash: ' -q -c '
  condition: selection
---
title: tasklist or calc under WMI (4688 names)
id: w-4688
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: ['\\calc.exe', '\\tasklist.exe']
  condition: selection
---
title: service runs cmd
id: w-7045
logsource: { product: windows, service: system }
detection:
  selection:
    Provider_Name: 'Service Control Manager'
    EventID: 7045
    ImagePath|contains: 'cmd.exe'
  condition: selection
---
title: script block dumps lsass
id: w-4104
logsource: { product: windows, category: ps_script }
detection:
  selection:
    ScriptBlockText|contains|all: ['MiniDumpWriteDump', 'lsass']
  condition: selection
---
title: log cleared
id: w-1102
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 1102
  condition: selection
---
title: a service this engine cannot place
id: w-unknown
logsource: { product: windows, service: no-such-log }
detection:
  selection:
    EventID: 1
  condition: selection
`;

test('SigmaHQ-style Windows rules fire on the records they describe and nowhere else', (t) => {
  const root = sharedData(t, 'windows', 'evtx-attack-samples');
  if (!root) return;
  const loaded = loadSigma(RULES);
  assert.deepEqual(loaded.errors, []);
  const set = compileRuleSet(loaded.rules);
  assert.deepEqual(set.errors, []);
  const hits = new Map<string, string[]>();
  for (const { file, event } of allEvents(root))
    for (const r of set.match(event)) hits.set(r.key, [...(hits.get(r.key) ?? []), file]);
  const count = (id: string) => hits.get(id)?.length ?? 0;
  assert.deepEqual(hits.get('w-4625'), ['CA_4624_4625_LogonType2_LogonProc_chrome.evtx']);
  // mimikatz 0x1010, procdump/taskmgr 0x1fffff, python on lsass 0x1410 (winlogon is not lsass)
  assert.equal(count('w-lsass'), 4);
  assert.equal(count('w-wmiexec'), 3, 'the three cmd.exe /Q /c under WmiPrvSE');
  assert.deepEqual([...new Set(hits.get('w-4688'))].sort(), [
    'LM_ScheduledTask_ATSVC_target_host.evtx',
    'LM_WMI_4624_4688_TargetHost.evtx',
  ]);
  assert.equal(count('w-7045'), 2, 'spoolfool and spoolsv run cmd.exe; remotesvc runs calc');
  assert.deepEqual(hits.get('w-4104'), ['Powershell_4104_MiniDumpWriteDump_Lsass.evtx']);
  // Five Security files open with a 1102; the 104 in the System log is not service: security.
  assert.equal(count('w-1102'), 5);
  assert.equal(count('w-unknown'), 0);
  assert.equal(set.rules.find((r) => r.key === 'w-unknown')?.sources?.size, 0, 'inactive, not wrong');
});
