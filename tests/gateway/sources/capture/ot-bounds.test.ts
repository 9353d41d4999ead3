/**
 * The OT followers of the capture decoder (gateway/sources/capture/ot.ts) hold per-connection
 * state, so a mirror port full of short or hostile connections must not grow it: DNP3,
 * EtherNet/IP, S7comm, OPC UA and Modbus sessions are capped (the oldest goes), and freed when
 * their connection ends with FIN or RST from either side, half-built fragments included.
 * Also: a client whose ephemeral port is another protocol's server port is read as the protocol
 * of the port it connects to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCaptureDecoder } from '../../../../gateway/sources/capture/decoder.ts';
import { createOtCapture } from '../../../../gateway/sources/capture/ot.ts';
import { encodeFragment } from '../../../../protocols/dnp3/index.ts';
import type { PendingEvent } from '../../../../protocols/event/schema.ts';
import { decodePacket, LINKTYPE } from '../../../../protocols/pcap/index.ts';
import { ack, chunk, Enc, hello, openRequest } from '../../../protocols/opcua/frames.ts';
import { concat, ipv4, TCP, tcp } from '../../../protocols/pcap/builders.ts';

const OUTSTATION = '10.0.0.3';

function harness(maxOtConnections: number) {
  const ot = createOtCapture({ maxOtConnections });
  const events: PendingEvent[] = [];
  const seqs = new Map<string, number>();
  let frame = 0;
  const send = (src: string, sport: number, dst: string, dport: number, flags: number, data: Uint8Array) => {
    const key = `${src}:${sport}>${dst}:${dport}`;
    const seq = seqs.get(key) ?? 1000;
    seqs.set(key, (seq + data.length + (flags & (TCP.SYN | TCP.FIN) ? 1 : 0)) >>> 0);
    const decoded = decodePacket(LINKTYPE.RAW, ipv4(src, dst, 6, tcp(sport, dport, seq, flags, data)));
    assert.ok(decoded.ok);
    frame++;
    return ot.packet(decoded.packet, { frame, ts: new Date(Date.UTC(2024, 0, 1) + frame) }, events);
  };
  return { ot, events, send };
}

/** A DNP3 READ of class 0 (g60v1, all objects) from master 3 to outstation 4, as link frames. */
const read = concat(
  ...encodeFragment(Uint8Array.from([0xc0, 0x01, 60, 1, 0x06]), { source: 3, destination: 4, dir: true }),
);

/** EtherNet/IP RegisterSession request (CIP Vol. 2 §2-4.4): header then version 1, options 0. */
const registerSession = Uint8Array.from([
  0x65, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x00,
]);

/** TPKT + COTP connection request (the first bytes of any S7 connection). */
const cotpCr = Uint8Array.from([
  3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 10, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2,
]);

test('DNP3: sessions are capped, and FIN or RST frees a connection, half-built fragment included', () => {
  const { ot, events, send } = harness(8);
  for (let i = 0; i < 20; i++)
    assert.ok(send(`10.0.1.${i}`, 40_000, OUTSTATION, 20_000, TCP.ACK | TCP.PSH, read));
  assert.equal(events.filter((e) => e.action === 'dnp3.read').length, 20);
  assert.equal(ot.connections().dnp3, 8);
  // Half a link frame: the session holds it until the connection ends.
  send('10.0.2.1', 40_001, OUTSTATION, 20_000, TCP.ACK | TCP.PSH, read.subarray(0, 7));
  assert.equal(ot.connections().dnp3, 8);
  send('10.0.2.1', 40_001, OUTSTATION, 20_000, TCP.ACK | TCP.RST, new Uint8Array(0));
  assert.equal(ot.connections().dnp3, 7);
  // FIN from the outstation's side frees the same connection as one from the master's.
  send(OUTSTATION, 20_000, '10.0.1.19', 40_000, TCP.ACK | TCP.FIN, new Uint8Array(0));
  send('10.0.1.18', 40_000, OUTSTATION, 20_000, TCP.ACK | TCP.FIN, new Uint8Array(0));
  assert.equal(ot.connections().dnp3, 5);
});

