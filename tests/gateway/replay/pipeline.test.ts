/**
 * `siem-gateway replay --config` runs the gateway's own pipeline on the file's clock: a real
 * benign capture (ITI: masters polling and writing one PLC) is learned with `--learn`, then the PLC
 * — only ever a Modbus server — sends a write of its own (a second capture, built here): a
 * `baseline.role_change` and its T0848/T0855 alert, in the gateway's alert shape with the frame
 * and file of its evidence; reads are summarised; the per-stage summary says why. And the same
 * capture fed to a live gateway and to replay raises the same alerts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { gatewayConfigSchema } from '../../../gateway/config/schema.ts';
import { startGateway } from '../../../gateway/index.ts';
import { replayPipeline } from '../../../gateway/replay/pipeline.ts';
import { createCaptureDecoder } from '../../../gateway/sources/capture/decoder.ts';
import { type Event, parseEvent } from '../../../protocols/event/schema.ts';
import { iterateCapture } from '../../../protocols/pcap/index.ts';
import { REPO_ROOT, sharedData } from '../../support/env.ts';
import { ethernet, ipv4, pcapFile, TCP, tcp } from '../../protocols/pcap/builders.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'replay-pipeline-'));
  dirs.push(d);
  return d;
};

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

/** One Modbus/TCP exchange on a fresh connection: handshake, request, response (Ethernet). */
function exchange(master: string, server: string, port: number, request: number[], response: number[]) {
  const frame = (
    src: string,
    dst: string,
    sp: number,
    dp: number,
    seq: number,
    flags: number,
    data: number[],
    ack = 0,
  ) => ethernet(0x0800, ipv4(src, dst, 6, tcp(sp, dp, seq, flags, new Uint8Array(data), ack)));
  return [
    frame(master, server, port, 502, 1000, TCP.SYN, []),
    frame(server, master, 502, port, 5000, TCP.SYN | TCP.ACK, [], 1001),
    frame(master, server, port, 502, 1001, TCP.ACK, [], 5001),
    frame(master, server, port, 502, 1001, TCP.PSH | TCP.ACK, request, 5001),
    frame(server, master, 502, port, 5001, TCP.PSH | TCP.ACK, response, 1001 + request.length),
  ];
}

/** The PLC 192.168.0.20 writes coil 7 of 192.168.0.30 (FC 5), a minute after the benign capture. */
function rogueWriteCapture(file: string) {
  const mbap = (tid: number, pdu: number[]) => [tid >> 8, tid & 255, 0, 0, 0, pdu.length + 1, 1, ...pdu];
  const write = [5, 0, 7, 0xff, 0];
  const frames = exchange('192.168.0.20', '192.168.0.30', 50123, mbap(9, write), mbap(9, write));
  const start = 1_493_388_900;
  writeFileSync(
    file,
    pcapFile(
      frames.map((data, i) => ({ sec: start, frac: i * 1000, data })),
      { linkType: 1 },
    ),
  );
}

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);

