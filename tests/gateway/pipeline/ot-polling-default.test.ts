/**
 * The default pipeline's `ot_polling` stage (gateway/pipeline/config.ts): a DNP3 master's class
 * polls, an S7 HMI's variable reads, BACnet property reads and OPC UA reads are routine telemetry,
 * one event per request and per answer. The default folds those of severity 6 or 7 (no failure, no
 * anomaly) per device, client, server and action per minute. Checked on CISA's ICSNPP captures
 * through `replay --config`'s pipeline with the shipped ICS rules: every folded event is counted in
 * exactly one summary, nothing else is folded away (control, restarts, writes, errors and
 * anomalies pass one by one), and what crosses the WAN drops.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gatewayConfigSchema } from '../../../gateway/config/schema.ts';
import { DEFAULT_STAGES } from '../../../gateway/pipeline/config.ts';
import { observations, readInputs } from '../../../gateway/replay/index.ts';
import { replayPipeline } from '../../../gateway/replay/pipeline.ts';
import type { Event, PendingEvent } from '../../../protocols/event/schema.ts';
import { REPO_ROOT, sharedData } from '../../support/env.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const POLLED = new Set(['dnp3', 's7comm', 'bacnet', 'opcua']);
const folded = (e: PendingEvent) =>
  POLLED.has(e.source) && e.kind === 'telemetry' && (e.severity === 6 || e.severity === 7);

const countBy = (actions: string[]) => {
  const m = new Map<string, number>();
  for (const a of actions) m.set(a, (m.get(a) ?? 0) + 1);
  return m;
};

const TRACES: Array<[string, string[]]> = [
  ['DNP3', ['dnp3', 'icsnpp', 'dnp3_example.pcap']],
  ['S7comm', ['s7comm', 'icsnpp', 'snap7.pcap']],
  ['BACnet', ['bacnet', 'icsnpp', 'bacnet_services.pcap']],
  ['OPC UA', ['opcua', 'icsnpp', 'opcua_with-gap_with-handshake.pcap']],
];

describe('default pipeline: ot_polling', () => {
  for (const [label, trace] of TRACES) {
    it(`${label}: routine polling folds into summaries; nothing else is folded away`, async (t) => {
      const file = sharedData(t, ...trace);
      if (!file) return;
      assert.ok(DEFAULT_STAGES.some((s) => s.name === 'ot_polling'));
      const summary = { files: 0, frames: 0, lines: 0, events: 0, alerts: 0 };
      const observed: PendingEvent[] = [];
      for (const o of observations(readInputs([file]), {}, summary)) observed.push(...o.events);
      const routine = observed.filter(folded);
      assert.ok(routine.length > 0, `${label}: routine polling in the trace`);
      const keys = new Set(routine.map((e) => `${e.device?.id}|${e.src?.ip}|${e.dst?.ip}|${e.action}`));

      const dir = mkdtempSync(path.join(tmpdir(), 'ot-polling-'));
      dirs.push(dir);
      const config = gatewayConfigSchema.parse({
        gateway: { id: 'gw-ot', data_dir: dir },
        sources: {},
        central: { endpoint: 'ws://127.0.0.1:9/link' },
        detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
      });
      const out: Event[] = [];
      const replayed = await replayPipeline([file], {
        config,
        write: (l) => out.push(JSON.parse(l) as Event),
      });
      const row = replayed.stages.find((s) => s.name === 'ot_polling')!;
      assert.equal(row.type, 'aggregate');
      assert.equal(row.dropped, routine.length, 'every routine event folded, and only those');

      // Each folded event is in exactly one summary, named after its action.
      const summaries = out.filter((e) => e.tags.includes('summary') && POLLED.has(e.source));
      const aggregate = (e: Event) =>
        e.fields.aggregate as { count: number; stage: string; summary_of: string };
      assert.equal(
        summaries.reduce((n, e) => n + aggregate(e).count, 0),
        routine.length,
      );
      assert.ok(
        summaries.length >= keys.size && summaries.length < routine.length,
        `${summaries.length} summaries`,
      );
      for (const s of summaries) {
        assert.equal(aggregate(s).stage, 'ot_polling');
        assert.equal(s.action, `${aggregate(s).summary_of}_summary`);
      }

      // Every other observed event still crosses one by one (alerts and new devices are added).
      const before = countBy(observed.filter((e) => !folded(e)).map((e) => e.action));
      const after_ = countBy(out.filter((e) => !e.tags.includes('summary')).map((e) => e.action));
      for (const [action, n] of before) assert.ok((after_.get(action) ?? 0) >= n, `${action}: ${n} observed`);
      t.diagnostic(
        `${label}: ${observed.length} observed, ${routine.length} routine folded into ${summaries.length} summaries; ${out.length} forwarded`,
      );
    });
  }
});
