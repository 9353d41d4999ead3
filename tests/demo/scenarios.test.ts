/**
 * The simulated plant through a real gateway running rules/ics, forwarding to a real central
 * (PGlite): the PLC's tank behind the gateway's Modbus proxy and poller, the MQTT sensor fleet on
 * the embedded broker, CoAP sensors on the CoAP server and a switch sending syslog. The devices'
 * telemetry reaches central, and every attack scenario of the registry raises each alert it
 * promises (read from the alert events central stored), while normal traffic raises none of them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  plantGatewaySources,
  type PlantGatewaySetup,
  plantTargets,
  startPlantDevices,
} from '../../demo/plant.ts';
import { SCENARIOS } from '../../demo/scenarios/index.ts';
import type { PlantTargets } from '../../demo/scenarios/types.ts';
import { type ModbusPlc, startModbusPlc } from '../../firmware-shims/simulators/modbus-plc.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { REPO_ROOT, waitFor } from '../support/env.ts';
import { startTestCentral, startTestGateway, type TestCentral, type TestGateway } from '../support/stack.ts';

const stored: Event[] = [];
let central: TestCentral;
let gateway: TestGateway;
let plc: ModbusPlc;
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
  setup = await plantGatewaySources({ host: '127.0.0.1', port: plc.port }, options);
  gateway = await startTestGateway(
    { linkUrl: central.central.linkUrl(), gatewayId: central.gatewayId, privateKey: central.privateKey },
    { sources: setup.sources, detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] } },
  );
  targets = plantTargets(gateway.gateway, setup, options);
  devices = startPlantDevices(targets, setup, {
    hmiIntervalMs: 300,
    mqttIntervalMs: 300,
    coapIntervalMs: 300,
    syslogIntervalMs: 300,
    coapSensors: 2,
  });
});

after(async () => {
  await devices?.stop();
  await gateway?.stop();
  await plc?.stop();
  await central?.central.stop();
});

describe('the plant through a gateway with rules/ics', () => {
  it('normal traffic: tank polls, MQTT and CoAP telemetry, switch syslog reach central', async () => {
    const seen = await waitFor(
      () => {
        const actions = new Set(stored.map((e) => e.action));
        const hosts = new Set(stored.map((e) => e.host));
        return ['modbus.poll', 'mqtt.telemetry', 'coap.telemetry'].every((a) => actions.has(a)) &&
          hosts.has('sw-line2-01')
          ? stored
          : undefined;
      },
      { timeoutMs: 20_000, what: 'telemetry from every kind of device' },
    );
    const sensors = await waitFor(
      () => {
        const ids = new Set(stored.filter((e) => e.action === 'mqtt.telemetry').map((e) => e.device?.id));
        return ids.size >= 3 ? ids : undefined;
      },
      { what: 'a reading from each of the 3 MQTT sensors' },
    );
    assert.deepEqual([...sensors].sort(), ['mqtt:th-01', 'mqtt:th-02', 'mqtt:th-03']);
    const reading = seen.find((e) => e.action === 'mqtt.telemetry')!;
    assert.equal(
      typeof (reading.fields.values as Record<string, unknown> | undefined)?.temperature,
      'number',
      JSON.stringify(reading.fields),
    );
    const coap = seen.find((e) => e.action === 'coap.telemetry')!;
    assert.match(String(coap.fields.path), /^\/readings\/vib-0[12]$/);
    const poll = seen.find((e) => e.action === 'modbus.poll')!;
    const readings = poll.fields.readings as Record<string, number>;
    assert.ok(readings.level! >= 0 && readings.level! <= 100, JSON.stringify(readings));
    assert.equal(readings.level_high_sp, 90);
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
