/**
 * The asset inventory: a device is announced once as `gateway.new_device`, counted on every
 * event, remembered across restarts, and the inventory stays bounded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { Inventory } from '../../gateway/inventory/index.ts';
import { parseEvent, type PendingEvent } from '../../protocols/event/schema.ts';
import { parseSyslog, syslogToEvent } from '../../protocols/syslog/index.ts';

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

  it('a new device survives a SIGKILL right after it was seen (not announced twice)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-inv-'));
    dirs.push(dir);
    const module = new URL('../../gateway/inventory/index.ts', import.meta.url).href;
    // A gateway process that sees a device, then dies by SIGKILL long before the 60 s save.
    const script = `
      const { Inventory } = await import(${JSON.stringify(module)});
      const inventory = await Inventory.open({ dir: ${JSON.stringify(dir)}, maxDevices: 100, saveIntervalMs: 60_000 });
      const now = new Date().toISOString();
      inventory.observe({ ts: now, received: now, source: 'syslog', kind: 'telemetry', action: 'syslog.message',
        severity: 6, message: 'x', host: 'plc-9', device: { id: 'syslog:plc-9' }, fields: {}, tags: [] }, new Date());
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'inherit',
    });
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL');
    const again = await Inventory.open({ dir, maxDevices: 100, saveIntervalMs: 60_000 });
    assert.equal(again.get('syslog:plc-9')?.events, 1, 'the device was written before the kill');
    assert.equal(again.observe(from('plc-9', '10.0.0.9'), new Date()), undefined, 'not announced again');
    await again.close();
  });

  it('a refused MQTT client is an attempt, not a device; it becomes one when it connects', async () => {
    const inventory = await open().inventory;
    const attempt = (clientId: string, action: string): PendingEvent => ({
      ...from('x', '10.0.0.66'),
      source: 'mqtt',
      action,
      host: undefined,
      device: { id: `mqtt:${clientId}`, protocol_id: clientId },
    });
    // A brute force with a new client id on every try: no device, so no "new device" alert each.
    for (let i = 0; i < 16; i++)
      assert.equal(inventory.observe(attempt(`bf-${i}`, 'mqtt.auth_failure'), new Date()), undefined);
    assert.equal(inventory.observe(attempt('bf-x', 'mqtt.connect_refused'), new Date()), undefined);
    assert.equal(inventory.size, 0);
    // The one that gets in is a new device; its later refusals count on it.
    assert.equal(
      inventory.observe(attempt('bf-7', 'mqtt.connect'), new Date())?.action,
      'gateway.new_device',
    );
    inventory.observe(attempt('bf-7', 'mqtt.auth_failure'), new Date());
    assert.equal(inventory.get('mqtt:bf-7')?.events, 2);
    assert.equal(inventory.size, 1);
    await inventory.close();
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

  it('forgets by when a device last spoke, not when it first did, also after a restart', async () => {
    const { dir, inventory: opening } = open(10);
    const inventory = await opening;
    const base = Date.parse('2026-11-21T10:00:00Z');
    let t = 0;
    const see = (inv: Inventory, i: number) =>
      inv.observe(from(`dev-${i}`, `10.0.1.${i}`), new Date(base + t++ * 1000));
    for (let i = 0; i < 10; i += 1) see(inventory, i);
    // dev-0 and dev-3 speak again: dev-1 is now the least recent, then dev-2, dev-4...
    see(inventory, 0);
    see(inventory, 3);
    see(inventory, 0);
    await inventory.close();
    // Reopened, the order comes from last_seen, not from the order of the keys on disk.
    const again = await Inventory.open({ dir, maxDevices: 10, saveIntervalMs: 60_000 });
    for (let i = 10; i < 13; i += 1) see(again, i);
    assert.equal(again.size, 10);
    assert.equal(again.forgotten, 3);
    for (const gone of [1, 2, 4]) assert.equal(again.get(`syslog:dev-${gone}`), undefined, `dev-${gone}`);
    for (const kept of [0, 3, 5, 12]) assert.ok(again.get(`syslog:dev-${kept}`), `dev-${kept}`);
    await again.close();
  });

  it('marks devices first seen while commissioning; the period counts from the first start, kept on disk', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-inv-'));
    dirs.push(dir);
    const options = { dir, maxDevices: 100, saveIntervalMs: 60_000, commissioningMs: 60_000 };
    const before = Date.now();
    const first = await Inventory.open(options);
    const during = first.observe(from('plc-1', '10.0.1.1'), new Date());
    assert.equal(during?.fields.commissioning, true);
    assert.deepEqual(during?.tags, ['commissioning']);
    assert.match(during?.message ?? '', /\(commissioning\)$/);
    assert.equal(
      first.observe(from('hmi-1', '10.0.1.2'), new Date(before + 61_000))?.fields.commissioning,
      undefined,
    );
    await first.close();

    // The first start is on disk; a restart reads it instead of starting the period again.
    const db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
    const stored = Date.parse((await db.get('m!created')) ?? '');
    assert.ok(stored >= before && stored <= Date.now(), `stored ${stored}`);
    await db.put('m!created', new Date(Date.now() - 10 * 60_000).toISOString());
    await db.close();
    const again = await Inventory.open(options);
    const after = again.observe(from('laptop-7', '10.0.1.7'), new Date());
    assert.equal(after?.action, 'gateway.new_device');
    assert.equal(after?.fields.commissioning, undefined);
    assert.deepEqual(after?.tags, []);
    await again.close();

    // Without the option every new device is plain.
    const plain = await open().inventory;
    assert.equal(plain.observe(from('x', '10.0.1.9'), new Date())?.fields.commissioning, undefined);
    await plain.close();
  });

  it('a flood of new device ids keeps the inventory bounded to the newest ones', async () => {
    const inventory = await open(1_000).inventory;
    const base = Date.parse('2026-11-21T10:00:00Z');
    for (let i = 0; i < 20_000; i += 1) inventory.observe(from(`rot-${i}`, '10.0.9.9'), new Date(base + i));
    assert.equal(inventory.size, 1_000);
    assert.equal(inventory.forgotten, 19_000);
    assert.ok(inventory.get('syslog:rot-19999'));
    assert.equal(inventory.get('syslog:rot-18999'), undefined);
    await inventory.close();
  });
  it('keeps the address a device sends from, not the peers its messages name', async () => {
    // An sshd failure and a firewall drop name remote peers (the event's src after enrichment);
    // a Windows logon failure over syslog names the logon's source. The device is the sender.
    const lines = [
      '<38>Nov 21 10:00:01 plc-3 sshd[811]: Failed password for root from 203.0.113.9 port 50122 ssh2',
      '<4>Nov 21 10:00:02 plc-3 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.4 DST=10.0.0.3 PROTO=TCP SPT=4444 DPT=502',
      '<13>Nov 21 10:00:03 ews-1 MSWinEventLog\t1\tSecurity\t10\tSat Nov 21 10:00:03 2026\t4625\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tFailure Audit\tEWS-1\tLogon\t\tAn account failed to log on.    Network Information:   Source Network Address: 10.0.9.66   Source Port:  51234\t42',
    ];
    const inventory = await open().inventory;
    const now = new Date('2026-11-21T10:00:05Z');
    const created = lines.map((line, i) => {
      const parsed = parseSyslog(line, { now });
      assert.ok(parsed.ok);
      const event = syslogToEvent(parsed.message, {
        received: now,
        peer: { ip: i < 2 ? '10.0.0.3' : '10.0.0.21', port: 40_000 + i },
        transport: 'tcp',
      });
      assert.notEqual(event.src?.ip, i < 2 ? '10.0.0.3' : '10.0.0.21', 'the parser names another peer');
      return inventory.observe(event, now);
    });
    assert.deepEqual(inventory.get('syslog:plc-3')?.addresses, ['10.0.0.3']);
    assert.deepEqual(inventory.get('windows:EWS-1')?.addresses, ['10.0.0.21']);
    assert.equal(created[0]?.message, 'new syslog device syslog:plc-3 at 10.0.0.3');
    assert.deepEqual(created[0]?.src, { ip: '10.0.0.3', port: 40_000 });
    assert.deepEqual(created[2]?.src, { ip: '10.0.0.21', port: 40_002 });
    await inventory.close();
  });
});
