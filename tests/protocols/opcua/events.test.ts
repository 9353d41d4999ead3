/**
 * The OPC UA events a rule or the inventory reads: actions, who (client application URI, identity
 * token, user name, security policy and mode), what (node ids, attribute ids, values, methods)
 * and the server's identity (application URI), checked against the values ICSNPP logged for the
 * same trace (expected/basic/opcua_binary_{create_session,activate_session,write,get_endpoints*}
 * .log) and on hand-built exchanges (OPC 10000-4 §5.6.2 CreateSession, §5.6.3 ActivateSession,
 * §5.10.4 Write). Every event is a valid `Event`; the password of a user name token never is in it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Inventory } from '../../../gateway/inventory/index.ts';
import { type Event, parseEvent } from '../../../protocols/event/schema.ts';
import { createOpcuaFlowDecoder, looksLikeOpcuaHello } from '../../../protocols/opcua/index.ts';
import { sharedData } from '../../support/env.ts';
import {
  ack,
  activateSessionRequest,
  chunk,
  createSessionRequest,
  createSessionResponse,
  Enc,
  hello,
  openRequest,
  writeRequest,
  writeResponse,
} from './frames.ts';
import { decodeTrace } from './trace.ts';

const asEvent = (e: object) => ({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });

describe('OPC UA events from the ICSNPP basic trace', () => {
  test('server identity, client application, identity token, writes and calls', (t) => {
    const file = sharedData(t, 'opcua', 'icsnpp', 'open62541_client-server_mainloop.pcap');
    if (!file) return;
    const { events } = decodeTrace(file);
    for (const e of events) assert.ok(parseEvent(asEvent(e)).ok, e.action);
    const one = (action: string, direction = 'request') =>
      events.filter((e) => e.action === action && e.fields.direction === direction);
    // opcua_binary_get_endpoints_description.log: urn:open62541.server.application, policy None.
    const endpoints = one('opcua.get_endpoints', 'response')[0]!;
    assert.equal(endpoints.fields.server_application_uri, 'urn:open62541.server.application');
    assert.deepEqual(endpoints.fields.offered_security_policies, ['None']);
    assert.deepEqual(endpoints.fields.offered_identity_tokens, ['anonymous', 'username']);
    assert.equal(endpoints.device?.protocol_id, 'urn:open62541.server.application');
    assert.equal(endpoints.device?.id, 'opcua:::1:4840');
    // opcua_binary_create_session.log: urn:unconfigured:application.
    const create = one('opcua.create_session')[0]!;
    assert.equal(create.fields.client_application_uri, 'urn:unconfigured:application');
    assert.equal(create.fields.endpoint_url, 'opc.tcp://localhost:4840');
    // opcua_binary_activate_session.log + create_session_user_token.log: user1 with a user name token.
    const activate = one('opcua.activate_session')[0]!;
    assert.equal(activate.fields.identity_token, 'username');
    assert.equal(activate.fields.user_name, 'user1');
    assert.equal(activate.fields.identity_policy_id, 'open62541-username-policy');
    assert.ok(!JSON.stringify(events).includes('"password"'), 'the password is never in an event');
    // opcua_binary_write.log: two writes of ns=1;s=the.answer, attribute 13 (Value).
    const writes = one('opcua.write');
    assert.equal(writes.length, 2);
    for (const w of writes) {
      assert.deepEqual(w.fields.node_ids, ['ns=1;s=the.answer']);
      assert.deepEqual(w.fields.attribute_ids, [13]);
      assert.equal(w.kind, 'security');
      assert.equal(w.fields.client_application_uri, 'urn:unconfigured:application');
      assert.equal(w.fields.user_name, 'user1');
      assert.equal(w.fields.security_policy, 'None');
      assert.equal(w.fields.security_mode, 'None');
    }
    const call = one('opcua.call')[0]!;
    assert.deepEqual(call.fields.method_ids, ['ns=1;i=62541']);
    // 10 Publish responses BadNoSubscription (0x80790000), paired with their requests' frames.
    const bad = one('opcua.publish', 'response').filter((e) => e.fields.status === 'BadNoSubscription');
    assert.equal(bad.length, 10);
    assert.ok(
      bad.every((e) => typeof e.fields.request_frame === 'number' && e.fields.status_code === '0x80790000'),
    );
    assert.deepEqual([...new Set(events.map((e) => e.action))].sort(), [
      'opcua.acknowledge',
      'opcua.activate_session',
      'opcua.add_nodes',
      'opcua.browse',
      'opcua.call',
      'opcua.close_secure_channel',
      'opcua.close_session',
      'opcua.create_monitored_items',
      'opcua.create_session',
      'opcua.create_subscription',
      'opcua.delete_subscriptions',
      'opcua.get_endpoints',
      'opcua.hello',
      'opcua.open_secure_channel',
      'opcua.publish',
      'opcua.read',
      'opcua.write',
    ]);
  });

  test('encrypted channels: the policy is named, bodies are opcua.secured_message', (t) => {
    const file = sharedData(t, 'opcua', 'icsnpp', 'pcaps', 'open62541_client-server_encrypted.pcap');
    if (!file) return;
    const { events } = decodeTrace(file);
    const opn = events.filter((e) => e.action === 'opcua.open_secure_channel');
    // GetEndpoints over None first (discovery, OPC 10000-4 §5.4.4), then the session's channel.
    assert.deepEqual(
      opn.map((e) => e.fields.security_policy),
      ['None', 'None', 'Basic128Rsa15', 'Basic128Rsa15'],
    );
    assert.ok(opn.slice(2).every((e) => e.fields.encrypted === true));
    assert.ok(events.some((e) => e.action === 'opcua.secured_message'));
    assert.ok(!events.some((e) => e.action === 'opcua.write' || e.action === 'opcua.malformed'));
  });
});

describe('OPC UA server identity', () => {
  test('protocol_id is the application URI only, and stays it on later connections', (t) => {
    const file = sharedData(t, 'opcua', 'icsnpp', 'open62541_client-server_mainloop.pcap');
    if (!file) return;
    const APP = 'urn:open62541.server.application';
    const decoder = createOpcuaFlowDecoder();
    const { events } = decodeTrace(file, {}, decoder);
    // The HELs name the endpoint URL opc.tcp://localhost:4840: a field, never the identity.
    assert.ok(events.some((e) => e.fields.endpoint_url === 'opc.tcp://localhost:4840'));
    assert.deepEqual([...new Set(events.map((e) => e.device?.protocol_id))].sort(), [APP, undefined].sort());
    // A later connection to the same server that never asks for its endpoints (HEL, ACK, CLO):
    // its events carry the URI learnt before, whatever URL this client spells.
    const flow = { src: '::1', srcPort: 61_000, dst: '::1', dstPort: 4840 };
    const back = { src: '::1', srcPort: 4840, dst: '::1', dstPort: 61_000 };
    const later = [
      decoder.chunk({
        flow,
        data: hello('opc.tcp://[::1]:4840'),
        gap: false,
        meta: { frame: 1000, ts: new Date(2e12) },
      }),
      decoder.chunk({ flow: back, data: ack(), gap: false, meta: { frame: 1001, ts: new Date(2e12 + 1) } }),
    ].flat();
    assert.deepEqual(
      later.map((e) => [e.action, e.device?.id, e.device?.protocol_id]),
      [
        ['opcua.hello', 'opcua:::1:4840', APP],
        ['opcua.acknowledge', 'opcua:::1:4840', APP],
      ],
    );
    // The inventory keeps one identity from the first URI on.
    const inventory = Inventory.inMemory({ maxDevices: 100 });
    const seen: Array<string | null | undefined> = [];
    for (const e of [...events, ...later]) {
      inventory.observe(asEvent(e) as Event, new Date(e.ts));
      seen.push(inventory.get('opcua:::1:4840')?.protocol_id);
    }
    const first = seen.indexOf(APP);
    assert.ok(first >= 0);
    assert.ok(
      seen.slice(first).every((id) => id === APP),
      JSON.stringify([...new Set(seen)]),
    );
  });
});

describe('OPC UA events from hand-built exchanges', () => {
  const client = { src: '10.0.9.66', srcPort: 50123, dst: '10.0.10.5', dstPort: 4840 };
  const server = { src: '10.0.10.5', srcPort: 4840, dst: '10.0.9.66', dstPort: 50123 };

  function run(exchange: Array<['c' | 's', Uint8Array]>) {
    const d = createOpcuaFlowDecoder();
    return exchange.flatMap(([who, data], i) =>
      d.chunk({
        flow: who === 'c' ? client : server,
        data,
        gap: false,
        meta: { frame: i + 1, ts: new Date(1e12 + i) },
      }),
    );
  }

  test('an anonymous session writing a setpoint: each write says who and how', () => {
    const events = run([
      ['c', hello()],
      ['s', ack()],
      ['c', openRequest()],
      ['c', createSessionRequest(2, 2, 'urn:rogue:client')],
      ['s', createSessionResponse(2, 2, 77)],
      ['c', activateSessionRequest(3, 3, 77)],
      ['c', writeRequest(4, 4, 'pump.setpoint', 99.5, 77)],
      ['s', writeResponse(4, 4, 0x803b0000)],
    ]);
    for (const e of events) assert.ok(parseEvent(asEvent(e)).ok, e.action);
    const write = events.find((e) => e.action === 'opcua.write' && e.fields.direction === 'request')!;
    assert.equal(write.severity, 5);
    assert.deepEqual(write.src, { ip: '10.0.9.66', port: 50123 });
    assert.equal(write.device?.id, 'opcua:10.0.10.5:4840');
    assert.deepEqual(write.fields.values, [99.5]);
    assert.deepEqual(write.fields.node_ids, ['ns=1;s=pump.setpoint']);
    assert.equal(write.fields.identity_token, 'anonymous');
    assert.equal(write.fields.client_application_uri, 'urn:rogue:client');
    assert.equal(write.fields.security_policy, 'None');
    const answer = events.find((e) => e.action === 'opcua.write' && e.fields.direction === 'response')!;
    assert.deepEqual(answer.fields.results, [0x803b0000]);
    assert.equal(answer.fields.request_frame, 7);
    const opn = events.find((e) => e.action === 'opcua.open_secure_channel')!;
    assert.equal(opn.fields.security_mode, 'None');
  });

  test('half-built messages across connections stay within the decoder budget, and say so', () => {
    const budget = 100_000;
    const d = createOpcuaFlowDecoder({ maxHeldBytes: budget });
    const body = new Uint8Array(30_000);
    const part = chunk(
      'MSG',
      Uint8Array.from([...new Enc().u32(3).u32(1).u32(1).u32(1).bytes(), ...body]),
      'C',
    );
    const refused = [];
    for (let port = 40000; port < 40020; port++) {
      const flow = { src: '10.0.9.66', srcPort: port, dst: '10.0.10.5', dstPort: 4840 };
      const events = d.chunk({ flow, data: part, gap: false, meta: { frame: port, ts: new Date(1e12) } });
      refused.push(...events.filter((e) => e.action === 'opcua.malformed'));
      assert.ok(d.stats.held() <= budget, `${d.stats.held()} bytes held`);
    }
    assert.ok(refused.length > 0 && refused.every((e) => e.fields.code === 'message_too_large'));
  });

  test('a HEL opens a stream on any port; other streams are left alone', () => {
    const d = createOpcuaFlowDecoder({ ports: [] });
    const p = { src: '10.0.0.2', srcPort: 40000, dst: '10.0.0.3', dstPort: 48010 };
    assert.ok(looksLikeOpcuaHello(hello()));
    assert.equal(d.wants({ ...p, payload: Uint8Array.of(1, 2, 3) }), false);
    assert.equal(d.wants({ ...p, payload: hello() }), true);
    assert.equal(
      d.wants({ src: p.dst, srcPort: p.dstPort, dst: p.src, dstPort: p.srcPort, payload: ack() }),
      true,
    );
  });

  test('close() frees a connection from either side, its held bytes and its HEL detection with it', () => {
    const d = createOpcuaFlowDecoder({ ports: [], maxConnections: 32 });
    // Half a message (the first chunk 'C' of a MSG): the session holds its body until the end.
    const part = chunk(
      'MSG',
      Uint8Array.from([...new Enc().u32(3).u32(1).u32(1).u32(1).bytes(), 1, 2, 3]),
      'C',
    );
    const toServer = (n: number) => ({
      src: `10.2.${n >> 8}.${n & 255}`,
      srcPort: 41000,
      dst: '10.0.10.5',
      dstPort: 48010,
    });
    const back = (f: ReturnType<typeof toServer>) => ({
      src: f.dst,
      srcPort: f.dstPort,
      dst: f.src,
      dstPort: f.srcPort,
    });
    const meta = { frame: 1, ts: new Date(1e12) };
    for (let n = 0; n < 3000; n++) {
      const f = toServer(n);
      assert.ok(d.wants({ ...f, payload: hello() }));
      for (const [flow, data] of [
        [f, hello()],
        [back(f), ack()],
        [f, openRequest()],
        [f, part],
      ] as const)
        d.chunk({ flow, data, gap: false, meta });
      assert.equal(d.stats.connections(), 1);
      assert.ok(d.stats.held() > 0);
      d.close(n % 2 === 0 ? f : back(f));
      assert.deepEqual([d.stats.connections(), d.stats.held()], [0, 0]);
      // Off the ports, a closed stream is no longer followed until a new HEL opens it.
      assert.equal(d.wants({ ...f, payload: part }), false);
    }
    // Never closed: an attacker's connections stay at the cap.
    for (let n = 0; n < 3000; n++) {
      const f = toServer(n);
      d.wants({ ...f, payload: hello() });
      d.chunk({ flow: f, data: hello(), gap: false, meta });
    }
    assert.equal(d.stats.connections(), 32);
  });
});
