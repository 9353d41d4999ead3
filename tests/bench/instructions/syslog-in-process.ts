/**
 * The gateway's syslog path in one process, for counting instructions (count.sh): the benchmark's
 * lines decoded as the TCP source decodes them (32 to a read), through the default pipeline with
 * the shipped ICS rules, the inventory and the baselines, to the device dashboard's history and
 * into queue records (the JSON writer), without sockets, LevelDB or the link. `node bundle.mjs
 * ROUNDS`: 20,000 lines a round. What it leaves out (the sockets, LevelDB, the forwarder, the
 * collector's helper threads) is measured end to end by the syslog benchmark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBaselines } from '../../../gateway/baselines/index.ts';
import { createDeviceHistory } from '../../../gateway/http/device-series.ts';
import { Inventory } from '../../../gateway/inventory/index.ts';
import { createStages } from '../../../gateway/pipeline/build.ts';
import { pipelineSchema } from '../../../gateway/pipeline/config.ts';
import { createPipeline } from '../../../gateway/pipeline/index.ts';
import { RecordPacker } from '../../../gateway/queue/pack.ts';
import { idList } from '../../../gateway/queue/types.ts';
import { buildRuleSet } from '../../../protocols/sigma/rules-dir.ts';
import { parseSyslog, syslogToEvent } from '../../../protocols/syslog/index.ts';
import { syslogLines } from '../support/syslog-lines.ts';

const rounds = Number(process.argv[2] ?? 4);
const LINES = 20_000;
const READ = 32;
const at = new Date('2026-12-07T12:00:00Z');
const lines = syslogLines(LINES, at).map((l) => Buffer.from(l.slice(0, -1)));
const rules = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'rules', 'ics');
const engine = buildRuleSet([process.env.HARNESS_RULES ?? rules], {}).engine;
const dir = mkdtempSync(path.join(tmpdir(), 'siem-instructions-'));
const inventory = await Inventory.open({ dir, maxDevices: 4096, saveIntervalMs: 3_600_000 });
const history = createDeviceHistory();
const packer = new RecordPacker('gw-harness', 200);
let seq = 0;
let bytes = 0;
const pipeline = createPipeline({
  sink: {
    enqueue(events) {
      const ids: string[] = [];
      for (const e of events) {
        packer.add(e, ++seq, undefined);
        ids.push(`gw-harness:${seq}`);
      }
      for (const r of packer.take()) {
        bytes += r.bytes;
        packer.recycle(r);
      }
      return { ids: idList(ids), durable: Promise.resolve() };
    },
  },
  stages: (hooks) =>
    createStages(pipelineSchema.parse(undefined), {
      dataDir: dir,
      inventory,
      baselines: createBaselines(),
      engine: () => engine,
      ...hooks,
    }),
  engine: () => engine,
  onObserved: (events) => history.observe(events),
});
const peer = { ip: '10.9.0.5', port: 40_000 };
let t = at.getTime();
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < LINES; i += READ) {
    t += 2;
    const received = new Date(t);
    const events = [];
    for (let k = i; k < Math.min(LINES, i + READ); k++) {
      const parsed = parseSyslog(lines[k]!, { now: received, maxBytes: 65_536 });
      if (!parsed.ok) throw new Error(`line ${k} did not parse: ${parsed.error.message}`);
      events.push(syslogToEvent(parsed.message, { received, peer, transport: 'tcp' }));
    }
    await pipeline.emit('syslog', events, t);
  }
  await pipeline.tick(t);
}
await inventory.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${rounds * LINES} lines, ${seq} events queued, ${bytes} bytes of records\n`);
