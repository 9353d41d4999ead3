/**
 * The gateway's side of response playbooks (gateway/playbooks): the response controls are
 * bounded (a block beyond `max_entries` is refused, never an old one dropped), one entry per
 * target, expire on the gateway's clock, survive a reopen (restart) and refuse a corrupt file; the
 * runner refuses a pushed set whose version does not name its content, persists the one it takes,
 * turns a matching local alert into a block of the address its evidence names (audited as a
 * `gateway.playbook_action` event) and answers central's commands. A real Modbus proxy in front of
 * a recording PLC obeys the controls: a denied master gets exception 01 and nothing reaches the
 * PLC, in monitor mode too; an enforce switch refuses an unknown master; undo restores both.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { createResponseControls } from '../../../gateway/playbooks/controls.ts';
import { createGatewayPlaybooks } from '../../../gateway/playbooks/index.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { playbookSetVersion } from '../../../protocols/link/codec.ts';
import type { EdgePlaybook } from '../../../protocols/playbook/schema.ts';
import { connectRawMaster, startProxy, startRecordingPlc } from '../sources/modbus-proxy/plc.ts';
import { recordingContext } from '../sources/support.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'siem-pb-gw-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const logger = pino({ level: 'silent' });

describe('response controls', () => {
  it('are bounded, one entry per target, expire, and survive a reopen', () => {
    const dataDir = tempDir();
    let now = Date.parse('2026-12-01T10:00:00Z');
    const open = () => createResponseControls({ dataDir, maxEntries: 3, now: () => new Date(now) });
    const controls = open();
    const a = controls.apply(
      { type: 'mqtt_block_address', value: '10.0.0.66', expire_secs: 60 },
      'playbook:p',
    );
    assert.ok(a.ok);
    const again = controls.apply({ type: 'mqtt_block_address', value: '10.0.0.66', expire_secs: 600 }, 'x');
    assert.ok(again.ok && again.existed && again.entry.id === a.entry.id, 'the same block is one entry');
    assert.equal(
      again.ok && again.entry.expires_at,
      new Date(now + 600_000).toISOString(),
      'expiry extended',
    );
    assert.ok(controls.apply({ type: 'mqtt_block_client', value: 'scan-1' }, 'p').ok);
    assert.ok(controls.apply({ type: 'modbus_deny_master', source: 'plc_proxy', value: '10.0.0.7' }, 'p').ok);
    const full = controls.apply({ type: 'mqtt_block_client', value: 'scan-2' }, 'p');
    assert.equal(full.ok, false);
    assert.match(!full.ok ? full.error : '', /at most 3/);
    assert.equal(controls.apply({ type: 'mqtt_block_address' }, 'p').ok, false, 'a block needs a target');

    const view = controls.view;
    assert.ok(view.mqttRefused('mqtt_in', 'whatever', '10.0.0.66'), 'by address');
    assert.ok(view.mqttRefused('mqtt_in', 'scan-1', '10.0.0.1'), 'by client id');
    assert.equal(view.mqttRefused('mqtt_in', 'scan-9', '10.0.0.1'), undefined);
    assert.ok(view.modbusDenied('plc_proxy', '10.0.0.7'));
    assert.equal(view.modbusDenied('other_proxy', '10.0.0.7'), undefined, 'scoped to its source');

    // A restart: the same entries from disk.
    const reopened = open();
    assert.deepEqual(reopened.list(), controls.list());
    // Past its expiry the address block no longer applies, and is pruned.
    now += 601_000;
    assert.equal(reopened.view.mqttRefused('mqtt_in', 'x', '10.0.0.66'), undefined);
    assert.equal(reopened.prune(), true);
    assert.equal(reopened.list().length, 2);
    const client = reopened.list().find((e) => e.type === 'mqtt_block_client')!;
    assert.equal(reopened.undo(client.id)?.value, 'scan-1');
    assert.equal(reopened.undo(client.id), undefined);
    assert.equal(open().list().length, 1, 'the undo is on disk');

    writeFileSync(path.join(dataDir, 'playbooks', 'controls.json'), '{"v":1,"entries":[{"id":1}]}');
    assert.throws(open, /not a response controls file/);
  });
});

describe('playbook runner', () => {
  const playbook: EdgePlaybook = {
    id: 'edge-block',
    match: { rule_ids: ['brute'] },
    actions: [{ type: 'mqtt_block_address' }, { type: 'mqtt_block_client' }],
  };
  const alert = (eventIds: string[], rule = 'brute'): PendingEvent => ({
    ts: new Date().toISOString(),
    received: new Date().toISOString(),
    source: 'gateway',
    kind: 'alert',
    action: 'alert.raised',
    severity: 3,
    message: 'brute force',
    threat: { rule_id: rule, techniques: ['T0812'] },
    fields: { alert_id: 'a-1', event_ids: eventIds, entity: '10.0.0.66' },
    tags: ['alert'],
  });
  const failure = (clientId: string, ip = '10.0.0.66'): PendingEvent => ({
    ts: new Date().toISOString(),
    received: new Date().toISOString(),
    source: 'mqtt',
    kind: 'security',
    action: 'mqtt.auth_failure',
    severity: 4,
    message: 'refused',
    src: { ip },
    fields: { client_id: clientId },
    tags: [],
  });

  it('takes only a set named by its content, keeps it, and blocks what a local alert names', async () => {
    const dataDir = tempDir();
    const controls = createResponseControls({ dataDir, maxEntries: 100 });
    const emitted: PendingEvent[] = [];
    const ids = new WeakMap<object, string>();
    let n = 0;
    const open = () =>
      createGatewayPlaybooks({
        dataDir,
        gateway: 'gw-1',
        controls,
        idFor: (e) => ids.get(e) ?? (ids.set(e, `obs-${++n}`), `obs-${n}`),
        emit: async (events) => void emitted.push(...events),
        logger,
      });
    const runner = open();
    const bad = runner.apply({ type: 'playbooks', version: playbookSetVersion([]), playbooks: [playbook] });
    assert.equal(bad.ok, false);
    assert.match(bad.error ?? '', /does not name this content/);
    assert.equal(runner.version(), undefined);
    const version = playbookSetVersion([playbook]);
    const ok = runner.apply({ type: 'playbooks', version, playbooks: [playbook] });
    assert.deepEqual([ok.ok, ok.version], [true, version]);
    assert.equal(open().version(), version, 'persisted for a restart');

    const evidence = [
      failure('scan-a'),
      failure('scan-b'),
      failure('scan-c', '10.0.0.67'),
      failure('scan-d'),
    ];
    runner.observe(evidence);
    runner.observe([alert(['obs-999'], 'other-rule')]);
    assert.equal(controls.list().length, 0, 'another rule runs nothing');
    runner.observe([alert(evidence.map((e) => ids.get(e)!))]);
    const entries = controls.list();
    assert.deepEqual(
      entries.map((e) => [e.type, e.value]),
      [
        ['mqtt_block_address', '10.0.0.66'],
        ['mqtt_block_client', 'scan-a'],
        ['mqtt_block_client', 'scan-b'],
        ['mqtt_block_client', 'scan-c'],
        ['mqtt_block_client', 'scan-d'],
      ],
    );
    await new Promise((r) => setImmediate(r));
    const audit = emitted.filter((e) => e.action === 'gateway.playbook_action');
    assert.equal(audit.length, 5);
    assert.deepEqual(
      [
        audit[0]!.fields.trigger,
        audit[0]!.fields.playbook_id,
        audit[0]!.fields.outcome,
        audit[0]!.fields.entry,
      ],
      ['local', 'edge-block', 'ok', entries[0]!.id],
    );
    assert.equal(audit[0]!.kind, 'audit');

    // Central's commands: an undo of a local block, then an apply.
    const undo = runner.command({ type: 'command', command_id: 'u-7', op: 'undo', entry: entries[0]!.id });
    assert.deepEqual([undo.ok, undo.error], [true, undefined]);
    assert.equal(controls.view.mqttRefused('mqtt_in', undefined, '10.0.0.66'), undefined);
    const gone = runner.command({ type: 'command', command_id: 'u-8', op: 'undo', entry: entries[0]!.id });
    assert.equal(gone.ok, true, 'undoing what is gone leaves the same state');
    const applied = runner.command({
      type: 'command',
      command_id: 'a-9',
      op: 'apply',
      request: { type: 'mqtt_block_address', value: '10.0.0.99' },
    });
    assert.ok(applied.ok && applied.entry);
    assert.equal(controls.get(applied.entry!)?.by, 'central:a-9');
  });
});

describe('modbus proxy under response controls', () => {
  it('refuses a denied master in monitor mode and an unknown one once switched to enforce', async () => {
    const plc = await startRecordingPlc();
    const controls = createResponseControls({ dataDir: tempDir(), maxEntries: 10 });
    const ctx = { ...recordingContext(), response: controls.view };
    const { source, port } = await startProxy(
      plc.port,
      { mode: 'monitor', masters: [{ address: '10.1.1.1' }] },
      ctx as never,
    );
    try {
      const master = await connectRawMaster(port);
      const write = Uint8Array.from([0x06, 0, 10, 0, 42]);
      // Monitor mode: the unknown master's write is reported and forwarded.
      assert.deepEqual([...(await master.request(1, write)).pdu], [0x06, 0, 10, 0, 42]);
      const forwarded = plc.received().length;

      const deny = controls.apply(
        { type: 'modbus_deny_master', source: 'plc_proxy', value: '127.0.0.1' },
        'p',
      );
      assert.ok(deny.ok);
      assert.deepEqual([...(await master.request(2, write)).pdu], [0x86, 0x01]);
      assert.equal(plc.received().length, forwarded, 'nothing of it reached the PLC');
      const v = await ctx.waitEvent(
        (e) => e.action === 'modbus.policy_violation' && e.fields.reason === 'denied_by_playbook',
        'the denied_by_playbook violation',
      );
      assert.equal(v.fields.blocked, true);
      controls.undo(deny.ok ? deny.entry.id : '');
      assert.deepEqual([...(await master.request(3, write)).pdu], [0x06, 0, 10, 0, 42], 'forwarded again');

      const enforce = controls.apply({ type: 'modbus_enforce', source: 'plc_proxy' }, 'p');
      assert.ok(enforce.ok);
      assert.deepEqual([...(await master.request(4, write)).pdu], [0x86, 0x01], 'unknown master refused');
      controls.undo(enforce.ok ? enforce.entry.id : '');
      assert.deepEqual([...(await master.request(5, write)).pdu], [0x06, 0, 10, 0, 42], 'monitor mode again');
      master.socket.destroy();
    } finally {
      await source.stop();
      await plc.close();
    }
  });
});
