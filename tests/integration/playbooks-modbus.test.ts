/**
 * A response playbook on a gateway that never reached central (issue 21 ask 4): the gateway runs
 * its Modbus proxy in monitor mode in front of a recording PLC, with rules/ics and a playbook set
 * "on a Modbus policy violation, deny the master". An unknown master's write goes through (monitor
 * mode must not break the plant) and raises the policy alert; the playbook denies that master at
 * once, so its next write is answered with exception 01 and never reaches the PLC. The denial
 * survives a restart; the plant's admin sees it on the gateway's own API and lifts it there.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { playbookSetVersion } from '../../protocols/link/codec.ts';
import type { EdgePlaybook } from '../../protocols/playbook/schema.ts';
import { freePort, REPO_ROOT, waitFor } from '../support/env.ts';
import { startTestGateway, type TestGateway } from '../support/stack.ts';
import { connectRawMaster, startRecordingPlc } from '../gateway/sources/modbus-proxy/plc.ts';

const POLICY_RULE = '2f3c1a70-0d0b-4c77-9a0e-6b1f6c8e1a03';

describe('a Modbus playbook on an offline gateway', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-pb-modbus-'));
  let gw: TestGateway | undefined;
  after(async () => {
    await gw?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('denies the unknown master that wrote through the proxy, and keeps denying it after a restart', async () => {
    const plc = await startRecordingPlc();
    const proxyPort = await freePort();
    const privateKey = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    // Nobody listens there: the gateway never reaches central.
    const link = { linkUrl: `ws://127.0.0.1:${await freePort()}/link`, gatewayId: 'gw-offline', privateKey };
    const options = {
      dataDir,
      keepData: true,
      detection: { rules_dirs: [path.join(REPO_ROOT, 'rules', 'ics')] },
      sources: {
        plc_proxy: {
          type: 'modbus_proxy',
          listen: `127.0.0.1:${proxyPort}`,
          endpoint: `127.0.0.1:${plc.port}`,
          mode: 'monitor',
          masters: [{ address: '10.20.30.40' }],
        },
      },
    };
    try {
      gw = await startTestGateway(link, options);
      const admin = gw.admin;
      const playbooks: EdgePlaybook[] = [
        {
          id: 'deny-rogue-master',
          match: { rule_ids: [POLICY_RULE] },
          actions: [{ type: 'modbus_deny_master', source: 'plc_proxy' }],
        },
      ];
      // As central would push it (link SPEC §9.2).
      const status = gw.gateway.playbooks.apply({
        type: 'playbooks',
        version: playbookSetVersion(playbooks),
        playbooks,
      });
      assert.equal(status.ok, true, status.error);

      const master = await connectRawMaster(proxyPort);
      const write = Uint8Array.from([0x06, 0, 10, 0, 99]);
      assert.deepEqual([...(await master.request(1, write)).pdu], [0x06, 0, 10, 0, 99], 'monitor: forwarded');
      const entry = await waitFor(
        () => gw!.gateway.controls.list().find((e) => e.type === 'modbus_deny_master'),
        { timeoutMs: 60_000, what: 'the playbook denying the master' },
      );
      assert.deepEqual(
        [entry.value, entry.source, entry.by],
        ['127.0.0.1', 'plc_proxy', 'playbook:deny-rogue-master'],
      );
      const before = plc.received().length;
      assert.deepEqual([...(await master.request(2, write)).pdu], [0x86, 0x01], 'denied');
      assert.equal(plc.received().length, before, 'the denied write never reached the PLC');
      master.socket.destroy();

      // The plant's admin sees the block on the gateway's own API.
      const listed = (await (await gw.api('/api/response')).json()) as {
        entries: Array<{ id: string }>;
      };
      assert.deepEqual(
        listed.entries.map((e) => e.id),
        [entry.id],
      );

      await gw.stop();
      // (A restart prints no password: the admin of the first start logs in.)
      gw = await startTestGateway(link, { ...options, admin });
      const again = await connectRawMaster(proxyPort);
      assert.deepEqual(
        [...(await again.request(3, write)).pdu],
        [0x86, 0x01],
        'still denied after a restart',
      );
      // Lifted on the gateway's API (the link is down): the master gets through again.
      assert.equal((await gw.api(`/api/response/${entry.id}`, { method: 'DELETE' })).status, 200);
      assert.equal((await gw.api(`/api/response/${entry.id}`, { method: 'DELETE' })).status, 404);
      assert.deepEqual([...(await again.request(4, write)).pdu], [0x06, 0, 10, 0, 99], 'allowed again');
      again.socket.destroy();
    } finally {
      await plc.close();
    }
  });
});
