/**
 * The asset inventory: a device is announced once as `gateway.new_device`, counted on every
 * event, remembered across restarts, and the inventory stays bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Inventory } from '../../gateway/inventory/index.ts';
import { parseEvent, type PendingEvent } from '../../protocols/event/schema.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const open = (maxDevices = 100) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-inv-'));
  dirs.push(dir);
  return { dir, inventory: Inventory.open({ dir, maxDevices, saveIntervalMs: 60_000 }) };
};

function from(host: string, ip: string, kind: PendingEvent['kind'] = 'telemetry'): PendingEvent {
  const now = new Date().toISOString();
  return {
    ts: now,
    received: now,
    source: 'syslog',
    kind,
    action: 'syslog.message',
    severity: 6,
    message: 'x',
    host,
    device: { id: `syslog:${host}`, protocol_id: host },
    src: { ip, port: 514 },
    fields: {},
    tags: [],
  };
}

describe('asset inventory', () => {
  it('announces a new device once, as a valid security event, and counts what it says', async () => {
    const inventory = await open().inventory;
    const t0 = new Date('2026-11-21T10:00:00Z');
    const first = inventory.observe(from('plc-7', '10.0.0.7'), t0);
    assert.equal(first?.action, 'gateway.new_device');
    assert.equal(first?.kind, 'security');
    assert.ok(parseEvent({ ...first, v: 1, id: 'g:1', gateway: 'g', seq: 1 }).ok);
    assert.equal(
      inventory.observe(from('plc-7', '10.0.0.8', 'security'), new Date(t0.getTime() + 1000)),
      undefined,
    );
    const device = inventory.get('syslog:plc-7');
    assert.equal(device?.events, 2);
    assert.equal(device?.security_events, 1);
    assert.deepEqual(device?.addresses, ['10.0.0.7', '10.0.0.8']);
    assert.equal(device?.first_seen, t0.toISOString());
    assert.ok((device?.rate_per_min ?? 0) > 0);
    assert.deepEqual(
      inventory.list({ q: '10.0.0.8' }).map((d) => d.id),
      ['syslog:plc-7'],
    );
    await inventory.close();
  });

  it('remembers devices across a restart', async () => {
    const { dir, inventory: opening } = open();
    const inventory = await opening;
    inventory.observe(from('hmi-1', '10.0.0.20'), new Date());
    await inventory.close();
    const again = await Inventory.open({ dir, maxDevices: 100, saveIntervalMs: 60_000 });
    assert.equal(again.get('syslog:hmi-1')?.events, 1);
    assert.equal(again.observe(from('hmi-1', '10.0.0.20'), new Date()), undefined, 'not new after a restart');
    await again.close();
  });

  it('stays bounded: the device seen least recently is forgotten and counted', async () => {
    const inventory = await open(10).inventory;
    const base = Date.parse('2026-11-21T10:00:00Z');
    for (let i = 0; i < 15; i += 1)
      inventory.observe(from(`dev-${i}`, `10.0.1.${i}`), new Date(base + i * 1000));
    assert.equal(inventory.size, 10);
    assert.equal(inventory.forgotten, 5);
    assert.equal(inventory.get('syslog:dev-0'), undefined);
    assert.ok(inventory.get('syslog:dev-14'));
    await inventory.close();
  });
});
