/**
 * The cluster bus's splitting of a rule push over NOTIFY payloads (central/cluster/bus.ts):
 * whatever the gateway ids, every id is sent once, in order, and every message fits the limit
 * PostgreSQL puts on a NOTIFY payload.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { chunkGateways, MAX_PAYLOAD_BYTES } from '../../../central/cluster/bus.ts';

const gatewayId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);

it('splits gateway ids into rules_push messages that each fit a NOTIFY payload, losing none', () => {
  fc.assert(
    fc.property(fc.array(gatewayId, { maxLength: 2000 }), (ids) => {
      const chunks = chunkGateways(ids);
      assert.deepEqual(chunks.flat(), ids);
      for (const chunk of chunks) {
        assert.ok(chunk.length > 0);
        const payload = JSON.stringify({ type: 'rules_push', gateways: chunk, from: 'x'.repeat(64) });
        assert.ok(Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES, `${Buffer.byteLength(payload)} bytes`);
      }
    }),
  );
});

it('keeps a small push in one message', () => {
  assert.deepEqual(chunkGateways(['gw-1', 'gw-2']), [['gw-1', 'gw-2']]);
  assert.deepEqual(chunkGateways([]), []);
});
