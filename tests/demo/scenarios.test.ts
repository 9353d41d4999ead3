/**
 * The simulated plant through a real gateway running rules/ics, forwarding to a real central
 * (PGlite): the PLC's tank behind the gateway's Modbus proxy and poller, the MQTT sensor fleet on
 * the embedded broker, CoAP sensors on the CoAP server, a switch sending syslog, and a DNP3
 * outstation and an S7 controller behind the gateway's ot_proxy, polled through it. The devices'
 * telemetry reaches central, and every attack scenario of the registry raises each alert it
 * promises (read from the alert events central stored), while normal traffic raises none of them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type OtDevices,
  plantGatewaySources,
  type PlantGatewaySetup,
  plantTargets,
  startOtDevices,
  startPlantDevices,
} from '../../demo/plant.ts';
import { SCENARIOS } from '../../demo/scenarios/index.ts';
import type { PlantTargets } from '../../demo/scenarios/types.ts';
import { type ModbusPlc, startModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import { DEFAULT_STAGES } from '../../gateway/pipeline/config.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral, type TestGateway } from '../support/stack.ts';

const stored: Event[] = [];
let central: TestCentral;
let gateway: TestGateway;
let plc: ModbusPlc;
let ot: OtDevices;
let setup: PlantGatewaySetup;
let targets: PlantTargets;
let devices: ReturnType<typeof startPlantDevices>;

/** Titles of the alerts raised or updated by events at or after `sinceMs`. */
const alertTitles = (sinceMs = 0) =>
  new Set(
    stored
      .filter((e) => e.kind === 'alert' && Date.parse(String(e.fields.last_seen)) >= sinceMs)
      .map((e) => e.threat?.rule_name ?? ''),
  );

before(async () => {
  central = await startTestCentral({ type: 'pglite' }, { onStored: (events) => stored.push(...events) });
  plc = await startModbusPlc({ tank: { stepMs: 100, speed: 5 }, listenOnlyRecoveryMs: 1500 });
  const options = { host: '127.0.0.1', pollIntervalMs: 200, mqttSensors: 3, scryptN: 1024 };
  ot = await startOtDevices({ stepMs: 200, s7RecoverMs: 1500 });
  setup = await plantGatewaySources({ host: '127.0.0.1', port: plc.port }, options, {
    host: '127.0.0.1',
    dnp3Port: ot.outstation.port,
    dnp3Address: ot.outstation.address,
    s7Port: ot.s7.port,
  });
  gateway = await startTestGateway(
    { linkUrl: central.central.linkUrl(), gatewayId: central.gatewayId, privateKey: central.privateKey },
    {
      sources: setup.sources,
      detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
      // The OT-aware default pipeline with 2 s summaries instead of a minute's, so that they reach
      // central while the test waits.
      pipeline: {
        stages: DEFAULT_STAGES.map((s) =>
          'interval_secs' in s
            ? { ...s, interval_secs: 2 }
            : 'window_secs' in s
              ? { ...s, window_secs: 2 }
              : s,
        ),
      },
    },
  );
  targets = plantTargets(gateway.gateway, setup, options);
  devices = startPlantDevices(targets, setup, {
    hmiIntervalMs: 300,
    mqttIntervalMs: 300,
    coapIntervalMs: 300,
    syslogIntervalMs: 300,
    otIntervalMs: 300,
    coapSensors: 2,
  });
});

after(async () => {
  await devices?.stop();
  await gateway?.stop();
  await plc?.stop();
  await ot?.stop();
  await central?.central.stop();
});

describe('the plant through a gateway with rules/ics', () => {
  it('normal traffic: summaries of tank polls, HMI reads, MQTT and CoAP telemetry, and switch syslog reach central', async () => {
    const seen = await waitFor(
      () => {
        const actions = new Set(stored.map((e) => e.action));
        const hosts = new Set(stored.map((e) => e.host));
        return [
          'modbus.poll_summary',
          'modbus.read_summary',
          'mqtt.telemetry_summary',
          'coap.telemetry_summary',
        ].every((a) => actions.has(a)) && hosts.has('sw-line2-01')
          ? stored
          : undefined;
      },
      { timeoutMs: 20_000, what: 'summaries from every kind of device' },
    );
    const aggregate = (e: Event) =>
      e.fields.aggregate as {
        key: Record<string, unknown>;
        count: number;
        stats: Record<string, { max: number }>;
      };
    const sensors = await waitFor(
      () => {
        const ids = new Set(
          stored.filter((e) => e.action === 'mqtt.telemetry_summary').map((e) => e.device?.id),
        );
        return ids.size >= 3 ? ids : undefined;
      },
      { what: 'a summary from each of the 3 MQTT sensors' },
    );
    assert.deepEqual([...sensors].sort(), ['mqtt:th-01', 'mqtt:th-02', 'mqtt:th-03']);
    const reading = seen.find((e) => e.action === 'mqtt.telemetry_summary')!;
    assert.equal(
      typeof aggregate(reading).stats['fields.values.temperature']?.max,
      'number',
      JSON.stringify(reading.fields),
    );
    const coap = seen.find((e) => e.action === 'coap.telemetry_summary')!;
    assert.match(String(aggregate(coap).key['fields.path']), /^\/readings\/vib-0[12]$/);
    const poll = seen.find((e) => e.action === 'modbus.poll_summary')!;
    const readings = poll.fields.readings as Record<string, { min: number; max: number; last: number }>;
    assert.ok(readings.level!.min >= 0 && readings.level!.max <= 100, JSON.stringify(readings));
    assert.equal(readings.level_high_sp!.last, 90);
    const hmi = seen.find((e) => e.action === 'modbus.read_summary')!;
    assert.ok(
      (hmi.fields.requests as number) > 0 && hmi.fields.master === '127.0.0.1',
      JSON.stringify(hmi.fields),
    );
    assert.ok(devices.hmi.polls() > 0, 'the HMI polls through the proxy');
    assert.ok(devices.coap.acknowledged() > 0 && devices.fleet.published() > 0);
    // Normal traffic alone raises none of the scenarios' alerts.
    const expected = new Set(SCENARIOS.flatMap((s) => s.expects));
    assert.deepEqual(
      [...alertTitles()].filter((t) => expected.has(t)),
      [],
    );
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name} raises ${scenario.expects.join(' + ')}`, async () => {
      // Only alerts this run raised (or that it added to, for a rule an earlier scenario raised).
      const since = Date.now() - 10;
      const summary = await scenario.run(targets, { holdMs: 1000 });
      assert.ok(summary.length > 0);
      await waitFor(() => (scenario.expects.every((t) => alertTitles(since).has(t)) ? true : undefined), {
        timeoutMs: 15_000,
        what: `${scenario.expects.join(', ')}; alerts since the start: ${[...alertTitles(since)].join(' | ')}`,
      });
    });
  }
});

describe('the OT devices behind the ot_proxy', () => {
  it('were polled through the proxy and took the attacks: the outstation restarted, the CPU stopped', async () => {
    assert.ok(ot.outstation.restarts.cold >= 1, 'the cold restart reached the outstation');
    assert.ok(ot.s7.stops >= 1, 'the PLC STOP reached the CPU');
    const actions = new Set(stored.map((e) => e.action));
    for (const a of ['dnp3.cold_restart', 's7comm.plc_stop'])
      assert.ok(actions.has(a), `${a} stored on central; actions: ${[...actions].join(' ')}`);
    assert.ok(
      stored.some((e) => e.source === 'dnp3' && e.fields.proxy === 'ot_proxy'),
      'DNP3 events carry the proxy that saw them',
    );
  });
});
