/**
 * Passive live capture with the real Debian `dumpcap` on the loopback interface: mbpoll (Debian
 * mbpoll) talks Modbus/TCP to the gateway's PLC simulator on an ephemeral port, and a syslog
 * datagram goes to another; the `capture` source, filtering on those ports, must turn what it
 * saw on the wire into the same events the proxy and the syslog listener produce (request and
 * response with values, the write with its value, the syslog message), and stopping the source
 * must stop dumpcap. Where dumpcap may not capture (no CAP_NET_RAW), the test is skipped with the
 * reason, and fails under CI=true. A capture that cannot start fails start() with dumpcap's reason.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { test, type TestContext } from 'node:test';
import { startModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import { captureSourceSchema, createCaptureSource } from '../../gateway/sources/capture/index.ts';
import { requireTool, skipMissing, waitFor } from '../support/env.ts';
import { collectingContext, mbpoll } from './support/modbus.ts';

/** Can dumpcap open `lo` here? (`-L` opens the interface to list its link types.) */
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

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('dumpcap on lo: Modbus/TCP from mbpoll and a syslog datagram become events', async (t) => {
  if (!canCapture(t) || !requireTool(t, 'mbpoll', 'mbpoll')) return;
  const plc = await startModbusPlc();
  t.after(() => plc.stop());
  const sink = dgram.createSocket('udp4'); // a bound receiver, so the datagram is not refused
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  t.after(() => sink.close());
  const syslogPort = sink.address().port;

  const ctx = collectingContext();
  const source = createCaptureSource(
    'mirror',
    captureSourceSchema.parse({
      type: 'capture',
      interface: 'lo',
      modbus_ports: [plc.port],
      syslog_udp_ports: [syslogPort],
      syslog_tcp_ports: [],
    }),
    ctx,
  );
  await source.start();
  let stopped = false;
  t.after(() => (stopped ? undefined : source.stop()));
  const pids = execFileSync('pgrep', ['-P', String(process.pid), 'dumpcap'])
    .toString()
    .trim()
    .split('\n');
  assert.equal(pids.length, 1, 'one dumpcap runs');

  const r = await mbpoll(plc.port, ['-a', '1', '-r', '10', '-c', '3', '-t', '4', '127.0.0.1']);
  assert.equal(r.code, 0, r.stderr);
  const w = await mbpoll(plc.port, ['-a', '1', '-r', '7', '-t', '4', '127.0.0.1', '555']);
  assert.equal(w.code, 0, w.stderr);
  const line = '<38>Jan 12 06:30:01 hmi-2 sshd[1204]: Failed password for root from 10.0.0.9 port 50122 ssh2';
  await new Promise<void>((resolve) => sink.send(line, syslogPort, '127.0.0.1', () => resolve()));

  const find = (action: string, direction?: string) =>
    ctx.events.find(
      (e) => e.action === action && (direction === undefined || e.fields.direction === direction),
    );
  const read = await waitFor(() => find('modbus.read_holding_registers', 'response'), {
    what: 'captured read',
  });
  assert.deepEqual(read.fields.values, [10, 11, 12]);
  assert.deepEqual(
    [read.fields.capture, read.time_source, read.src?.port, read.device?.id],
    ['mirror', 'gateway', plc.port, 'modbus:127.0.0.1/1'],
  );
  assert.equal(typeof read.fields.request_frame, 'number');
  const write = await waitFor(() => find('modbus.write_single_register', 'request'), {
    what: 'captured write',
  });
  assert.deepEqual([write.fields.address, write.fields.values, write.kind], [7, [555], 'security']);
  const syslog = await waitFor(() => ctx.events.find((e) => e.source === 'syslog'), {
    what: 'captured syslog',
  });
  assert.deepEqual([syslog.host, syslog.fields.transport, syslog.fields.capture], ['hmi-2', 'udp', 'mirror']);

  await source.stop();
  stopped = true;
  assert.equal(alive(Number(pids[0])), false, 'dumpcap has exited');
});

test('a capture that cannot start reports dumpcap’s reason', async (t) => {
  if (!requireTool(t, 'dumpcap', 'tshark (wireshark-common)')) return;
  const ctx = collectingContext();
  const source = createCaptureSource(
    'nowhere',
    captureSourceSchema.parse({ type: 'capture', interface: 'no-such-if0' }),
    ctx,
  );
  await assert.rejects(
    source.start(),
    /dumpcap could not capture on no-such-if0: .*(no-such-if0|No such device)/,
  );
  await source.stop();
});
