/**
 * `siem-gateway replay` as a user runs it: a capture and a text log in one run print valid events
 * as JSON lines, numbered in output order, each saying its frame or line; the config's gateway id
 * is used (its pipeline without stages forwards everything: pipeline.test.ts runs the default); an unreadable file exits 1 with a message naming it, before any output; `--rules`
 * pointing at a directory without rules is refused clearly (rules themselves: tests/rules).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
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

test('a capture and a log in one run: valid events in order, with frame and line numbers', async (t) => {
  const pcap = sharedData(t, 'modbus', 'icsnpp', 'modbus_example.pcap');
  if (!pcap) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
  const log = path.join(dir, 'messages');
  writeFileSync(
    log,
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8\n\nJun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0\n",
  );
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    'gateway: { id: plant-gw-7, data_dir: /tmp/x }\nsources: {}\ncentral: { endpoint: "ws://127.0.0.1:1/link" }\npipeline: { stages: [] }\n',
  );
  const r = await replay([pcap, log, '--config', config]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(events.length, 48 + 2);
  events.forEach((e, i) => {
    assert.ok(parseEvent(e).ok, JSON.stringify(e));
    assert.equal(e.seq, i + 1);
    assert.equal(e.id, `plant-gw-7:${i + 1}`);
  });
  assert.deepEqual(
    [events[0].fields.frame, events[0].fields.file, events[0].ts],
    [4, 'modbus_example.pcap', '2020-07-25T07:03:28.237Z'],
  );
  const [su, sshd] = events.slice(-2);
  assert.deepEqual([su.fields.line, su.ts, su.fields.transport], [1, '2003-10-11T22:14:15.003Z', 'file']);
  assert.deepEqual([sshd.fields.line, sshd.host, sshd.fields.program], [3, 'combo', 'sshd(pam_unix)']);
  assert.match(r.stderr, /2 file\(s\), \d+ frames, 3 lines, 50 events/);
});

test('an unreadable file exits 1 before any output; a rules directory without rules is refused clearly', async () => {
  const r = await replay(['/nonexistent/capture.pcap']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /\/nonexistent\/capture\.pcap: cannot read \(ENOENT\)/);
  const empty = mkdtempSync(path.join(tmpdir(), 'siem-no-rules-'));
  const rules = await replay(['--rules', empty, '/nonexistent']);
  rmSync(empty, { recursive: true, force: true });
  assert.equal(rules.code, 2);
  assert.match(rules.stderr, /no rule files \(\*\.yml\) under/);
  const none = await replay([]);
  assert.equal(none.code, 2);
});