test('EtherNet/IP: sessions are capped, and FIN or RST frees a connection', () => {
  const { ot, events, send } = harness(4);
  for (let i = 0; i < 10; i++)
    assert.ok(send(`10.0.3.${i}`, 50_000, '10.0.0.50', 44_818, TCP.ACK | TCP.PSH, registerSession));
  assert.equal(events.filter((e) => e.action === 'enip.register_session').length, 10);
  assert.equal(ot.connections().enip, 4);
  send('10.0.3.9', 50_000, '10.0.0.50', 44_818, TCP.ACK | TCP.RST, new Uint8Array(0));
  send('10.0.0.50', 44_818, '10.0.3.8', 50_000, TCP.ACK | TCP.FIN, new Uint8Array(0));
  assert.equal(ot.connections().enip, 2);
});

test('S7comm: sessions are capped at maxOtConnections', () => {
  const { ot, send } = harness(4);
  for (let i = 0; i < 10; i++) send(`10.0.4.${i}`, 50_000, '10.0.0.60', 102, TCP.ACK | TCP.PSH, cotpCr);
  assert.equal(ot.connections().s7comm, 4);
});

test('a client port that is another protocol server port: the port connected to decides', () => {
  const { ot, events, send } = harness(8);
  // A DNP3 master whose ephemeral port is 44818 (EtherNet/IP's): SYN first, then data both ways.
  send('10.0.5.1', 44_818, OUTSTATION, 20_000, TCP.SYN, new Uint8Array(0));
  send(OUTSTATION, 20_000, '10.0.5.1', 44_818, TCP.SYN | TCP.ACK, new Uint8Array(0));
  send('10.0.5.1', 44_818, OUTSTATION, 20_000, TCP.ACK | TCP.PSH, read);
  assert.deepEqual(
    events.map((e) => [e.action, e.device?.id]),
    [['dnp3.read', 'dnp3:10.0.0.3/4']],
  );
  assert.equal(ot.connections().enip, 0);
  // Traffic that is no OT protocol is left to the other decoders.
  assert.equal(
    send('10.0.5.2', 40_000, '10.0.0.70', 8080, TCP.ACK | TCP.PSH, Uint8Array.from([1, 2, 3])),
    false,
  );
});

test('S7comm: FIN or RST from either side frees a connection, open requests and fragments included', () => {
  const { ot, events, send } = harness(16);
  // A read var request (TPKT, COTP DT, S7 job 0x04) the PLC never answers: an open request.
  const readVar = Uint8Array.from([
    3, 0, 0, 31, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0, 2, 0, 14, 0, 0, 4, 1, 0x12, 0x0a, 0x10, 2, 0, 4, 0, 1, 0x84,
    0, 0, 0x10,
  ]);
  for (let i = 0; i < 2000; i++) {
    const client = `10.1.${i >> 8}.${i & 255}`;
    send(client, 50_000, '10.0.0.60', 102, TCP.ACK | TCP.PSH, cotpCr);
    send(client, 50_000, '10.0.0.60', 102, TCP.ACK | TCP.PSH, readVar);
    assert.equal(ot.connections().s7comm, 1);
    if (i % 3 === 0) send(client, 50_000, '10.0.0.60', 102, TCP.ACK | TCP.RST, new Uint8Array(0));
    else if (i % 3 === 1) send('10.0.0.60', 102, client, 50_000, TCP.ACK | TCP.FIN, new Uint8Array(0));
    else send(client, 50_000, '10.0.0.60', 102, TCP.ACK | TCP.FIN | TCP.PSH, new Uint8Array(0));
    assert.equal(ot.connections().s7comm, 0, `connection ${i}`);
  }
  assert.equal(events.filter((e) => e.action === 's7comm.read_var').length, 2000);
});

