/**
 * `siem-gateway replay` on Windows `.evtx` files (issue 20): the 19 EVTX attack samples in one
 * run print 242 valid events (source windows, each naming its file and record, at the event's
 * own time, in file order), `--rules rules/windows` adds the alerts, the summary counts records;
 * a file with a damaged record still prints the others and says which record it skipped.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type Event, parseEvent } from '../../../protocols/event/schema.ts';
import { readEvtx } from '../../../protocols/windows/index.ts';
import { REPO_ROOT, sharedData } from '../../support/env.ts';

function replay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'siem-gateway.js'), 'replay', ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('the 19 EVTX samples in one run: 242 Windows events with their file and record, and alerts', async (t) => {
  const root = sharedData(t, 'windows', 'evtx-attack-samples');
  if (!root) return;
  const files = readdirSync(root)
    .sort()
    .flatMap((d) =>
      readdirSync(path.join(root, d))
        .sort()
        .map((f) => path.join(root, d, f)),
    );
  const r = await replay(['--rules', path.join(REPO_ROOT, 'rules', 'windows'), ...files]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /19 file\(s\), 0 frames, 0 lines, 242 records, 242 events, \d+ alerts/);
  const out = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = out.filter((o) => o.type !== 'alert');
  const alerts = out.filter((o) => o.type === 'alert');
  assert.equal(events.length, 242);
  const parsed: Event[] = events.map((e) => {
    const p = parseEvent(e);
    assert.ok(p.ok, p.ok ? '' : p.error);
    return p.event;
  });
  assert.ok(parsed.every((e) => e.source === 'windows' && e.time_source === 'device'));
  assert.deepEqual(
    parsed.map((e) => e.seq),
    parsed.map((_, i) => i + 1),
  );
  // Each event names its file and record, in file order, with the record's own EventRecordID.
  let i = 0;
  for (const f of files) {
    const records = readEvtx(readFileSync(f)).records;
    for (const rec of records) {
      const e = parsed[i++]!;
      assert.equal(e.fields.file, path.basename(f));
      assert.equal(e.fields.record, rec.number);
      assert.equal(e.fields['winlog.record_id'], rec.record!.recordId);
      assert.equal(e.ts, rec.record!.time);
    }
  }
  const titles = new Set(alerts.map((a) => a.rule_title));
  for (const title of [
    'Windows event log cleared',
    'Password spraying against Windows accounts',
    'PsExec-style remote service on a Windows host',
    'LSASS memory read by a non-system process (credential dumping)',
    'Account added to the local Administrators group',
  ])
    assert.ok(titles.has(title), `alert ${title}`);
});

test('a damaged record is skipped and named, the others still print', async (t) => {
  const file = sharedData(t, 'windows', 'evtx-attack-samples', 'Lateral_Movement', 'LM_WMIC_4648_rpcss.evtx');
  if (!file) return;
  const bytes = Buffer.from(readFileSync(file));
  const first = readEvtx(bytes).records;
  assert.equal(first.length, 5);
  // Point the second record's first template at a definition outside the chunk.
  const at = first[1]!.offset + 24 + 4 + 6;
  bytes.writeUInt32LE(0x7fff0000, at);
  const dir = mkdtempSync(path.join(tmpdir(), 'replay-evtx-'));
  try {
    const broken = path.join(dir, 'broken.evtx');
    writeFileSync(broken, bytes);
    const r = await replay([broken]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /broken\.evtx: record 2 at byte \d+: /);
    assert.match(r.stderr, /5 records \(1 unreadable\), 4 events/);
    assert.equal(r.stdout.trim().split('\n').length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
