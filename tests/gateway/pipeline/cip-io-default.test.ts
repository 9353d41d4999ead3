/**
 * The default pipeline's `cip_io` stage (gateway/pipeline/config.ts): EtherNet/IP implicit I/O is
 * one `cip.io` event per UDP 2222 datagram, hundreds a second on a real line, so the default folds
 * it per device, sender and connection per minute. Checked on CISA's ICSNPP EtherNet/IP captures
 * through `replay --config`'s pipeline with the shipped ICS rules: what crosses the WAN drops, every
 * datagram is counted in a summary, and no other action (explicit messaging, List Identity,
 * Set_Attribute_Single) is folded away.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gatewayConfigSchema } from '../../../gateway/config/schema.ts';
import { DEFAULT_STAGES } from '../../../gateway/pipeline/config.ts';
import { observations, readInputs } from '../../../gateway/replay/index.ts';
import { replayPipeline } from '../../../gateway/replay/pipeline.ts';
import type { Event } from '../../../protocols/event/schema.ts';
import { REPO_ROOT, sharedData } from '../../support/env.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const countBy = (actions: string[]) => {
  const m = new Map<string, number>();
  for (const a of actions) m.set(a, (m.get(a) ?? 0) + 1);
  return m;
};

test('default pipeline: cip.io folds into cip.io_summary per connection; no other action is folded', async (t) => {
  const files = [
    sharedData(t, 'enip', 'icsnpp', 'enip_cip_example.pcap'),
    sharedData(t, 'enip', 'icsnpp', 'multiple_service_packet_cip.pcapng'),
    sharedData(t, 'enip', 'icsnpp', 'set_attribute_single_service_cip.pcapng'),
  ];
  if (files.some((f) => f === undefined)) return;
  const inputs = files as string[];
  assert.ok(DEFAULT_STAGES.some((s) => s.name === 'cip_io'));

  // What the capture decoder observes, before any stage.
  const summary = { files: 0, frames: 0, lines: 0, events: 0, alerts: 0 };
  const observed: string[] = [];
  const ioKeys = new Set<string>();
  for (const o of observations(readInputs(inputs), {}, summary))
    for (const e of o.events) {
      observed.push(e.action);
      if (e.action === 'cip.io') ioKeys.add(`${e.device?.id}|${e.src?.ip}|${String(e.fields.connection_id)}`);
    }
  const before = countBy(observed);
  const io = before.get('cip.io') ?? 0;
  // ICSNPP's cip_io.log: 398 implicit I/O datagrams over 24 connection ids.
  assert.equal(io, 398);

  const dir = mkdtempSync(path.join(tmpdir(), 'cip-io-'));
  dirs.push(dir);
  const config = gatewayConfigSchema.parse({
    gateway: { id: 'gw-cip', data_dir: dir },
    sources: {},
    central: { endpoint: 'ws://127.0.0.1:9/link' },
    detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
  });
  const out: Event[] = [];
  const replayed = await replayPipeline(inputs, { config, write: (l) => out.push(JSON.parse(l) as Event) });
  const after_ = countBy(out.map((e) => e.action));
  const row = replayed.stages.find((s) => s.name === 'cip_io')!;
  assert.deepEqual(
    [row.type, row.dropped, row.created, row.drop_reason],
    ['aggregate', io, ioKeys.size, 'aggregated'],
  );

  // Every datagram is in exactly one summary, one window per key here (the trace spans seconds).
  assert.equal(after_.get('cip.io') ?? 0, 0);
  const summaries = out.filter((e) => e.action === 'cip.io_summary');
  assert.equal(summaries.length, ioKeys.size);
  const aggregate = (e: Event) => e.fields.aggregate as { count: number; stats?: Record<string, unknown> };
  assert.equal(
    summaries.reduce((n, e) => n + aggregate(e).count, 0),
    io,
  );
  for (const s of summaries) {
    assert.equal(s.source, 'enip');
    assert.ok(s.device?.id.startsWith('enip:'));
    assert.ok(aggregate(s).stats?.['fields.data_bytes'], JSON.stringify(s.fields));
  }
  // What crosses the WAN drops by the datagrams folded.
  assert.ok(out.length <= observed.length - io + summaries.length + 100, `${out.length} events forwarded`);

  // No other observed action loses an event (the pipeline may add its own: new devices, alerts).
  for (const [action, n] of before) {
    if (action === 'cip.io') continue;
    assert.equal(after_.get(action) ?? 0, n, action);
  }
});
