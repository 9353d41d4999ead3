/**
 * `siem-gateway replay --rules rules/ics` as a user runs it, on one real trace per OT protocol the
 * capture decoder follows (DNP3, S7comm, EtherNet/IP-CIP, BACnet/IP, OPC UA): the attack in the
 * trace comes out as its action, at exactly the frames tshark decodes as that function
 * (expected-tshark/*.csv, read independently of our codecs), with responses naming their request's
 * frame, and the protocol's shipped rule raises its alert on those frames. A benign DNP3 trace
 * (polling, select/operate) raises none. The per-protocol codecs are tested in tests/protocols.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import { readTsharkCsv } from '../../protocols/syslog/traces.ts';
import { REPO_ROOT, sharedData } from '../../support/env.ts';

interface Line {
  type?: string;
  action?: string;
  source?: string;
  rule_id?: string;
  events?: Array<{ frame?: number }>;
  device?: { id: string; protocol_id?: string };
  fields?: Record<string, unknown>;
}

function replay(file: string): Promise<{ code: number; lines: Line[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        path.join(REPO_ROOT, 'bin', 'siem-gateway.js'),
        'replay',
        '--rules',
        path.join(REPO_ROOT, 'rules', 'ics'),
        file,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          lines: stdout
            .trim()
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as Line),
          stderr,
        }),
    );
  });
}

/** Frames where tshark read `column` as one of `values` (a frame may list several, comma separated). */
function tsharkFrames(csv: string, column: string, values: string[], where?: [string, string]): number[] {
  return readTsharkCsv(csv)
    .filter((r) => (r[column] ?? '').split(',').some((v) => values.includes(v)))
    .filter((r) => !where || (r[where[0]] ?? '').split(',').includes(where[1]))
    .map((r) => Number(r['frame.number']));
}

const framesOf = (lines: Line[], pred: (l: Line) => boolean) =>
  lines.filter(pred).map((l) => l.fields?.frame as number);

/** The frames that are evidence of `ruleId`'s alerts. */
const alertFrames = (lines: Line[], ruleId: string) =>
  new Set(
    lines
      .filter((l) => l.type === 'alert' && l.rule_id === ruleId)
      .flatMap((a) => a.events!.map((e) => e.frame)),
  );

function events(lines: Line[]): Line[] {
  const out = lines.filter((l) => l.type !== 'alert');
  for (const e of out) assert.ok(parseEvent(e).ok, JSON.stringify(e));
  return out;
}

test('DNP3 (Zeek dnp3.pcap): cold and warm restarts at tshark frames, the restart rule alerts', async (t) => {
  const pcap = sharedData(t, 'dnp3', 'zeek', 'dnp3.pcap');
  const csv = sharedData(t, 'dnp3', 'zeek', 'expected-tshark', 'dnp3.dnp3.csv');
  if (!pcap || !csv) return;
  const r = await replay(pcap);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.lines);
  // IEEE 1815 §4.4.11: 13 COLD_RESTART, 14 WARM_RESTART.
  const restarts = tsharkFrames(csv, 'dnp3.al.func', ['13', '14']);
  assert.deepEqual(restarts, [70, 76, 143, 146]);
  assert.deepEqual(
    framesOf(ev, (e) => e.action === 'dnp3.cold_restart' || e.action === 'dnp3.warm_restart'),
    restarts,
  );
  const restart = ev.find((e) => e.fields?.frame === 70)!;
  assert.equal(restart.device?.id, 'dnp3:10.0.0.3/4');
  assert.equal(restart.fields?.transport, 'tcp');
  // Each restart's response names its request's frame.
  for (const f of restarts)
    assert.ok(
      ev.some((e) => e.fields?.request_frame === f),
      `a response to frame ${f}`,
    );
  const alerted = alertFrames(r.lines, '0c95aa93-cf06-49be-8dae-b9ff84c78dc7');
  for (const f of restarts) assert.ok(alerted.has(f), `restart alert on frame ${f}`);
  assert.match(r.stderr, /214 frames, 0 lines, 117 events/);
});

