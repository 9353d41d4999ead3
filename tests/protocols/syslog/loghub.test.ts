/**
 * loghub's Linux_2k.log: 2,000 real /var/log/messages lines (BSD file format: no PRI, no year),
 * the way `siem-gateway replay` reads a log file. Every line must parse, and the host, program,
 * PID, time and content must match loghub's hand-checked structured CSV (whose column `Level`
 * holds the host name and `Component` the process).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseSyslog } from '../../../protocols/syslog/index.ts';
import { parseCsv } from '../../support/csv.ts';
import { sharedData } from '../../support/env.ts';

/**
 * Deliberate differences from loghub's labels, whose regex takes the process up to ':' or '['.
 * We follow rsyslog: the tag ends at SP, so "syslogd 1.4.1: restart." is program "syslogd" with
 * message "1.4.1: restart."; and "combo  -- root[2421]: ..." (two SPs after the host) has an
 * empty tag, its message starting at "--".
 */
const COMPONENT_EXCEPTIONS: Record<string, { program: string | null; reason: string }> = {
  'syslogd 1.4.1': { program: 'syslogd', reason: 'the TAG ends at the first SP (rsyslog, RFC 3164 §4.1.3)' },
  '-- root': { program: null, reason: 'an SP right after the HOSTNAME leaves the TAG empty (rsyslog)' },
};

test('loghub Linux_2k.log: all 2000 lines parse and match the structured CSV', (t) => {
  const logFile = sharedData(t, 'syslog', 'loghub', 'Linux_2k.log');
  const csvFile = sharedData(t, 'syslog', 'loghub', 'Linux_2k.log_structured.csv');
  if (!logFile || !csvFile) return;
  const lines = readFileSync(logFile, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const rows = parseCsv(readFileSync(csvFile, 'utf8'));
  assert.equal(lines.length, 2000);
  assert.equal(rows.length, 2000);
  assert.deepEqual(Object.keys(rows[0]!).slice(0, 8), [
    'LineId',
    'Month',
    'Date',
    'Time',
    'Level',
    'Component',
    'PID',
    'Content',
  ]);

  // The capture ends in July 2005; a replay's clock is the file's own, so infer years from then.
  const now = new Date('2005-08-01T00:00:00Z');
  let previous = 0;
  const exceptionsSeen = new Set<string>();
  lines.forEach((line, i) => {
    const row = rows[i]!;
    const where = `line ${i + 1}: ${line}`;
    const parsed = parseSyslog(line, { now });
    assert.ok(parsed.ok, where);
    const m = parsed.message;
    assert.equal(m.priPresent, false, where);
    assert.equal(m.pri, 13, where);
    assert.equal(m.hostname, row.Level, where);
    const exception = COMPONENT_EXCEPTIONS[row.Component!];
    if (exception) exceptionsSeen.add(row.Component!);
    assert.equal(m.programName, exception ? exception.program : row.Component, where);
    if (!exception) {
      assert.equal(m.procId, row.PID === '' ? null : row.PID, where);
      // loghub trims the blanks around the content (the kernel indents some lines).
      assert.equal(m.msg.trim(), row.Content, where);
    }
    assert.equal(m.timestampText?.replace(/ +/g, ' '), `${row.Month} ${row.Date} ${row.Time}`, where);
    // /var/log/messages is chronological (give or take seconds at boot): so must the inferred years be.
    assert.ok(m.timestamp, where);
    assert.ok(m.timestamp.getTime() >= previous - 60_000, `${where} goes back in time`);
    assert.equal(m.timestamp.getUTCFullYear(), 2005, where);
    previous = Math.max(previous, m.timestamp.getTime());
  });
  assert.deepEqual(
    [...exceptionsSeen].sort(),
    Object.keys(COMPONENT_EXCEPTIONS).sort(),
    'every exception is still needed',
  );
});
