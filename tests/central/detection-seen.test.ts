/**
 * Central's detection handles each stored event once (central/detection.ts): a batch stored again
 * (a gateway re-sending after a lost ack) neither raises an edge alert twice nor runs central's
 * rules over its events twice, whether or not central runs rules of its own; events that need
 * nothing (no central rule runs) are not kept among the ids seen, so rules loaded later still see
 * them once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Alerts } from '../../central/alerts/index.ts';
import type { AlertInput } from '../../central/alerts/types.ts';
import { createCentralDetection } from '../../central/detection.ts';
import { encodeAlertEvent } from '../../protocols/event/alert.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { LOGIN_FAILURE, storedEvent } from '../support/stored-event.ts';

const RULE = `title: Test central rule
id: 0d7b2a61-0c8e-4d4b-9d52-5c1f1c2d3e01
status: stable
logsource:
  product: syslog
detection:
  selection:
    action: syslog.login_failure
  condition: selection
level: high
`;

let seq = 0;
function stored(pending: object): Event {
  seq += 1;
  return storedEvent(pending, { seq });
}

function loginFailure(ts: string): Event {
  return stored({ ts, received: ts, ...LOGIN_FAILURE, host: `plc-${seq}` });
}

function setUp() {
  const raised: AlertInput[] = [];
  const detection = createCentralDetection({
    rulesDirs: [],
    alertWindowMs: 0,
    alerts: () => ({ raise: async (input: AlertInput) => void raised.push(input) }) as unknown as Alerts,
    logger: pino({ level: 'silent' }),
  });
  return { raised, detection };
}

describe('central detection sees each stored event once', () => {
  it('raises an edge alert once when its batch is stored again', async () => {
    const { raised, detection } = setUp();
    const now = new Date();
    const alert = stored(
      encodeAlertEvent(
        {
          id: 'a-1',
          kind: 'new',
          rule: { id: 'rule-1', title: 'Unknown Modbus master', type: 'detection' },
          level: 'high',
          severity: 3,
          techniques: ['T0855'],
          tactics: [],
          entity: { key: 'plc-1', device: 'modbus:plc-1' },
          event_ids: ['gw-1:10'],
          count: 1,
          first_ms: now.getTime(),
          last_ms: now.getTime(),
        },
        now,
      ),
    );
    detection.onStored([alert]);
    detection.onStored([structuredClone(alert)]);
    await detection.stop();
    assert.equal(raised.length, 1);
  });

  it('runs central rules once over an event stored again', async () => {
    const { raised, detection } = setUp();
    assert.deepEqual(detection.replace([RULE]), []);
    const ts = new Date().toISOString();
    const events = [loginFailure(ts), loginFailure(ts)];
    detection.onStored(events);
    detection.onStored(events.map((e) => structuredClone(e)));
    await detection.stop();
    assert.equal(raised.length, 2);
    assert.deepEqual(
      raised.map((a) => a.entity.host),
      events.map((e) => e.host),
    );
  });

  it('an event stored while no central rule ran is seen by rules loaded later, once', async () => {
    const { raised, detection } = setUp();
    const event = loginFailure(new Date().toISOString());
    detection.onStored([event]);
    await detection.consume([]);
    assert.deepEqual(detection.replace([RULE]), []);
    detection.onStored([structuredClone(event)]);
    detection.onStored([structuredClone(event)]);
    await detection.stop();
    assert.equal(raised.length, 1);
  });
});
