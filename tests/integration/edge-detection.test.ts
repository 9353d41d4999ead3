/**
 * Detection at the edge, end to end: a gateway running the shipped ruleset sees an SSH brute
 * force arrive as real syslog over UDP, raises the alerts itself (in its alert lane), and central
 * stores them with the rule, the ATT&CK techniques and the triggering events' ids. It also
 * detects while central is unreachable: the alert waits in the queue and goes first.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Event } from '../../protocols/event/schema.ts';
import { REPO_ROOT, skipUnmet, waitFor } from '../support/env.ts';
import { centralOnPostgres } from '../support/central-on-postgres.ts';
import { startTestGateway } from '../support/stack.ts';

describe('edge detection', () => {
  const setup = centralOnPostgres();

  it('raises SSH brute-force alerts at the gateway, offline too, and central stores them', async (t) => {
    const { db } = setup;
    if (!db) return skipUnmet(t);
    let { c } = setup;
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] } },
    );
    const socket = dgram.createSocket('udp4');
    try {
      await waitFor(() => (gw.gateway.forwarder.connected ? true : undefined));
      await setup.stop(); // the WAN link is down: detection must not care
      const now = Date.now();
      for (let i = 0; i < 6; i += 1) {
        const ts = new Date(now + i * 1000).toISOString();
        socket.send(
          `<38>1 ${ts} hmi-7 sshd 99 - - Failed password for root from 192.0.2.66 port ${5000 + i} ssh2`,
          gw.port('udp'),
          '127.0.0.1',
        );
      }
      await waitFor(() => (gw.gateway.queue.depth.byLane.alert > 0 ? true : undefined), {
        what: 'an alert queued while central is down',
      });
      c = await setup.restart();
      const alert = await waitFor(
        async () => {
          const found = (await c.events('source=gateway')).filter((e: Event) => e.kind === 'alert');
          return found.find((e) => e.threat?.rule_name === 'SSH brute force against a plant host');
        },
        { what: 'the brute-force alert at central', timeoutMs: 15_000 },
      );
      assert.deepEqual(alert.threat?.techniques, ['T0812']);
      assert.equal(alert.severity, 3, 'level high');
      assert.equal(alert.action, 'alert.raised');
      const ids = alert.fields.event_ids as string[];
      assert.ok(ids.length >= 5);
      // The alert lane goes first: the triggering events follow it from the security lane.
      const triggering = await waitFor(
        async () => {
          const stored = await c.events('q=Failed%20password%20for%20root');
          return ids.every((id) => stored.some((e) => e.id === id)) ? stored : undefined;
        },
        { what: 'the triggering events at central' },
      );
      assert.ok(triggering.length >= 6);
      const metrics = await (await fetch(`${gw.gateway.httpUrl()}/metrics`)).text();
      assert.match(metrics, /siem_gateway_rules_loaded\{state="refused",gateway="gw-test"\} 0/);
    } finally {
      socket.close();
      await gw.stop();
    }
  });

  it('an MQTT brute force with rotating client ids and a $SYS sweep against the embedded broker become alerts', async (t) => {
    const { db } = setup;
    if (!db) return skipUnmet(t);
    const { c } = setup;
    const { hashPassword } = await import('../../gateway/sources/mqtt-broker/password.ts');
    const mqtt = (await import('mqtt')).default;
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      {
        syslog: false,
        sources: {
          broker: {
            type: 'mqtt_broker',
            listen: '127.0.0.1:0',
            users: [
              {
                username: 'scada',
                password_hash: await hashPassword('right'),
                subscribe: ['$SYS/#', 'plant/#'],
              },
            ],
            // Detect only: here the legitimate client shares the guesser's address (127.0.0.1).
            rates: { block_secs: 0 },
          },
        },
        detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
      },
    );
    try {
      const port = gw.gateway.sources()[0]!.addresses()[0]!.port;
      for (let i = 0; i < 12; i += 1) {
        const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
          clientId: `bot-${i}`,
          username: 'admin',
          password: `guess-${i}`,
          reconnectPeriod: 0,
        });
        await new Promise<void>((resolve) =>
          client.once('error', () => resolve()).once('close', () => resolve()),
        );
        client.end(true);
      }
      const scada = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
        username: 'scada',
        password: 'right',
        reconnectPeriod: 0,
      });
      await new Promise((resolve) => scada.once('connect', resolve));
      await scada.subscribeAsync('$SYS/#');
      await scada.endAsync();

      const titles = await waitFor(
        async () => {
          const alerts = (await c.events('source=gateway')).filter((e: Event) => e.kind === 'alert');
          const names = new Set(alerts.map((a) => a.threat?.rule_name));
          const wanted = [
            'MQTT brute force (many failed logins from one address, whatever the client id)',
            "MQTT subscription to every topic or to the broker's $SYS tree",
          ];
          return wanted.every((w) => names.has(w)) ? [...names] : undefined;
        },
        { what: 'the MQTT alerts at central', timeoutMs: 20_000 },
      );
      assert.ok(titles.includes('MQTT connection or login flood'), 'the broker rate tracking fired too');
    } finally {
      await gw.stop();
    }
  });
});
