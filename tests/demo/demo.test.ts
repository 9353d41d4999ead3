/**
 * `npm start` as a new user would try it: start the demo, read the ports it prints, send a
 * message with the real `logger`, find it through the printed API URL and token, then Ctrl-C
 * (SIGINT) and expect a clean exit. The simulated plant's traffic must show up too (switch,
 * tank PLC through the gateway's poller, MQTT and CoAP sensors), the printed demo login must open
 * both servers, and the automatic attack scenarios must raise alerts within a minute.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, requireTool, waitFor } from '../support/env.ts';

const run = promisify(execFile);

it(
  'npm start: logger → printed port → GET /api/events within seconds; Ctrl-C stops cleanly',
  {
    timeout: 360_000,
  },
  async (t) => {
    if (!requireTool(t, 'logger', 'bsdutils (util-linux)')) return;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-demo-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo/start.ts'], {
      cwd: REPO_ROOT,
      // Port 0: the standard ports may be taken on a CI machine; the demo prints what it got.
      env: {
        ...process.env,
        DEMO_DATA_DIR: dataDir,
        DEMO_CENTRAL_PORT: '0',
        DEMO_SYSLOG_PORT: '0',
        DEMO_GATEWAY_HTTP_PORT: '0',
        DEMO_MODBUS_PORT: '0',
        DEMO_MQTT_PORT: '0',
        DEMO_COAP_PORT: '0',
        DEMO_DNP3_PORT: '0',
        DEMO_S7_PORT: '0',
        DEMO_ATTACK_INTERVAL_SECS: '3',
        DEMO_SENSOR_INTERVAL_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let failed = false;
    try {
      // Central on PGlite, the gateway and the plant take well over a minute on a loaded 2-core box.
      await waitFor(() => (out.includes('Press Ctrl-C') ? true : undefined), {
        timeoutMs: 180_000,
        what: `the demo banner; stderr: ${err}`,
      });
      const port = Number(/logger -n 127\.0\.0\.1 -P (\d+) -d/.exec(out)?.[1]);
      const token = /API token: (\S+)/.exec(out)?.[1];
      const api = /REST API: (\S+)/.exec(out)?.[1];
      assert.ok(port > 0 && token && api, out);

      const marker = `hello-${randomBytes(4).toString('hex')}`;
      const sent = Date.now();
      await run('logger', ['-n', '127.0.0.1', '-P', String(port), '-d', marker]);
      const events = await waitFor(
        async () => {
          const res = await fetch(`${api}?q=${marker}`, { headers: { authorization: `Bearer ${token}` } });
          const body = (await res.json()) as { events: Array<{ message: string }> };
          return body.events.length > 0 ? body.events : undefined;
        },
        { what: 'the logger message via the API' },
      );
      const ms = Date.now() - sent;
      assert.equal(events[0]?.message, marker);
      // The newcomer's 2 s figure is a latency target measured by tests/bench/latency.bench.ts; here
      // on a loaded 2-core CI machine the bound only catches a line stuck behind a batch timer.
      assert.ok(ms < 10_000, `found after ${ms} ms`);

      const fromSwitch = await waitFor(
        async () => {
          const res = await fetch(`${api}?host=sw-line2-01`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as { events: unknown[] };
          return body.events.length > 0 ? body.events : undefined;
        },
        { what: 'simulated switch traffic', timeoutMs: 15_000 },
      );
      assert.ok(fromSwitch.length > 0);

      // The plant's other devices, through the gateway's poller, broker and CoAP server: the
      // default pipeline forwards their readings as one summary per device and minute.
      for (const action of ['modbus.poll_summary', 'mqtt.telemetry_summary', 'coap.telemetry_summary']) {
        await waitFor(
          async () => {
            const res = await fetch(`${api}?action=${action}&limit=1`, {
              headers: { authorization: `Bearer ${token}` },
            });
            const body = (await res.json()) as { events: unknown[] };
            return body.events.length > 0 ? true : undefined;
          },
          { what: `${action} events`, timeoutMs: 90_000, intervalMs: 1000 },
        );
      }

      // The printed demo login opens both servers.
      const password = /login +admin \/ (\S+)/.exec(out)?.[1];
      const urls = [/central +(http:\S+)\//.exec(out)?.[1], /gateway +(http:\S+)\//.exec(out)?.[1]];
      assert.ok(password && urls.every(Boolean), out);
      for (const base of urls) {
        const res = await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password }),
        });
        assert.equal(res.status, 200, `login at ${base}`);
      }

      // A newcomer sees alerts within a minute: the switch's SSH brute force, detected at the edge.
      const alert = await waitFor(
        async () => {
          const res = await fetch(`${api}?source=gateway&q=SSH%20brute%20force`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as {
            events: Array<{ kind: string; threat?: { techniques: string[] } }>;
          };
          return body.events.find((e) => e.kind === 'alert');
        },
        { what: 'an alert from the simulated attack', timeoutMs: 60_000, intervalMs: 500 },
      );
      assert.deepEqual(alert.threat?.techniques, ['T0812']);
      // …and in central's alert queue, as the printed command shows.
      const queue = /(curl -s -H '[^']+' '([^']+\/api\/alerts)')/.exec(out)?.[2];
      assert.ok(queue, out);
      const queued = await waitFor(async () => {
        const res = await fetch(queue, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { alerts: Array<{ rule_title: string; status: string }> };
        return body.alerts.find((a) => a.rule_title === 'SSH brute force against a plant host');
      });
      assert.equal(queued.status, 'new');
      // The OT devices behind the gateway's ot_proxy are in the banner.
      assert.match(out, /dnp3 +proxy 127\.0\.0\.1:\d+ → outstation "substation-rtu"/);
      assert.match(out, /s7comm +proxy 127\.0\.0\.1:\d+ → S7 CPU "pump-station-s7"/);
      // The scenarios that follow, one every 3 s here: Modbus, MQTT, CoAP, DNP3 and S7 attacks reach the queue.
      const titles = await waitFor(
        async () => {
          const res = await fetch(`${queue}?limit=200`, { headers: { authorization: `Bearer ${token}` } });
          const body = (await res.json()) as { alerts: Array<{ rule_title: string }> };
          const seen = new Set(body.alerts.map((a) => a.rule_title));
          return [
            'Modbus diagnostics that silence or restart a device',
            "MQTT subscription to every topic or to the broker's $SYS tree",
            'CoAP resource discovery',
            'DNP3 cold or warm restart of an outstation',
            'Siemens S7 CPU stopped over the network (S7comm PLC stop)',
          ].every((t) => seen.has(t))
            ? seen
            : undefined;
        },
        {
          what: 'alerts of the Modbus, MQTT, CoAP, DNP3 and S7 scenarios',
          timeoutMs: 120_000,
          intervalMs: 500,
        },
      );
      assert.ok(titles.has("Modbus request outside the PLC's policy (rogue master or unauthorised command)"));
      assert.match(out, /attack force-listen-only: /);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      child.kill('SIGINT');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      // After an earlier failure the SIGINT may land before the demo handles it: that failure is
      // the one to report, not the exit code.
      if (!failed) {
        assert.equal(code, 0, `exit code; stderr: ${err}`);
        assert.match(out, /Stopped\./);
      }
    }
  },
);
