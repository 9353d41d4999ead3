/**
 * Suricata's Modbus detection, reproduced in Sigma: for every rule of
 * ../shared/data/suricata-verify/modbus/test.rules, our equivalent Sigma rule
 * (tests/rules/suricata-modbus/sid-<N>.yml) raises, through `siem-gateway replay --rules` on the
 * same capture, exactly the alert count that suite's test.yaml expects of Suricata — including the
 * filters that narrow a count by the transaction's function code. Suricata alerts once per
 * transaction; our rules match the request event, so a count is the number of distinct request
 * events the rule's alerts name (a grouped alert counts its repeats, `count`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT, sharedData } from '../support/env.ts';

const run = promisify(execFile);
const FIXTURES = path.join(REPO_ROOT, 'tests', 'rules', 'suricata-modbus');

/** Function codes Suricata (sawp-modbus) calls "public assigned" (Modbus Application Protocol §5.1). */
const PUBLIC_ASSIGNED = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43];
/** sawp-modbus function code names that test.yaml filters use. */
const FUNCTION_NAMES: Record<string, number> = { RdCoils: 1, Diagnostic: 8, MEI: 43 };
/** sawp-modbus access types → the function codes with that access. */
const ACCESS: Record<string, number[]> = { 'READ | COILS': [1] };

type Check = { filter: { count: number; match: Record<string, unknown> } };
type Line = {
  type?: string;
  id?: string;
  rule_id?: string;
  alert_id?: string;
  count?: number;
  event_ids?: string[];
  fields?: Record<string, unknown>;
};

/** The predicate one test.yaml match key puts on a request event, or an error naming the key. */
function predicate(key: string, value: unknown): (fields: Record<string, unknown>) => boolean {
  const fc = (f: Record<string, unknown>) => Number(f.function_code);
  if (key === 'modbus.request.function_code' && typeof value === 'string' && value in FUNCTION_NAMES)
    return (f) => fc(f) === FUNCTION_NAMES[value];
  if (key === 'modbus.request.access_type' && typeof value === 'string' && value in ACCESS)
    return (f) => ACCESS[value]!.includes(fc(f));
  if (key === 'modbus.response.category' && value === 'PUBLIC_ASSIGNED')
    return (f) => PUBLIC_ASSIGNED.includes(fc(f));
  throw new Error(`test.yaml filter key ${key}: ${String(value)} has no equivalent here`);
}

it("each Suricata Modbus rule's Sigma equivalent yields Suricata's alert count on modbus.pcap", async (t) => {
  const dir = sharedData(t, 'suricata-verify', 'modbus');
  if (!dir) return;
  const sids = [...readFileSync(path.join(dir, 'test.rules'), 'utf8').matchAll(/\bsid:(\d+);/g)].map((m) =>
    Number(m[1]),
  );
  assert.deepEqual(sids, [1, 2, 3, 4, 5, 6, 7]);
  const { stdout } = await run(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin', 'siem-gateway.js'),
      'replay',
      '--rules',
      FIXTURES,
      path.join(dir, 'modbus.pcap'),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const lines = stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
  const events = new Map(lines.filter((l) => l.type === undefined).map((e) => [e.id!, e]));
  const alerts = lines.filter((l) => l.type === 'alert');

  // Per sid: the request events its alerts name, and its hit count (a grouped alert's final count).
  const hits = new Map<number, { ids: Set<string>; count: number }>();
  for (const sid of sids) {
    const ruleId = `5e1c0000-0000-4000-8000-00000000000${sid}`;
    const mine = alerts.filter((a) => a.rule_id === ruleId);
    const finalCount = new Map<string, number>();
    for (const a of mine) finalCount.set(a.alert_id!, Math.max(finalCount.get(a.alert_id!) ?? 0, a.count!));
    const ids = new Set(mine.flatMap((a) => a.event_ids ?? []));
    const count = [...finalCount.values()].reduce((s, n) => s + n, 0);
    assert.equal(ids.size, count, `sid ${sid}: every hit is named by its alert`);
    for (const id of ids) assert.equal(events.get(id)?.fields?.direction, 'request', `sid ${sid}: ${id}`);
    hits.set(sid, { ids, count });
  }

  const checks = (parse(readFileSync(path.join(dir, 'test.yaml'), 'utf8')) as { checks: Check[] }).checks;
  let compared = 0;
  for (const { filter } of checks) {
    const { event_type: type, 'alert.signature_id': sid, ...rest } = filter.match;
    if (type === 'alert') {
      const hit = hits.get(Number(sid));
      assert.ok(hit, `sid ${String(sid)} has an equivalent`);
      const tests = Object.entries(rest).map(([k, v]) => predicate(k, v));
      const n = [...hit.ids].filter((id) => tests.every((p) => p(events.get(id)!.fields ?? {}))).length;
      assert.equal(
        n,
        filter.count,
        `sid ${String(sid)} ${JSON.stringify(rest)}: Suricata expects ${filter.count}`,
      );
      compared++;
    } else if (type === 'modbus' && 'modbus.request.function_code' in rest) {
      // Suricata's Modbus log: one record per transaction with that function (request events here).
      const p = predicate('modbus.request.function_code', rest['modbus.request.function_code']);
      const n = [...events.values()].filter((e) => e.fields?.direction === 'request' && p(e.fields)).length;
      assert.equal(n, filter.count, `modbus records ${JSON.stringify(rest)}`);
      compared++;
    }
    // `modbus.id` is Suricata's transaction counter, which has no equivalent in our events.
  }
  assert.equal(compared, 9, 'the 8 alert checks of test.yaml and its function-code record check');
  // Suricata's `address 0<>2` on Read Coils: only the read of address 0 (frame 51), not of 2..3.
  const [only] = [...hits.get(5)!.ids];
  assert.equal(events.get(only!)?.fields?.frame, 51);
});
