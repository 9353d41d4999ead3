/**
 * The playbook format (protocols/playbook/schema.ts) and its link messages (link SPEC §9), as
 * properties: the schemas and the link decoder never throw on arbitrary input; a criterion added
 * to a match never makes an alert match that did not; an empty match takes every alert; severity
 * is "at least as severe" on the syslog scale; a sub-technique matches its parent; the targets an
 * alert's evidence names do not depend on the events' order and are bounded; every concrete
 * request an action yields is a valid link request; valid commands survive encode/decode.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeLinkMessage, encodeLinkMessage, playbookSetVersion } from '../../../protocols/link/codec.ts';
import {
  type AlertFacts,
  blockRequestSchema,
  edgePart,
  type GatewayAction,
  MAX_CLIENT_IDS_PER_ACTION,
  matchPlaybook,
  type PlaybookMatch,
  playbookSchema,
  requestsFor,
  targetsOf,
} from '../../../protocols/playbook/schema.ts';

const technique = fc.constantFrom('T0812', 'T0836', 'T0855', 'T0855.001', 'T0849', 'T0883');
const factsArb: fc.Arbitrary<AlertFacts> = fc.record({
  rule_id: fc.constantFrom('r1', 'r2', 'r3'),
  severity: fc.integer({ min: 0, max: 7 }),
  techniques: fc.array(technique, { maxLength: 3 }),
  gateway: fc.option(fc.constantFrom('gw-1', 'gw-2'), { nil: null }),
  site: fc.option(fc.constantFrom('north', 'south'), { nil: null }),
});
const matchArb: fc.Arbitrary<PlaybookMatch> = fc.record(
  {
    rule_ids: fc.array(fc.constantFrom('r1', 'r2', 'r3'), { maxLength: 2 }),
    min_severity: fc.integer({ min: 0, max: 7 }),
    techniques: fc.array(fc.constantFrom('T0812', 'T0836', 'T0855'), { maxLength: 2 }),
    gateways: fc.array(fc.constantFrom('gw-1', 'gw-2'), { maxLength: 2 }),
    sites: fc.array(fc.constantFrom('north', 'south'), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const ip = fc.ipV4();
const evidenceArb = fc.array(
  fc.record({
    src_ip: fc.option(fc.oneof(ip, fc.constant('not an ip')), { nil: undefined }),
    client_id: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
  }),
  { maxLength: 80 },
);

describe('playbook format', () => {
  it('never throws on arbitrary input (playbooks, link messages)', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        playbookSchema.safeParse(value);
        blockRequestSchema.safeParse(value);
        for (const type of ['playbooks', 'playbooks_status', 'command', 'command_result']) {
          const r = decodeLinkMessage(
            JSON.stringify(typeof value === 'object' && value ? { ...value, type } : { type, value }),
          );
          assert.equal(typeof r.ok, 'boolean');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('matches monotonically: an empty match takes everything, a criterion added only narrows', () => {
    fc.assert(
      fc.property(factsArb, matchArb, matchArb, (facts, a, b) => {
        assert.equal(matchPlaybook({}, facts), true);
        const both: PlaybookMatch = { ...a, ...b };
        if (matchPlaybook(both, facts)) assert.equal(matchPlaybook(b, facts), true);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads severity on the syslog scale and techniques with their sub-techniques', () => {
    fc.assert(
      fc.property(factsArb, fc.integer({ min: 0, max: 7 }), (facts, min) => {
        assert.equal(matchPlaybook({ min_severity: min }, facts), facts.severity <= min);
      }),
    );
    const facts = { rule_id: 'r', severity: 3, techniques: ['T0855.001'], gateway: null, site: null };
    assert.equal(matchPlaybook({ techniques: ['T0855'] }, facts), true);
    assert.equal(matchPlaybook({ techniques: ['T0855.001'] }, { ...facts, techniques: ['T0855'] }), false);
    // A criterion on the gateway or the site needs the alert to name one.
    assert.equal(matchPlaybook({ gateways: ['gw-1'] }, facts), false);
    assert.equal(matchPlaybook({ sites: ['north'] }, facts), false);
  });

  it('names the same targets whatever the order of the evidence, bounded', () => {
    fc.assert(
      fc.property(
        evidenceArb.chain((e) => fc.tuple(fc.constant(e), fc.shuffledSubarray(e, { minLength: e.length }))),
        ([events, shuffled]) => {
          const t = targetsOf(events);
          assert.deepEqual(targetsOf(shuffled).address, t.address);
          assert.ok(t.clientIds.length <= MAX_CLIENT_IDS_PER_ACTION);
          if (t.address) assert.ok(events.some((e) => e.src_ip === t.address));
          // Within the bound, the ids are the distinct ids seen.
          const distinct = new Set(events.map((e) => e.client_id).filter(Boolean));
          if (distinct.size <= MAX_CLIENT_IDS_PER_ACTION)
            assert.deepEqual(targetsOf(shuffled).clientIds, t.clientIds);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('turns every gateway action into valid link requests, none without a target', () => {
    const action: fc.Arbitrary<GatewayAction> = fc.oneof(
      fc.record({ type: fc.constant('mqtt_block_client' as const) }),
      fc.record({
        type: fc.constant('mqtt_block_address' as const),
        expire_secs: fc.integer({ min: 1, max: 86_400 }),
      }),
      fc.record({ type: fc.constant('modbus_deny_master' as const), source: fc.constant('plc_proxy') }),
      fc.record({ type: fc.constant('modbus_enforce' as const) }),
    );
    fc.assert(
      fc.property(action, evidenceArb, (a, events) => {
        const t = targetsOf(events.map((e) => ({ ...e, client_id: e.client_id?.trim() || undefined })));
        const requests = requestsFor(a, t);
        for (const r of requests) {
          assert.ok(blockRequestSchema.safeParse(r).success, JSON.stringify(r));
          const command = { type: 'command' as const, command_id: 'a-1', op: 'apply' as const, request: r };
          const decoded = decodeLinkMessage(encodeLinkMessage(command));
          assert.ok(decoded.ok, JSON.stringify(decoded));
          assert.deepEqual(decoded.message, command);
        }
        if (a.type === 'mqtt_block_address' || a.type === 'modbus_deny_master')
          assert.equal(requests.length, t.address ? 1 : 0);
        if (a.type === 'modbus_enforce') assert.equal(requests.length, 1);
      }),
      { numRuns: 500 },
    );
  });

  it('pushes only the gateway actions of approval-free, enabled playbooks, named by content', () => {
    const base = playbookSchema.parse({
      id: 'p',
      name: 'p',
      actions: [{ type: 'webhook', sink: 'soar' }, { type: 'mqtt_block_address' }],
    });
    assert.deepEqual(edgePart(base)?.actions, [{ type: 'mqtt_block_address' }]);
    assert.equal(edgePart({ ...base, approval: true }), undefined);
    assert.equal(edgePart({ ...base, enabled: false }), undefined);
    assert.equal(edgePart({ ...base, actions: [{ type: 'open_incident' }] }), undefined);
    const set = [edgePart(base)!];
    const message = { type: 'playbooks' as const, version: playbookSetVersion(set), playbooks: set };
    const decoded = decodeLinkMessage(encodeLinkMessage(message));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.message, message);
    assert.notEqual(playbookSetVersion([]), message.version);
  });
});