test('DNP3 benign (ICSNPP dnp3_example.pcap): reads, select/operate and responses, no alert', async (t) => {
  const pcap = sharedData(t, 'dnp3', 'icsnpp', 'dnp3_example.pcap');
  if (!pcap) return;
  const r = await replay(pcap);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.lines);
  assert.ok(ev.length > 700, `${ev.length} events`);
  assert.ok(ev.every((e) => e.source === 'dnp3'));
  assert.deepEqual(
    r.lines.filter((l) => l.type === 'alert').map((a) => a.rule_id),
    [],
  );
});

test('S7comm (ICSNPP snap7.pcap): the CPU stop at its tshark frame, answered, and the stop rule alerts', async (t) => {
  const pcap = sharedData(t, 's7comm', 'icsnpp', 'snap7.pcap');
  const csv = sharedData(t, 's7comm', 'icsnpp', 'expected-tshark', 'snap7.s7comm.csv');
  if (!pcap || !csv) return;
  const r = await replay(pcap);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.lines);
  // Job (ROSCTR 1) with function 0x29, PLC Stop.
  const stops = tsharkFrames(csv, 's7comm.param.func', ['0x29'], ['s7comm.header.rosctr', '1']);
  assert.deepEqual(stops, [57]);
  assert.deepEqual(
    framesOf(ev, (e) => e.action === 's7comm.plc_stop' && e.fields?.direction === 'request'),
    stops,
  );
  assert.ok(ev.some((e) => e.action === 's7comm.plc_stop' && e.fields?.request_frame === 57));
  assert.equal(ev.find((e) => e.fields?.frame === 57)?.device?.id, 's7comm:134.217.61.211');
  assert.ok(alertFrames(r.lines, '6b1d7e40-5c1e-4c3b-9a57-73c0f1a2b901').has(57));
});

test('EtherNet/IP (ICSNPP set_attribute_single): Set_Attribute_Single on Identity, the CIP rule alerts', async (t) => {
  const pcap = sharedData(t, 'enip', 'icsnpp', 'set_attribute_single_service_cip.pcapng');
  const csv = sharedData(t, 'enip', 'icsnpp', 'expected-tshark', 'set_attribute_single_service_cip.enip.csv');
  if (!pcap || !csv) return;
  const r = await replay(pcap);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.lines);
  const sets = tsharkFrames(csv, 'cip.service', ['0x10'], ['cip.class', '0x01']);
  assert.deepEqual(sets, [1]);
  assert.deepEqual(
    framesOf(ev, (e) => e.action === 'cip.set_attribute_single'),
    sets,
  );
  assert.equal(ev[0]!.device?.id, 'enip:10.100.40.11');
  assert.ok(alertFrames(r.lines, 'b20b8c85-9389-4b04-8036-8d7794cdf792').has(1));
});

test('BACnet/IP (ICSNPP bacnet_example.pcap): every ReinitializeDevice request, the reinitialize rule alerts', async (t) => {
  const pcap = sharedData(t, 'bacnet', 'icsnpp', 'bacnet_example.pcap');
  const csv = sharedData(t, 'bacnet', 'icsnpp', 'expected-tshark', 'bacnet_example.bacnet.csv');
  if (!pcap || !csv) return;
  const r = await replay(pcap);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.lines);
  // Confirmed-Request PDUs (type 0) of service 20, reinitializeDevice (clause 21).
  const reinit = tsharkFrames(csv, 'bacapp.confirmed_service', ['20'], ['bacapp.type', '0']);
  assert.equal(reinit.length, 120);
  assert.deepEqual(
    framesOf(ev, (e) => e.action === 'bacnet.reinitialize_device' && e.fields?.direction === 'request'),
    reinit,
  );
  const alerted = alertFrames(r.lines, '18ad3b5e-53ea-4cb4-a878-4d50d07394b4');
  assert.ok(alerted.size > 0 && [...alerted].every((f) => reinit.includes(f!)), [...alerted].join(','));
});

