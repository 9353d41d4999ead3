/**
 * The EVTX reader against the real samples (sbousseaden/EVTX-ATTACK-SAMPLES, 19 files, 242
 * records) and python3-evtx's XML of each: every record read from the binary file must give the
 * same Windows record (System values and every EventData/UserData value) as its XML, and the
 * per-file facts the data README states must hold (counts by event id, the 4625 and its status,
 * the 7045 services, the lsass access masks...).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readEvtx, type WindowsRecord } from '../../../protocols/windows/index.ts';
import { parseWindowsXml } from '../../../protocols/windows/xml.ts';
import { sharedData } from '../../support/env.ts';

function samples(root: string): Array<{ name: string; evtx: string; xml: string }> {
  const out = [];
  for (const dir of readdirSync(path.join(root, 'evtx-attack-samples')).sort())
    for (const f of readdirSync(path.join(root, 'evtx-attack-samples', dir)).sort())
      out.push({
        name: `${dir}/${f}`,
        evtx: path.join(root, 'evtx-attack-samples', dir, f),
        xml: path.join(root, 'expected-xml', 'evtx-attack-samples', dir, f.replace(/\.evtx$/, '.xml')),
      });
  return out;
}

/**
 * python3-evtx writes booleans as Python does (`False`) where Windows writes `false`, and drops
 * control characters that XML 1.0 cannot hold: compared without either difference.
 */
function normal(r: WindowsRecord): unknown {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.data))
    data[k] = (/^(true|false)$/i.test(v) ? v.toLowerCase() : v).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
  return { ...r, format: 'evtx', data };
}

test('every record of the 19 EVTX samples agrees with python3-evtx XML', (t) => {
  const root = sharedData(t, 'windows');
  if (!root) return;
  let records = 0;
  let agree = 0;
  const problems: string[] = [];
  const files = samples(root);
  assert.equal(files.length, 19);
  for (const s of files) {
    const file = readEvtx(readFileSync(s.evtx));
    assert.ok(file.ok, `${s.name}: ${file.error}`);
    const events = readFileSync(s.xml, 'utf8')
      .split(/(?=<Event xmlns)/)
      .slice(1)
      .map((e) => e.replace(/<\/Events>\s*$/, ''));
    assert.equal(file.records.length, events.length, `${s.name}: record count`);
    file.records.forEach((r, i) => {
      records++;
      const x = parseWindowsXml(events[i]!);
      if (!x.ok) return void problems.push(`${s.name}#${i}: XML ${x.error}`);
      if (!r.record) return void problems.push(`${s.name}#${i}: ${r.error}`);
      assert.equal(r.number, i + 1, 'record header numbers run 1..N in an exported file');
      try {
        assert.deepEqual(normal(r.record), normal(x.record));
        agree++;
      } catch (error) {
        problems.push(`${s.name}#${i}: ${(error as Error).message.slice(0, 400)}`);
      }
    });
  }
  t.diagnostic(`${agree} of ${records} records agree`);
  assert.deepEqual(problems, []);
  assert.equal(records, 242);
});

function read(root: string, rel: string): WindowsRecord[] {
  const f = readEvtx(readFileSync(path.join(root, 'evtx-attack-samples', rel)));
  return f.records.map((r) => r.record!);
}

const countIds = (rs: WindowsRecord[]) => {
  const m: Record<number, number> = {};
  for (const r of rs) m[r.eventId] = (m[r.eventId] ?? 0) + 1;
  return m;
};

test('the facts the data README states about the samples', (t) => {
  const root = sharedData(t, 'windows');
  if (!root) return;
  const chrome = read(root, 'Credential_Access/CA_4624_4625_LogonType2_LogonProc_chrome.evtx');
  assert.deepEqual(countIds(chrome), { 4625: 1, 4624: 3 });
  assert.deepEqual(
    [
      chrome[0]!.data.TargetUserName,
      chrome[0]!.data.LogonType,
      chrome[0]!.data.Status,
      chrome[0]!.data.SubStatus,
    ],
    ['IEUser', '2', '0xc000006d', '0xc000006a'],
  );
  const spray = read(root, 'Credential_Access/kerberos_pwd_spray_4771.evtx');
  assert.deepEqual(countIds(spray), { 1102: 1, 4768: 9, 4771: 2 });
  assert.equal(new Set(spray.filter((r) => r.eventId !== 1102).map((r) => r.data.TargetUserName)).size, 10);
  const svc = read(root, 'Lateral_Movement/LM_Remote_Service02_7045.evtx');
  assert.deepEqual(
    svc.map((r) => [r.eventId, r.data.ServiceName]),
    [
      [7045, 'spoolfool'],
      [7045, 'spoolsv'],
      [7045, 'remotesvc'],
    ],
  );
  const lsass = read(root, 'Credential_Access/sysmon_10_lsass_mimikatz_sekurlsa_logonpasswords.evtx');
  assert.equal(lsass[0]!.eventId, 10);
  assert.match(lsass[0]!.data.TargetImage!, /lsass\.exe$/i);
  assert.equal(lsass[0]!.data.GrantedAccess, '0x00001010');
  const cleared = read(root, 'Defense_Evasion/DE_104_system_log_cleared.evtx');
  assert.deepEqual([cleared[0]!.eventId, cleared[0]!.data.SubjectUserName], [104, 'user01']);
  const task = read(root, 'Lateral_Movement/LM_ScheduledTask_ATSVC_target_host.evtx');
  assert.equal(task.find((r) => r.eventId === 4698)?.data.TaskName, '\\CYAlyNSS');
  const tunnel = read(root, 'Command_and_Control/DE_RDP_Tunnel_5156.evtx');
  // An exported file keeps the original log's EventRecordID: 101 records numbered 227693–227960.
  assert.equal(tunnel.length, 101);
  assert.deepEqual([tunnel[0]!.recordId, tunnel[100]!.recordId], [227693, 227960]);
});

test('not EVTX, truncated and torn files are refused or read partly, never thrown on', (t) => {
  const root = sharedData(t, 'windows');
  assert.deepEqual(readEvtx(new Uint8Array(10)).ok, false);
  assert.match(readEvtx(Buffer.from('ElfChnk\0'.repeat(1000))).error ?? '', /not an EVTX file/);
  if (!root) return;
  const bytes = readFileSync(
    path.join(root, 'evtx-attack-samples', 'Lateral_Movement', 'LM_WMIC_4648_rpcss.evtx'),
  );
  for (const cut of [4096, 4096 + 600, 4096 + 3000, bytes.length - 1]) {
    const f = readEvtx(bytes.subarray(0, cut));
    assert.ok(f.ok);
    for (const r of f.records) assert.ok(r.record || r.error);
  }
  assert.equal(readEvtx(bytes, { maxBytes: 1000 }).ok, false);
});
