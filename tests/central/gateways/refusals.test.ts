/**
 * The refusal aggregator (central/gateways/refusals.ts) on its own: rows per interval stay
 * bounded by the tracked addresses whatever the number of refusals and addresses, and the
 * counts of the rows always add up to the refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { CentralEventInput } from '../../../central/events.ts';
import { createRefusals, type RefusalInput } from '../../../central/gateways/refusals.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';

function harness(maxAddresses: number) {
  const stored: CentralEventInput[] = [];
  const refusals = createRefusals({
    centralEvents: {
      raise: async (input) => {
        stored.push(input);
        return undefined;
      },
    },
    metrics: createCentralMetrics({ processMetrics: false }),
    logger: pino({ level: 'silent' }),
    intervalMs: 3_600_000,
    maxAddresses,
  });
  const refusal = (reason: string): RefusalInput => ({
    kind: 'security',
    action: 'central.link_auth_failure',
    severity: 4,
    message: 'refused',
    fields: { reason, claimed_gateway: 'gw-x' },
  });
  const total = () => stored.reduce((n, e) => n + (e.fields?.count as number), 0);
  return { stored, refusals, refusal, total };
}

describe('refusal aggregation', () => {
  it('stores the first refusal per address and reason at once, the rest as one summary per interval', async () => {
    const { stored, refusals, refusal, total } = harness(100);
    for (let i = 0; i < 50; i += 1) await refusals.refuse('10.0.0.1', refusal('bad_proof'));
    await refusals.refuse('10.0.0.1', refusal('revoked'));
    assert.equal(stored.length, 2, 'one row per (address, reason) until the interval ends');
    await refusals.flush();
    assert.equal(stored.length, 3);
    const summary = stored[2]!;
    assert.deepEqual(summary.src, { ip: '10.0.0.1' });
    assert.equal(summary.fields?.count, 49);
    assert.equal(summary.fields?.reason, 'bad_proof');
    assert.equal(total(), 51);
    // A new interval: the next refusal is stored at once again.
    await refusals.refuse('10.0.0.1', refusal('bad_proof'));
    assert.equal(stored.length, 4);
    await refusals.stop();
  });

  it('tracks at most maxAddresses keys; further addresses share one overflow summary', async () => {
    const { stored, refusals, refusal, total } = harness(3);
    for (let a = 0; a < 1000; a += 1) {
      for (let n = 0; n < 5; n += 1) await refusals.refuse(`10.1.${a >> 8}.${a & 255}`, refusal('bad_proof'));
    }
    assert.equal(stored.length, 3, 'only the tracked addresses got a row of their own');
    await refusals.stop();
    assert.equal(stored.length, 3 + 3 + 1, 'three summaries and one overflow summary');
    const overflow = stored.at(-1)!;
    assert.equal(overflow.src, undefined);
    assert.equal(overflow.fields?.count, 997 * 5);
    assert.equal(total(), 5000);
  });
});