test('OPC UA (ICSNPP open62541 mainloop): session over SecurityPolicy None and writes, their rules alert', async (t) => {
  const pcap = sharedData(t, 'opcua', 'icsnpp', 'open62541_client-server_mainloop.pcap');
  const csv = sharedData(
    t,
    'opcua',
    'icsnpp',
    'expected-tshark',
    'open62541_client-server_mainloop.opcua.csv',
  );
  if (!pcap || !csv) return;
  const r = await replay(pcap);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.lines);
  // Service node ids (OPC 10000-6 A.3): 467 ActivateSessionRequest, 673 WriteRequest.
  const activate = tsharkFrames(csv, 'opcua.servicenodeid.numeric', ['467']);
  const writes = tsharkFrames(csv, 'opcua.servicenodeid.numeric', ['673']);
  assert.deepEqual([activate, writes], [[49], [93, 97]]);
  const requests = (action: string) =>
    framesOf(ev, (e) => e.action === action && e.fields?.direction === 'request');
  assert.deepEqual(requests('opcua.activate_session'), activate);
  assert.deepEqual(requests('opcua.write'), writes);
  const session = ev.find((e) => e.fields?.frame === 49)!;
  assert.equal(session.fields?.security_policy, 'None');
  assert.equal(session.device?.protocol_id, 'urn:open62541.server.application');
  assert.ok(alertFrames(r.lines, '94fe3a93-7b6f-451a-90fa-0489342c6503').has(49));
  assert.ok(alertFrames(r.lines, '09bb881b-196b-4a3f-8208-2d651734c1f8').has(93));
});

test('off the standard ports: DNP3 on 20001 found by its link header, OPC UA on 48010 by its HEL', async (t) => {
  const dnp3 = sharedData(t, 'dnp3', 'zeek', 'dnp3_read_p20001.pcap');
  const dnp3Csv = sharedData(t, 'dnp3', 'zeek', 'expected-tshark', 'dnp3_read_p20001.dnp3.csv');
  const opcua = sharedData(
    t,
    'opcua',
    'icsnpp',
    'open62541_client-server_mainloop-not-localhost-non-standard-port.pcap',
  );
  const opcuaCsv = sharedData(
    t,
    'opcua',
    'icsnpp',
    'expected-tshark',
    'open62541_client-server_mainloop-not-localhost-non-standard-port.opcua.csv',
  );
  if (!dnp3 || !dnp3Csv || !opcua || !opcuaCsv) return;
  const d = await replay(dnp3);
  assert.equal(d.code, 0, d.stderr);
  // Every application fragment tshark reads (READ 1, RESPONSE 129), as one event each.
  const fragments = tsharkFrames(dnp3Csv, 'dnp3.al.func', ['1', '129']);
  assert.deepEqual(
    events(d.lines).map((e) => [e.action, e.fields?.frame]),
    fragments.map((f, i) => [i === 0 ? 'dnp3.read' : 'dnp3.response', f]),
  );
  const o = await replay(opcua);
  assert.equal(o.code, 0, o.stderr);
  const ev = events(o.lines);
  const hello = tsharkFrames(opcuaCsv, 'opcua.transport.type', ['HEL']);
  const writes = tsharkFrames(opcuaCsv, 'opcua.servicenodeid.numeric', ['673']);
  assert.deepEqual(
    framesOf(ev, (e) => e.action === 'opcua.hello'),
    hello,
  );
  assert.deepEqual(
    framesOf(ev, (e) => e.action === 'opcua.write' && e.fields?.direction === 'request'),
    writes,
  );
  assert.ok(writes.length > 0);
  assert.equal(ev.find((e) => e.action === 'opcua.hello')?.device?.id, 'opcua:192.168.224.102:48010');
});