test('OPC UA: FIN or RST frees a connection and its half-built message; the count stays capped', () => {
  const { ot, send } = harness(16);
  const part = chunk(
    'MSG',
    Uint8Array.from([...new Enc().u32(3).u32(1).u32(1).u32(1).bytes(), 1, 2, 3]),
    'C',
  );
  for (let i = 0; i < 2000; i++) {
    const client = `10.2.${i >> 8}.${i & 255}`;
    send(client, 50_000, '10.0.0.80', 4840, TCP.ACK | TCP.PSH, hello());
    send('10.0.0.80', 4840, client, 50_000, TCP.ACK | TCP.PSH, ack());
    send(client, 50_000, '10.0.0.80', 4840, TCP.ACK | TCP.PSH, openRequest());
    send(client, 50_000, '10.0.0.80', 4840, TCP.ACK | TCP.PSH, part);
    assert.equal(ot.connections().opcua, 1);
    if (i % 2 === 0) send(client, 50_000, '10.0.0.80', 4840, TCP.ACK | TCP.FIN, new Uint8Array(0));
    else send('10.0.0.80', 4840, client, 50_000, TCP.ACK | TCP.RST, new Uint8Array(0));
    assert.equal(ot.connections().opcua, 0, `connection ${i}`);
  }
  for (let i = 0; i < 100; i++) send(`10.3.0.${i}`, 50_000, '10.0.0.80', 4840, TCP.ACK | TCP.PSH, hello());
  assert.equal(ot.connections().opcua, 16);
});

test('Modbus: connections are capped, and FIN or RST frees one, its open transactions with it', () => {
  const decoder = createCaptureDecoder({ maxOtConnections: 8 });
  const seqs = new Map<string, number>();
  let frame = 0;
  const send = (src: string, sport: number, dst: string, dport: number, flags: number, data: Uint8Array) => {
    const key = `${src}:${sport}>${dst}:${dport}`;
    const seq = seqs.get(key) ?? 1000;
    seqs.set(key, (seq + data.length + (flags & TCP.FIN ? 1 : 0)) >>> 0);
    frame++;
    return decoder.packet(LINKTYPE.RAW, ipv4(src, dst, 6, tcp(sport, dport, seq, flags, data)), {
      frame,
      ts: new Date(Date.UTC(2024, 0, 1) + frame),
    });
  };
  // FC 3, read 10 holding registers from address 0 (MBAP transaction 1, unit 1).
  const read = Uint8Array.from([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10]);
  const answer = Uint8Array.from([0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 7]);
  for (let i = 0; i < 2000; i++) {
    const master = `10.4.${i >> 8}.${i & 255}`;
    send(master, 40_000, '10.0.0.90', 502, TCP.ACK | TCP.PSH, read);
    assert.equal(decoder.connections().modbus, 1);
    if (i % 2 === 0) send(master, 40_000, '10.0.0.90', 502, TCP.ACK | TCP.FIN, new Uint8Array(0));
    else send('10.0.0.90', 502, master, 40_000, TCP.ACK | TCP.RST, new Uint8Array(0));
    assert.equal(decoder.connections().modbus, 0, `connection ${i}`);
  }
  // A request then its answer on an open connection pairs; never closed, connections stay capped.
  send('10.5.0.1', 40_000, '10.0.0.90', 502, TCP.ACK | TCP.PSH, read);
  const [paired] = send('10.0.0.90', 502, '10.5.0.1', 40_000, TCP.ACK | TCP.PSH, answer);
  assert.equal(paired!.fields.request_frame, frame - 1);
  for (let i = 0; i < 100; i++) send(`10.6.0.${i}`, 40_000, '10.0.0.90', 502, TCP.ACK | TCP.PSH, read);
  assert.equal(decoder.connections().modbus, 8);
});
