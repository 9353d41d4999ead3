/**
 * The OPC UA rules (rules/ics/opcua-*.yml) on real captures: every ICSNPP OPC UA trace decoded by
 * protocols/opcua's stream decoder (the path a passive capture takes) and run through the whole
 * shipped rule set (rules/ics) by the capture's clock. What each trace raises is listed exactly:
 * the ICSNPP traces are tutorial clients on servers left open on purpose (SecurityPolicy None,
 * anonymous sessions, a user's writes with no filter of known clients), which is what the access
 * and change rules are for; the encrypted and discovery-only traces raise nothing, and no trace
 * (at most 23 Browse requests a minute, one node each) is a browse sweep.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadDetection } from '../../gateway/detection/index.ts';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import type { SigmaAlert } from '../../protocols/sigma/index.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';
import { decodeTrace } from '../protocols/opcua/trace.ts';

const NONE = 'OPC UA session over a channel without security (SecurityPolicy None)';
const ANON = 'OPC UA session activated anonymously';
const CHANGE = 'OPC UA write or method call from a client not listed for this server';

/** The user1 sessions of open62541's tutorial client: None, then Write, Call and AddNodes. */
const MAINLOOP = [CHANGE, NONE];

const TRACES: Record<string, string[]> = {
  'open62541_client-server_mainloop': MAINLOOP,
  'open62541_client-server_mainloop-no-handshake': [CHANGE], // no OPN: the policy is unknown
  'open62541_client-server_mainloop-not-localhost-non-standard-port': MAINLOOP,
  'opcua_with-gap': [ANON, NONE],
  'opcua_with-gap_with-handshake': [ANON, CHANGE, NONE],
  pending_overflow: [],
  'pcaps/open62541_browse_has_server_idx': [ANON, NONE],
  'pcaps/open62541_browse_request_with_results': [ANON, NONE],
  'pcaps/open62541_client-server-getEndpoints': [],
  'pcaps/open62541_client-server_encrypted': [],
  'pcaps/open62541_client-server_mainloop': MAINLOOP,
  'pcaps/open62541_discover_getendpoints_discover_urls': [],
  'pcaps/open62541_read_service_test_data': [NONE],
  'pcaps/python_opcua-client-server_encrypted': [],
  'pcaps/python_opcua-client-server_minimal': [ANON, NONE],
};

describe('OPC UA rules on the ICSNPP captures', () => {
  for (const [name, expected] of Object.entries(TRACES)) {
    it(`${name}: ${expected.length === 0 ? 'silent' : expected.join('; ')}`, (t) => {
      const file = sharedData(t, 'opcua', 'icsnpp', ...`${name}.pcap`.split('/'));
      if (!file) return;
      const loaded = loadDetection({ rulesDirs: [path.join(REPO_ROOT, 'rules', 'ics')] });
      assert.deepEqual(loaded.errors, []);
      const engine = loaded.engine;
      const alerts: SigmaAlert[] = [];
      let seq = 0;
      for (const pending of decodeTrace(file).events) {
        seq += 1;
        const event: Event = { v: EVENT_SCHEMA_VERSION, id: `gw:${seq}`, gateway: 'gw', seq, ...pending };
        alerts.push(...engine.process(event, Date.parse(event.ts)));
      }
      alerts.push(...engine.flush());
      const fired = [...new Set(alerts.filter((a) => a.level !== 'informational').map((a) => a.rule.title))];
      assert.deepEqual(fired.sort(), [...expected].sort());
    });
  }
});
