/**
 * Passive live capture of OT traffic with the real Debian `dumpcap` on the loopback interface: a
 * DNP3 master and outstation talk over TCP on an ephemeral port configured as `dnp3_ports`, and a
 * BACnet Who-Is goes to a UDP port configured as `bacnet_ports`; the `capture` source (its BPF
 * filter built from those keys) must turn them into `dnp3.read` and `bacnet.who_is` events with the
 * outstation as the device. Skipped with the reason where dumpcap may not capture (fails under CI).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { captureSourceSchema, createCaptureSource } from '../../gateway/sources/capture/index.ts';
import { encodeFragment } from '../../protocols/dnp3/index.ts';
import { requireTool, skipMissing, waitFor } from '../support/env.ts';
import { collectingContext } from './support/modbus.ts';

function canCapture(t: TestContext): boolean {
  if (!requireTool(t, 'dumpcap', 'tshark (wireshark-common)')) return false;
  try {
    execFileSync('dumpcap', ['-i', 'lo', '-L'], { stdio: 'pipe' });
    return true;
  } catch (error) {
    skipMissing(t, {
      what: 'capture permission',
      detail: `dumpcap cannot capture on lo (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`,
      provide: 'run as root, or give dumpcap CAP_NET_RAW (sudo dpkg-reconfigure wireshark-common)',
    });
    return false;
  }
}

/** DNP3 READ class 0 (g60v1) from master 3 to outstation 4, and a null response back. */
const read = Buffer.concat(
  encodeFragment(Uint8Array.from([0xc0, 0x01, 60, 1, 0x06]), { source: 3, destination: 4, dir: true }),
);
const response = Buffer.concat(
  encodeFragment(Uint8Array.from([0xc0, 0x81, 0x00, 0x00]), { source: 4, destination: 3, dir: false }),
);
/** BVLC original-unicast, NPDU version 1 without options, unconfirmed Who-Is (service 8). */
const whoIs = Buffer.from([0x81, 0x0a, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08]);

test('dumpcap on lo: DNP3 over TCP and a BACnet Who-Is on configured ports become events', async (t) => {
  if (!canCapture(t)) return;
  const outstation = net.createServer((s) => s.on('data', () => s.write(response)));
  await new Promise<void>((resolve) => outstation.listen(0, '127.0.0.1', resolve));
  t.after(() => outstation.close());
  const dnp3Port = (outstation.address() as net.AddressInfo).port;
  const bacnetSink = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => bacnetSink.bind(0, '127.0.0.1', resolve));
  t.after(() => bacnetSink.close());
  const bacnetPort = bacnetSink.address().port;

  const ctx = collectingContext();
  const source = createCaptureSource(
    'mirror',
    captureSourceSchema.parse({
      type: 'capture',
      interface: 'lo',
      modbus_ports: [],
      mqtt_ports: [],
      coap_ports: [],
      syslog_udp_ports: [],
      syslog_tcp_ports: [],
      s7comm_ports: [],
      enip_ports: [],
      opcua_ports: [],
      dnp3_ports: [dnp3Port],
      bacnet_ports: [bacnetPort],
    }),
    ctx,
  );
  await source.start();
  t.after(() => source.stop());

  const master = net.connect(dnp3Port, '127.0.0.1');
  t.after(() => master.destroy());
  await new Promise<void>((resolve) => master.once('connect', resolve));
  master.write(read);
  await new Promise<void>((resolve) => master.once('data', () => resolve()));
  await new Promise<void>((resolve) => bacnetSink.send(whoIs, bacnetPort, '127.0.0.1', () => resolve()));

  const request = await waitFor(() => ctx.events.find((e) => e.action === 'dnp3.read'), {
    what: 'captured DNP3 read',
  });
  assert.deepEqual(
    [request.device?.id, request.dst?.port, request.fields.capture, request.fields.transport],
    ['dnp3:127.0.0.1/4', dnp3Port, 'mirror', 'tcp'],
  );
  const answer = await waitFor(() => ctx.events.find((e) => e.action === 'dnp3.response'), {
    what: 'captured DNP3 response',
  });
  assert.equal(answer.fields.request_frame, request.fields.frame);
  const who = await waitFor(() => ctx.events.find((e) => e.action === 'bacnet.who_is'), {
    what: 'captured BACnet Who-Is',
  });
  assert.equal(who.dst?.port, bacnetPort);
});
