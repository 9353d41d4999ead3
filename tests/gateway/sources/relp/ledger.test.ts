/**
 * The RELP ledger's memory is bounded by sender address: past `maxPeers` the address committed
 * to least recently is forgotten, in memory and in the state stored with the queue; an address
 * heard from again moves to the recent end; a reload keeps only `maxPeers`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EmitOptions } from '../../../../gateway/pipeline/types.ts';
import { createLedgers, stateKey } from '../../../../gateway/sources/relp/ledger.ts';
import type { PendingEvent } from '../../../../protocols/event/schema.ts';
import type { RelpFrame } from '../../../../protocols/relp/index.ts';
import { recordingContext } from '../support.ts';

function statefulContext() {
  const ctx = recordingContext();
  const state = new Map<string, string>();
  const emit = ctx.emit.bind(ctx);
  return Object.assign(ctx, {
    state,
    async emit(events: PendingEvent[], options?: EmitOptions) {
      await emit(events);
      for (const [k, v] of Object.entries(options?.state ?? {})) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
    },
    readState: async (prefix: string) => new Map([...state].filter(([k]) => k.startsWith(prefix))),
  });
}

const frame = (text: string): RelpFrame =>
  ({ txnr: 1, command: 'syslog', data: Buffer.from(text) }) as unknown as RelpFrame;
const decode = (frames: RelpFrame[]): PendingEvent[] =>
  frames.map((f) => ({ message: Buffer.from(f.data).toString() }) as unknown as PendingEvent);

describe('RELP ledger bounds', () => {
  it('forgets the least recent address past maxPeers, in memory and in the stored state', async () => {
    const ctx = statefulContext();
    const ledgers = createLedgers({ name: 'relp', window: 8, ctx, maxPeers: 3 });
    for (let i = 1; i <= 3; i++)
      await ledgers.for(`10.0.0.${i}`).commit({ checked: 0 }, [frame(`a${i}`)], decode);
    // 10.0.0.1 is heard from again: 10.0.0.2 is now the least recent.
    await ledgers.for('10.0.0.1').commit({ checked: 8 }, [frame('again')], decode);
    for (let i = 4; i <= 100; i++)
      await ledgers.for(`10.0.0.${i}`).commit({ checked: 0 }, [frame(`a${i}`)], decode);
    assert.equal(ledgers.addresses, 3);
    // The forgotten ones' state goes with the next write.
    await ledgers.for('10.0.0.100').commit({ checked: 8 }, [frame('last')], decode);
    assert.deepEqual(
      [...ctx.state.keys()].sort(),
      [stateKey('relp', '10.0.0.98'), stateKey('relp', '10.0.0.99'), stateKey('relp', '10.0.0.100')].sort(),
    );
    assert.equal(ctx.events.length, 102, 'every frame stored');

    // A reload of more addresses than the bound keeps only the bound.
    const again = createLedgers({ name: 'relp', window: 8, ctx, maxPeers: 2 });
    await again.load();
    assert.equal(again.addresses, 2);
  });

  it('still drops a retransmission from an address within the bound', async () => {
    const ctx = statefulContext();
    const ledgers = createLedgers({ name: 'relp', window: 8, ctx, maxPeers: 2 });
    await ledgers.for('10.0.0.1').commit({ checked: 0 }, [frame('x1'), frame('x2')], decode);
    await ledgers.for('10.0.0.2').commit({ checked: 0 }, [frame('y1')], decode);
    // A new session from 10.0.0.1 resends x1 and x2 (their answers were lost).
    const dups = await ledgers
      .for('10.0.0.1')
      .commit({ checked: 0 }, [frame('x1'), frame('x2'), frame('x3')], decode);
    assert.equal(dups, 2);
    assert.equal(ctx.events.length, 4);
  });
});