test('replay --config --learn: a PLC that starts commanding another device is a new master, with its evidence frame', async (t) => {
  const benign = sharedData(t, 'modbus', 'iti', 'modbus_test.pcap');
  if (!benign) return;
  const dir = tempDir();
  const rogue = path.join(dir, 'rogue.pcap');
  rogueWriteCapture(rogue);
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `gateway: { id: plant-gw-7, data_dir: ${dir} }\nsources: {}\ncentral: { endpoint: "ws://127.0.0.1:1/link" }\ndetection: { rules_dirs: [${path.join(REPO_ROOT, 'rules', 'ics')}] }\n`,
  );
  const r = await replay(['--config', config, '--learn', '130', benign, rogue]);
  assert.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout);
  for (const e of out) assert.ok(parseEvent(e).ok, JSON.stringify(e));
  out.forEach((e, i) => assert.equal(e.seq, i + 1));
  const change = out.filter((e) => e.action === 'baseline.role_change');
  assert.equal(change.length, 1, 'one role change');
  assert.equal(change[0]!.fields.peer, '192.168.0.20');
  const alerts = out.filter((e) => e.kind === 'alert');
  const rogueMaster = alerts.find(
    (a) => a.threat?.techniques.includes('T0848') && a.threat.techniques.includes('T0855'),
  );
  assert.ok(rogueMaster, `a T0848/T0855 alert among ${alerts.map((a) => a.message).join('; ')}`);
  // The alert names its evidence by frame and file: the role change, whose own trigger is frame 4.
  const evidence = rogueMaster.fields.evidence as Array<{ id: string }>;
  assert.deepEqual(
    evidence.map((e) => e.id),
    rogueMaster.fields.event_ids,
  );
  assert.ok(
    evidence.every((e) => out.some((o) => o.id === e.id)),
    'every evidence event was forwarded',
  );
  const write = out.find((e) => e.action === 'modbus.write_single_coil' && e.fields.direction === 'request');
  assert.deepEqual([write?.fields.frame, write?.fields.file], [4, 'rogue.pcap']);
  // Nothing during or right after learning: every deviation is about the rogue capture (its new
  // device's first peer and command too).
  const deviations = out.filter((e) => e.action.startsWith('baseline.'));
  assert.ok(deviations.length >= 1);
  for (const d of deviations) assert.ok(Date.parse(d.ts) >= 1_493_388_900_000, JSON.stringify(d));
  // Reads were summarised, and the summary on stderr says so per stage.
  assert.ok(out.some((e) => e.action === 'modbus.read_summary'));
  assert.ok(out.length < 200, `${out.length} lines forwarded from 2,257 frames`);
  assert.match(r.stderr, /\d+ events observed, \d+ forwarded \(\d+ bytes\), \d+ alerts/);
  assert.match(r.stderr, /^modbus_reads\s+modbus_reads\s+\d+\s+\d+\s+\d+\s+\d+\s+aggregated$/m);
  assert.match(r.stderr, /^detect\s+detect\s+\d+/m);
});

test('the same capture through a live gateway and through replay raises the same alerts', async (t) => {
  const pcap = sharedData(t, 'modbus', 'icsnpp', 'modbus_example.pcap');
  if (!pcap) return;
  const dir = tempDir();
  const config = gatewayConfigSchema.parse({
    gateway: { id: 'gw-parity', data_dir: dir },
    sources: {},
    central: { endpoint: 'ws://127.0.0.1:9/link', initial_backoff_secs: 5, max_backoff_secs: 5 },
    detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
    http: { listen: '127.0.0.1:0' },
  });
  // Replay.
  const replayed: Event[] = [];
  await replayPipeline([pcap], { config, write: (l) => replayed.push(JSON.parse(l) as Event) });
  // Live: the same frames, decoded as the capture source decodes them, into a running gateway.
  const privateKey = generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const gateway = await startGateway(config, {
    privateKey,
    logger: pino({ level: 'silent' }),
    processMetrics: false,
    printSecret: () => undefined,
  });
  try {
    const decoder = createCaptureDecoder({});
    let frame = 0;
    for (const item of iterateCapture(readFileSync(pcap))) {
      if (item.type === 'error') continue;
      frame++;
      const events = decoder.packet(item.packet.linkType, item.packet.data, { frame, ts: item.packet.ts });
      if (events.length > 0) await gateway.ingest('capture', events);
    }
    await gateway.ingest('capture', decoder.flush());
    // What the live gateway queued, alerts included (they close on its 1 s timer and on stop).
    await gateway.pipeline.tick(Date.now(), { final: true, flushDetection: true });
    const queued: Event[] = [];
    for (const lane of ['alert', 'security', 'telemetry'] as const)
      for (const record of await gateway.queue.read(lane, null, 10_000)) queued.push(...record.events);
    const live = queued;
    const frames = (events: Event[]) => new Map(events.map((e) => [e.id, e.fields.frame]));
    const shape = (events: Event[]) => {
      const where = frames(events);
      return events
        .filter((e) => e.kind === 'alert')
        .map((a) => ({
          action: a.action,
          rule: a.threat?.rule_id,
          techniques: a.threat?.techniques,
          entity: a.fields.entity,
          count: a.fields.count,
          // Evidence by where it came from (ids differ: the live queue numbers health events too).
          evidence: (a.fields.event_ids as string[]).map((id) => where.get(id) ?? 'not forwarded'),
        }))
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    };
    const expected = shape(replayed);
    assert.ok(expected.length >= 4, `replay raised ${expected.length} alerts`);
    assert.deepEqual(shape(live), expected);
  } finally {
    await gateway.stop();
  }
});
