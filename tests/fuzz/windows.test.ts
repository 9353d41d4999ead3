/**
 * Properties of the Windows parsers (protocols/windows): no input makes them throw; a record
 * written as Windows Event XML, as NXLog JSON or as NXLog key=value reads back to the same values;
 * bytes flipped anywhere in a real `.evtx` file give records or per-record errors, never a throw
 * or an unbounded loop.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  parseNxlogJson,
  parseNxlogKv,
  parseSnare,
  parseSyslogWindows,
  parseWindowsXml,
  readEvtx,
} from '../../protocols/windows/index.ts';
import { sharedData } from '../support/env.ts';

const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom('MSWinEventLog\t', '<Event>', '{"EventID":', 'EventID=4625 Channel=', '<Event xmlns="x">'),
  fc
    .tuple(
      fc.constantFrom(
        'MSWinEventLog\t',
        '<Event><System><EventID>',
        '{"EventID":4625,',
        'EventID=1 Channel=',
      ),
      fc.string({ maxLength: 200 }),
    )
    .map(([a, b]) => a + b),
);

test('no input makes a Windows parser throw', () => {
  fc.assert(
    fc.property(text, fc.option(fc.string({ maxLength: 40 })), (s, tag) => {
      for (const r of [parseSnare(s), parseNxlogJson(s), parseNxlogKv(s), parseWindowsXml(s)])
        assert.equal(typeof r.ok, 'boolean');
      const w = parseSyslogWindows(tag, s);
      assert.ok(w === undefined || typeof w.ok === 'boolean');
    }),
    { numRuns: 3000 },
  );
});

const name = fc
  .stringMatching(/^[A-Z][A-Za-z0-9]{0,15}$/)
  .filter((n) => !['EventID', 'Channel', 'Hostname', 'Message'].includes(n));
const value = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\u0000-\u001f\ud800-\udfff]/g, 'x'));
const record = fc.record({
  eventId: fc.integer({ min: 0, max: 65535 }),
  channel: fc.stringMatching(/^[A-Za-z][A-Za-z /-]{0,30}[A-Za-z]$/),
  computer: fc.stringMatching(/^[A-Za-z][A-Za-z0-9.-]{0,20}$/),
  data: fc.dictionary(name, value, { maxKeys: 8 }),
});

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

test('a record written as Event XML, NXLog JSON or NXLog key=value reads back the same', () => {
  fc.assert(
    fc.property(record, (r) => {
      const xml =
        `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>` +
        `<EventID Qualifiers="">${r.eventId}</EventID><Channel>${esc(r.channel)}</Channel>` +
        `<Computer>${esc(r.computer)}</Computer></System><EventData>` +
        Object.entries(r.data)
          .map(([k, v]) => `<Data Name="${k}">${esc(v)}</Data>`)
          .join('') +
        `</EventData></Event>`;
      const x = parseWindowsXml(xml);
      assert.ok(x.ok, JSON.stringify(x));
      assert.deepEqual(
        [x.record.eventId, x.record.channel, x.record.computer],
        [r.eventId, r.channel, r.computer],
      );
      // A value named __proto__ is dropped (assigning a string there never changed the prototype:
      // JavaScript ignores a non-object; the parsers now skip the name explicitly).
      const plain = Object.fromEntries(Object.entries(r.data).filter(([k]) => k !== '__proto__'));
      assert.deepEqual(x.record.data, plain);
      assert.equal(
        Object.getPrototypeOf(x.record.data),
        Object.prototype,
        'a __proto__ key is not the prototype',
      );

      const j = parseNxlogJson(
        JSON.stringify({ EventID: r.eventId, Channel: r.channel, Hostname: r.computer, ...r.data }),
      );
      assert.ok(j.ok);
      assert.deepEqual(
        j.record.data,
        Object.fromEntries(Object.entries(plain).filter(([k]) => !isSystemKey(k))),
      );

      const kv = [
        `EventID=${r.eventId}`,
        `Channel="${r.channel}"`,
        `Hostname=${r.computer}`,
        ...Object.entries(r.data).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`),
      ].join(' ');
      const k = parseNxlogKv(kv);
      assert.ok(k.ok);
      assert.equal(k.record.eventId, r.eventId);
      assert.deepEqual(
        k.record.data,
        Object.fromEntries(Object.entries(plain).filter(([n]) => !isSystemKey(n))),
      );
    }),
    { numRuns: 1000 },
  );
});

const SYSTEM = new Set([
  'Keywords',
  'Severity',
  'Version',
  'Task',
  'Opcode',
  'Category',
  'Domain',
  'AccountName',
  'UserID',
  'AccountType',
  'Level',
  'LevelValue',
  'ActivityID',
  'ThreadID',
  'ProcessID',
  'RecordNumber',
  'SourceName',
  'ProviderName',
  'ProviderGuid',
  'EventType',
  'EventTime',
  'OpcodeValue',
  'SeverityValue',
  'ExecutionProcessID',
  'ExecutionThreadID',
  'EventReceivedTime',
  'SourceModuleName',
  'SourceModuleType',
  'RelatedActivityID',
  'MessageSourceAddress',
]);
const isSystemKey = (k: string) => SYSTEM.has(k);

test('flipped bytes in a real .evtx never make the reader throw', (t) => {
  const file = sharedData(t, 'windows', 'evtx-attack-samples', 'Lateral_Movement', 'LM_WMIC_4648_rpcss.evtx');
  if (!file) return;
  const bytes = readFileSync(file);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 4096, max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 16,
      }),
      (flips) => {
        const b = Buffer.from(bytes);
        for (const [at, v] of flips) b[at] = v;
        const f = readEvtx(b);
        assert.ok(f.ok);
        for (const r of f.records) assert.ok(r.record !== undefined || typeof r.error === 'string');
      },
    ),
    { numRuns: 400 },
  );
  void path;
});
