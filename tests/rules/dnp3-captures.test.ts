/**
 * The DNP3 rules of rules/ics on real captures: each capture decoded by our DNP3 session (as a
 * capture source will run it) and every event run through the gateway's detection engine. Zeek's
 * `dnp3.pcap` holds what an OT monitor must catch (cold and warm restarts, STOP_APPL, disabled
 * unsolicited reporting, broadcasts, clock writes, a second master writing, refused points);
 * ICSNPP's capture (a master polling and operating its outstation for hours) and Zeek's plain
 * read, select/operate, delay and link traces are benign: no rule may fire on them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadDetection } from '../../gateway/detection/index.ts';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import type { SigmaAlert } from '../../protocols/sigma/index.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';
import { captureEvents, decodeDnp3Capture } from '../protocols/dnp3/traces.ts';

function alertsOf(file: string): Record<string, number> {
  const loaded = loadDetection({ rulesDirs: [path.join(REPO_ROOT, 'rules', 'ics')] });
  assert.deepEqual(loaded.errors, []);
  const alerts: SigmaAlert[] = [];
  const transport = path.basename(file).includes('udp') ? 'udp' : 'tcp';
  let seq = 0;
  for (const e of captureEvents(decodeDnp3Capture(file), transport)) {
    seq += 1;
    const event: Event = { v: EVENT_SCHEMA_VERSION, id: `gw:${seq}`, gateway: 'gw', seq, ...e };
    alerts.push(...loaded.engine.process(event, Date.parse(e.ts)));
  }
  alerts.push(...loaded.engine.flush());
  // Per rule, the events that triggered it: repeats on one entity group into one alert whose
  // `update` lists them, so alerts are not a count of requests.
  const ids = new Map<string, Set<string>>();
  for (const a of alerts) {
    const set = ids.get(a.rule.title) ?? new Set<string>();
    for (const id of a.event_ids) set.add(id);
    ids.set(a.rule.title, set);
  }
  return Object.fromEntries([...ids].map(([title, set]) => [title, set.size]));
}

describe('DNP3 rules on real captures', () => {
  it("fire on Zeek's dnp3.pcap, on each request that deserves it (triggering events per rule)", (t) => {
    const file = sharedData(t, 'dnp3', 'zeek', 'dnp3.pcap');
    if (!file) return;
    assert.deepEqual(alertsOf(file), {
      // COLD_RESTART ×2, WARM_RESTART ×2.
      'DNP3 cold or warm restart of an outstation': 4,
      // STOP_APPL ×4.
      'DNP3 application stopped or re-initialised on an outstation': 4,
      // DISABLE_UNSOLICITED ×7.
      'DNP3 unsolicited responses disabled': 7,
      // The 4 frames to 65535.
      'DNP3 request to the broadcast address': 4,
      // WRITE g50v1 ×4 (the other 2 WRITEs clear IIN restart, g80v1).
      'DNP3 outstation clock set': 4,
      // 10.0.0.8 and 10.0.0.9 both WRITE to outstation 4 at 10.0.0.3 within the hour (the
      // alert lists 3 of their writes).
      'DNP3 controls from a second master (unauthorised operate or write)': 3,
      // 5 SELECTs answered IIN parameter_error, 5 READs of g255v0 answered object_unknown.
      'DNP3 points scan (unknown objects or points, again and again)': 10,
    });
  });

  it('flag the clock write of dnp3_write.pcap', (t) => {
    const file = sharedData(t, 'dnp3', 'zeek', 'dnp3_write.pcap');
    if (!file) return;
    assert.deepEqual(alertsOf(file), { 'DNP3 outstation clock set': 1 });
  });

  for (const [dir, name] of [
    ['icsnpp', 'dnp3_example.pcap'],
    ['zeek', 'dnp3_read.pcap'],
    ['zeek', 'dnp3_udp_read.pcap'],
    ['zeek', 'dnp3_select_operate.pcap'],
    ['zeek', 'dnp3_udp_select_operate.pcap'],
    ['zeek', 'dnp3_del_measure.pcap'],
    ['zeek', 'dnp3_rec_time.pcap'],
    ['zeek', 'dnp3_en_spon.pcap'],
    ['zeek', 'dnp3_link_only.pcap'],
  ] as const) {
    it(`stay silent on the benign ${dir}/${name}`, (t) => {
      const file = sharedData(t, 'dnp3', dir, name);
      if (!file) return;
      assert.deepEqual(alertsOf(file), {});
    });
  }
});
