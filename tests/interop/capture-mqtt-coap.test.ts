/**
 * Passive live capture of MQTT and CoAP with the real Debian `dumpcap` on the loopback interface:
 * a real Mosquitto broker on an ephemeral port with `mosquitto_pub`/`mosquitto_sub` as clients, and
 * libcoap's `coap-server-notls` queried by `coap-client-notls` for `/.well-known/core`. The
 * `capture` source must turn what it saw on the wire into the broker's and the CoAP server's events:
 * the connect with client id, user name and version, the `#` subscription flagged, the publish
 * with its value, and the discovery with its response code. Skipped (failing under CI=true) when
 * a tool is missing or dumpcap may not capture.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { captureSourceSchema, createCaptureSource } from '../../gateway/sources/capture/index.ts';
import { freePort, requireTool, skipMissing, waitFor } from '../support/env.ts';
import { collectingContext } from './support/modbus.ts';

function canCapture(t: TestContext): boolean {
  if (!requireTool(t, 'dumpcap', 'tshark (wireshark-common)')) return false;
  try {
    execFileSync('dumpcap', ['-i', 'lo', '-L'], { stdio: 'pipe' });
    return true;
  } catch (error) {
    skipMissing(t, {
      what: 'capture permission',
      detail: `dumpcap cannot capture on lo (${String(error)})`,
      provide: 'run as root, or give dumpcap CAP_NET_RAW (sudo dpkg-reconfigure wireshark-common)',
    });
    return false;
  }
}

const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });

function start(t: TestContext, cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGTERM');
  });
  return child;
}

test('dumpcap on lo: mosquitto clients and coap-client become the sensors’ events', async (t) => {
  if (!canCapture(t)) return;
  for (const [tool, pkg] of [
    ['mosquitto', 'mosquitto'],
    ['mosquitto_pub', 'mosquitto-clients'],
    ['coap-client-notls', 'libcoap3-bin'],
  ] as const)
    if (!requireTool(t, tool, pkg)) return;
  const mqttPort = await freePort();
  const coapPort = await freePort();
  // Without a config file, Mosquitto 2 listens on loopback only and lets anonymous clients in.
  start(t, 'mosquitto', ['-p', String(mqttPort)]);
  start(t, 'coap-server-notls', ['-A', '127.0.0.1', '-p', String(coapPort)]);
  await waitFor(
    () =>
      new Promise<true | undefined>((resolve) => {
        const s = net.connect(mqttPort, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(undefined));
      }),
    { what: 'mosquitto listening' },
  );

  const ctx = collectingContext();
  const source = createCaptureSource(
    'mirror',
    captureSourceSchema.parse({
      type: 'capture',
      interface: 'lo',
      modbus_ports: [],
      syslog_udp_ports: [],
      syslog_tcp_ports: [],
      mqtt_ports: [mqttPort],
      coap_ports: [coapPort],
    }),
    ctx,
  );
  await source.start();
  t.after(() => source.stop());

  const sub = await run('mosquitto_sub', ['-p', String(mqttPort), '-i', 'scada-1', '-t', '#', '-E']);
  assert.equal(sub.code, 0, sub.out);
  const pub = await run('mosquitto_pub', [
    ...['-p', String(mqttPort), '-i', 'sensor-7', '-u', 'alice', '-t', 'plant/tank/level', '-m', '42.5'],
  ]);
  assert.equal(pub.code, 0, pub.out);
  const coap = await waitFor(
    async () => {
      const r = await run('coap-client-notls', [
        '-m',
        'get',
        `coap://127.0.0.1:${coapPort}/.well-known/core`,
      ]);
      return r.code === 0 ? r : undefined;
    },
    { what: 'coap-client answered' },
  );
  assert.match(coap.out, /</);

  const find = (action: string, f: (fields: Record<string, unknown>) => boolean = () => true) =>
    ctx.events.find((e) => e.action === action && f(e.fields));
  const connect = await waitFor(() => find('mqtt.connect', (f) => f.client_id === 'sensor-7'), {
    what: 'captured connect',
  });
  assert.deepEqual(
    [connect.fields.username, connect.fields.protocol_version, connect.dst?.port, connect.fields.capture],
    ['alice', '3.1.1', mqttPort, 'mirror'],
  );
  const published = await waitFor(() => find('mqtt.publish', (f) => f.direction === 'to_broker'), {
    what: 'captured publish',
  });
  assert.deepEqual(
    [published.fields.topic, published.fields.values, published.fields.client_id],
    ['plant/tank/level', { value: 42.5 }, 'sensor-7'],
  );
  const all = await waitFor(() => find('mqtt.subscribe', (f) => f.topic_filter === '#'), {
    what: 'captured subscription',
  });
  assert.deepEqual([all.fields.client_id, all.fields.all_topics, all.severity], ['scada-1', true, 5]);
  const discovery = await waitFor(() => find('coap.request', (f) => f.path === '/.well-known/core'), {
    what: 'captured CoAP discovery',
  });
  assert.deepEqual([discovery.fields.method, discovery.fields.response_code], ['GET', '2.05']);
  assert.ok(find('coap.discovery'));
});
