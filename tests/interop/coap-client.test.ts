/**
 * libcoap's command-line tools (libcoap3-bin) against the gateway's CoAP source: coap-client
 * POSTs a reading (stored and answered 2.04), is refused a method the resource does not allow
 * (4.05), and discovers /.well-known/core through the Echo challenge of RFC 9175 (libcoap repeats
 * the request with the Echo value by itself). coap-server, playing a device, is observed for
 * telemetry (RFC 7641).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { Source } from '../../gateway/pipeline/types.ts';
import { coapSourceSchema } from '../../gateway/sources/coap/config.ts';
import { createCoapSource } from '../../gateway/sources/coap/index.ts';
import { portOf, type RecordingContext, recordingContext } from '../gateway/sources/support.ts';
import { hasTool, requireTool } from '../support/env.ts';

const run = promisify(execFile);
const CLIENT = 'coap-client-notls';
const SERVER = 'coap-server-notls';
let ctx: RecordingContext;
let source: Source | undefined;
let device: ChildProcess | undefined;
let devicePort = 0;

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const client = (args: string[]) => run(CLIENT, ['-B', '5', ...args], { timeout: 15_000 });
const uri = (p: string) => `coap://127.0.0.1:${portOf(source!, 'udp')}${p}`;
const tool = (t: TestContext) => requireTool(t, CLIENT, 'libcoap3-bin');

before(async () => {
  ctx = recordingContext();
  const withDevice = hasTool(SERVER);
  if (withDevice) {
    devicePort = await freeUdpPort();
    device = spawn(SERVER, ['-A', '127.0.0.1', '-p', String(devicePort)], { stdio: 'ignore' });
  }
  source = createCoapSource(
    'coap_devices',
    coapSourceSchema.parse({
      type: 'coap',
      listen: '127.0.0.1:0',
      resources: [
        { path: '/readings/#', title: 'sensor readings from the line' },
        { path: '/logs', methods: ['POST'] },
      ],
      telemetry: [{ match: 'readings/#' }, { match: 'time', mode: 'every' }],
      observe: withDevice ? [{ endpoint: `coap://127.0.0.1:${devicePort}/time`, retry_secs: 1 }] : [],
      amplification_factor: 1.5,
    }),
    ctx,
  );
  await source.start();
});

after(async () => {
  device?.kill();
  await source?.stop();
});

describe('coap-client → gateway CoAP source', () => {
  it('POSTs a reading: 2.04 and a telemetry event with the value', async (t) => {
    if (!tool(t)) return;
    await client(['-m', 'post', '-t', '50', '-e', '{"kPa": 101.3}', uri('/readings/press-4')]);
    const e = await ctx.waitEvent(
      (x) => x.action === 'coap.telemetry' && x.fields.path === '/readings/press-4',
    );
    assert.deepEqual(e.fields.values, { kPa: 101.3 });
    assert.deepEqual(
      [e.fields.method, e.fields.response_code, e.fields.content_format],
      ['POST', '2.04', 50],
    );
  });

  it('is refused a method the resource does not allow (4.05, coap.method_not_allowed)', async (t) => {
    if (!tool(t)) return;
    const out = await client(['-m', 'delete', uri('/logs')]).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    assert.match(`${out.stdout}${out.stderr}`, /4\.05/);
    await ctx.waitEvent((x) => x.action === 'coap.method_not_allowed' && x.fields.method === 'DELETE');
  });

  it('discovers /.well-known/core through the Echo challenge (RFC 9175 §2.4)', async (t) => {
    if (!tool(t)) return;
    const { stdout } = await client(['-m', 'get', uri('/.well-known/core')]);
    assert.match(stdout, /<\/readings>;title="sensor readings from the line"/);
    const risk = await ctx.waitEvent((x) => x.action === 'coap.amplification_risk');
    assert.equal(risk.fields.mitigation, 'echo_challenge');
    const served = await ctx.waitEvent(
      (x) =>
        x.action === 'coap.request' &&
        x.fields.path === '/.well-known/core' &&
        x.fields.response_code === '2.05',
    );
    assert.equal(served.fields.echo_verified, true);
  });

  it('observes a resource on a device (coap-server) and turns notifications into telemetry', async (t) => {
    if (!requireTool(t, SERVER, 'libcoap3-bin')) return;
    const first = await ctx.waitEvent(
      (x) => x.action === 'coap.telemetry' && x.fields.observed === true,
      'first notification',
      10_000,
    );
    await ctx.waitEvent(
      (x) => x.action === 'coap.telemetry' && x.fields.observed === true && x !== first,
      'second notification',
      10_000,
    );
    assert.equal(first.fields.endpoint, `coap://127.0.0.1:${devicePort}/time`);
    await ctx.waitEvent((x) => x.action === 'coap.observe_started');
  });
  after(() => {
    if (process.env.SIEM_TEST_LOG) console.log(ctx.events.filter((x) => x.kind === 'health'));
  });
});
