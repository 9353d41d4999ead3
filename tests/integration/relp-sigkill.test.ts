/**
 * RELP with zero loss across SIGKILL (issue 20): Debian's rsyslog relays 100,000 lines, each with
 * a unique sequence number, to the real `siem-gateway run` process with omrelp, while the gateway
 * is SIGKILLed three times and restarted on the same queue. RELP acknowledges a line only after
 * the gateway's durable write, so rsyslog keeps and resends whatever was not acknowledged; what
 * was written but whose acknowledgement died with the process comes again too, and the source's
 * ledger drops it (gateway/sources/relp/ledger.ts). At the end the queue holds every sequence
 * number exactly once: no gap, no duplicate. Central is not running: the queue keeps everything.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { type GatewayServer, startGatewayProcess } from '../soak/processes.ts';
import { freePort, waitFor } from '../support/env.ts';
import { queuedEvents } from '../support/gateway-metrics.ts';
import { readStoppedQueue, writeOfflineCredentials } from '../support/offline-gateway.ts';
import { requireRsyslogRelp, sendLines, startRsyslogRelay } from '../interop/support/rsyslog-relp.ts';

const TOTAL = 100_000;
const KILLS = 3;
const WINDOW = 1024;

async function metric(httpUrl: string, re: RegExp): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(re)) sum += Number(m[1]);
  return sum;
}

it(
  `rsyslog omrelp → gateway, SIGKILL ${KILLS} times during ${TOTAL} lines: every line stored exactly once`,
  { timeout: 900_000 },
  async (t) => {
    if (!requireRsyslogRelp(t)) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-relp-kill-'));
    const gatewayId = 'gw-relp';
    const deadLink = await writeOfflineCredentials(dir, gatewayId); // nothing listens: the queue keeps every event
    const relpPort = await freePort();
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `gateway: { id: ${gatewayId}, data_dir: ${dir} }`,
        `sources: { relp: { type: relp, listen: "127.0.0.1:${relpPort}", dedupe_window: ${WINDOW}, max_window: ${WINDOW} } }`,
        `central: { endpoint: "${deadLink}", initial_backoff_secs: 1, max_backoff_secs: 5 }`,
        'http: { listen: "127.0.0.1:0" }',
        'log: { level: error }',
      ].join('\n'),
    );

    let gw: GatewayServer | undefined;
    let httpUrl = '';
    const startGateway = async () => {
      gw = await startGatewayProcess(config, false);
      httpUrl = gw.httpUrl;
    };

    const rsyslog = await startRsyslogRelay({
      target: { host: '127.0.0.1', port: relpPort },
      windowSize: WINDOW,
    });
    const retransmissionsDropped: number[] = [];
    try {
      await startGateway();
      // rsyslog holds the whole stream in its in-memory action queue and relays it over RELP.
      await sendLines(
        rsyslog.tcpPort,
        (function* () {
          for (let i = 0; i < TOTAL; i++) yield `<13>Dec  5 12:00:00 plc-7 relptest: relp-seq ${i}`;
        })(),
      );
      for (let kill = 1; kill <= KILLS; kill++) {
        const target = (kill * TOTAL) / (KILLS + 1);
        await waitFor(async () => ((await queuedEvents(httpUrl)) >= target ? true : undefined), {
          timeoutMs: 300_000,
          intervalMs: 50,
          what: `${target} events queued before kill ${kill}; rsyslog said: ${rsyslog.stderr()}`,
        });
        retransmissionsDropped.push(
          await metric(
            httpUrl,
            /^siem_gateway_events_dropped_total\{[^}]*reason="relp_retransmission"[^}]*\} (\d+)/gm,
          ),
        );
        await gw!.kill();
        await startGateway();
      }
      // /metrics refreshes its queue gauges once a second; the last run is never killed.
      await waitFor(async () => ((await queuedEvents(httpUrl)) >= TOTAL ? true : undefined), {
        timeoutMs: 300_000,
        intervalMs: 200,
        what: `all ${TOTAL} lines queued; rsyslog said: ${rsyslog.stderr()}`,
      });
      // A moment for a straggling duplicate to show up, then the count from the queue itself.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      retransmissionsDropped.push(
        await metric(
          httpUrl,
          /^siem_gateway_events_dropped_total\{[^}]*reason="relp_retransmission"[^}]*\} (\d+)/gm,
        ),
      );
      await gw!.stop();

      const seen = new Uint8Array(TOTAL);
      let other = 0;
      let relpEvents = 0;
      for (const e of await readStoppedQueue(dir, gatewayId)) {
        const m = /^relp-seq (\d+)$/.exec(e.message);
        if (!m) {
          other++;
          continue;
        }
        relpEvents++;
        assert.equal(e.fields.transport, 'relp');
        seen[Number(m[1])]! += 1;
      }
      const missing: number[] = [];
      const doubled: number[] = [];
      seen.forEach((n, i) => {
        if (n === 0) missing.push(i);
        if (n > 1) doubled.push(i);
      });
      t.diagnostic(
        `stored ${relpEvents} relp events (+${other} others) for ${TOTAL} lines; retransmissions dropped per run: ${retransmissionsDropped.join(', ')}`,
      );
      assert.deepEqual(missing.slice(0, 20), [], `${missing.length} lines missing`);
      assert.deepEqual(doubled.slice(0, 20), [], `${doubled.length} lines stored twice`);
      assert.equal(relpEvents, TOTAL);
    } finally {
      await gw?.kill();
      await rsyslog.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
